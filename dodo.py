"""condoit: `doit build:<recipe>`, `doit list`. The engine lives in tasks/ (tasks/engine.py).

Importing this file loads the settings from doit's variables and nothing else; the stack
is rendered, and the cache locked, when doit asks for the tasks.
"""
import sys

from tasks.gcquiet import quiet_gc

quiet_gc()      # before the engine's imports (tasks/gcquiet.py)

from tasks.interrupt import exit_on_interrupt  # noqa: E402

exit_on_interrupt()     # Ctrl-C: a line per unfinished stage, no traceback (tasks/interrupt.py)

from tasks.dataclass_code import use_compiled_dataclass_code  # noqa: E402

use_compiled_dataclass_code()   # the methods of its dataclasses come compiled (tasks/dataclass_code.py)

from tasks.taskgen import all_tasks, doit_config, engine_from_doit  # noqa: E402

ENGINE = engine_from_doit(sys.argv)
DOIT_CONFIG = doit_config(ENGINE, sys.argv)


def task_condoit():
    """every task: render, one group per stage (tasks/stages/__init__.py), build"""
    yield from all_tasks(ENGINE, sys.argv)
