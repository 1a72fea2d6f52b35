"""The cyclic garbage collector's thresholds in a doit process, set before the engine loads.

A run holds a few objects per job for its whole length (recipes, task dicts, doit's tasks, the
stamps it read): at Python's defaults (700, 10, 10) the collector rescans them over and over, a
third of the CPU of a no-op run of 1000 recipes. Importing the engine itself (a few hundred
classes and functions that live as long as the process) set off collections too: dodo.py calls
``quiet_gc`` before it imports anything of the engine, so this module imports nothing.
Cycles are still collected, only less often.

At exit the collector's last pass would scan every object the run made and loaded (10-20 ms
of a cold build's process): ``gc.freeze`` as the last exit handler moves them out of its
reach. Nothing of the engine relies on a collection at exit: results are written, closed and
renamed before a stage returns, and the handlers registered later (doit's, tempfile's, the
stamp index's) run before it.
"""
import atexit
import gc

GC_THRESHOLDS = (100_000, 20, 20)


def quiet_gc() -> None:
    """Make the collector run less often in this process (see GC_THRESHOLDS), and not at exit."""
    gc.set_threshold(*GC_THRESHOLDS)
    atexit.register(gc.freeze)
