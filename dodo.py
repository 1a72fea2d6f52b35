"""condoit: `doit build:<recipe>`, `doit list`. The engine lives in tasks/."""
from tasks.taskgen import build_tasks, doit_config, hold_lock_for_writes, render_tasks, stage_tasks

DOIT_CONFIG = doit_config()
hold_lock_for_writes()


def task_render():
    """write the rendered recipe (like `conda render`) and print its path"""
    yield from render_tasks()


def task_download():
    """fetch sources into the content-addressed download cache"""
    yield from stage_tasks("download")


def task_extract():
    """unpack sources into a pristine tree"""
    yield from stage_tasks("extract")


def task_patch():
    """copy the pristine tree and apply the recipe's patches"""
    yield from stage_tasks("patch")


def task_compile():
    """run build.sh into the padded host prefix"""
    yield from stage_tasks("compile")


def task_package():
    """make the conda package from the files the build installed"""
    yield from stage_tasks("package")


def task_index():
    """add the package to the local channel's repodata"""
    yield from stage_tasks("index")


def task_test():
    """install the package into a fresh prefix and run the recipe's tests"""
    yield from stage_tasks("test")


def task_build():
    """build a recipe and everything it needs into the indexed local channel"""
    yield from build_tasks()
