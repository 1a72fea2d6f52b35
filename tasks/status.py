"""`doit status`: one row per recipe of the stack, from its stamps and its packages.

Columns: version, build string, stages up to date (of its own jobs), when it last finished a
stage, the size of its packages, the highest GLIBC_ symbol version they need (read from the
packages, tasks/glibc_report.py), and the test result.
"""
from __future__ import annotations

import time
from typing import Any, Sequence

from .fsutil import size_text
from .judge import job_states
from .paths import Layout
from .plan import Plan
from .progress import clock
from .running import running_jobs
from .runlog import Run, read_runs
from .stamps import read_stamp


def status_rows(jobs: Sequence[tuple[Any, Any, Any]], plan: Plan, layout: Layout) -> list[dict[str, str]]:
    from .glibc_report import package_floor
    from .relocate.elf import version_key
    states = {s.task: s for s in job_states(jobs)}
    last_run: dict[str, Run] = {r.task: r for r in read_runs(layout.run_log)}
    running = running_jobs(jobs, {task for task, s in states.items() if s.stale}, layout, last_run)
    rows = []
    for name, platform in plan.nodes:
        own = [(stage, ref, ctx) for stage, ref, ctx in jobs
               if ref.recipe == name and ref.platform in ("", platform)]
        if not own:
            continue
        ctx = next(c for _s, r, c in own if r.platform == platform) if any(r.platform for _s, r, _c in own) \
            else own[0][2]
        target = ctx.plan.target   # the run's target: tasks off it are named stage:recipe@platform
        recipe = ctx.stack.recipe(name)
        current = sum(1 for _s, ref, _c in own if not states[ref.task(target)].stale)
        finished, build, size, floor, test = 0.0, "-", 0, "-", "not run"
        for stage, ref, jctx in own:
            stamp = read_stamp(jctx.stamp_path(ref))
            if stamp is None:
                continue
            finished = max(finished, float(stamp.get("finished", 0.0)))
            if stage.name == "package":
                packages = stamp.get("result", {}).get("packages", [])
                build = ",".join(dict.fromkeys(p.get("build", "-") for p in packages)) or "-"
                floors = []
                for p in packages:
                    archive = jctx.layout.channel_subdir(p["subdir"]) / p["archive"]
                    if archive.is_file():
                        size += archive.stat().st_size
                        found = package_floor(archive)
                        if found.floor is not None:
                            floors.append(found.floor)
                if floors:
                    floor = max(floors, key=lambda f: version_key(f.version)).version
        test_task = next((ref.task(target) for s, ref, _c in own if s.name == "test"), None)
        if test_task is not None:
            run = last_run.get(test_task)
            if test_task in states and not states[test_task].stale:
                test = "passed"
            elif run is not None and not run.ok:
                test = "FAILED"
            elif states.get(test_task) is not None and states[test_task].state != "new":
                test = "passed (stale)"
        failed = [task for _s, ref, _c in own if states[task := ref.task(target)].stale
                  and task in last_run and not last_run[task].ok]
        label = name if platform == plan.target else f"{name}@{platform}"
        now = [f"{task.split(':')[0]} running {clock(time.time() - running[task])}"
               for _s, ref, _c in own if (task := ref.task(target)) in running]
        rows.append({"recipe": label, "version": recipe.version, "build": build,
                     "stages": f"{current}/{len(own)}" + ("" if current == len(own) else
                                                           f" ({', '.join(now)})" if now else
                                                           f" ({failed[0]} failed)" if failed else " (to run)"),
                     "last build": time.strftime("%Y-%m-%d %H:%M", time.localtime(finished)) if finished else "never",
                     "size": size_text(size) if size else "-", "glibc": floor, "test": test})
    return rows


def table(rows: list[dict[str, str]]) -> str:
    if not rows:
        return "(no recipe)"
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns)]
    lines += ["  ".join(r[c].ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def print_status(jobs: Sequence[tuple[Any, Any, Any]], plan: Plan, layout: Layout) -> None:
    """doit action of ``status``."""
    print(table(status_rows(jobs, plan, layout)))
