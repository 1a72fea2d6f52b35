"""condoit: conda-build recipes compiled into an incremental doit task graph."""
