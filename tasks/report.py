"""`doit report`: where the time of the last build went, and the recipe graph as a picture.

Writes into ``cache/report/`` (``Layout.report_dir``):

- ``timeline.png``: one bar per stage run of the last build (tasks/runlog.py), on as few
  lanes as the runs need; the critical path in red, failed runs hatched;
- ``trace.json``: the same as a Chrome trace (chrome://tracing, ui.perfetto.dev); critical
  runs carry ``"critical": true`` and the ``critical`` category;
- ``slowest.txt``: the slowest stages (wall, CPU, peak memory), also printed;
- ``graph.svg``/``graph.png``: recipes and what they need (Graphviz ``dot``), coloured by
  state: up to date, to run, failed.

The critical path is the chain that ends with the run that finished last, going back each
time to the upstream run (of this build) that finished last before it started: the runs
that made the build as long as it was.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from .errors import CondoitError
from .judge import job_states
from .paths import Layout
from .plan import Plan
from .runlog import Run, last_build, read_runs

COLOURS = {"current": "#8fd18f", "stale": "#f5c26b", "failed": "#e8706b"}
LABELS = {"current": "up to date", "stale": "to run", "failed": "failed"}


@dataclass(frozen=True)
class Timeline:
    runs: tuple[Run, ...]
    lanes: tuple[int, ...]          # lane of each run
    critical: frozenset[str]        # tasks on the critical path


def upstream_tasks(jobs: Sequence[tuple[Any, Any, Any]]) -> dict[str, list[str]]:
    """task -> the tasks of its declared upstream results."""
    out: dict[str, list[str]] = {}
    for stage, ref, ctx in jobs:
        target = ctx.plan.target   # the run's target: tasks off it are named stage:recipe@platform
        recipe = ctx.stack.recipe(ref.recipe) if ref.recipe else None
        out[ref.task(target)] = [up.task(target) for up in stage.upstream(recipe, ctx)]
    return out


def critical_path(runs: Sequence[Run], upstream: Mapping[str, list[str]]) -> list[str]:
    """Tasks of the critical path, first to last (see the module's doc)."""
    if not runs:
        return []
    by_task = {r.task: r for r in runs}
    path = []
    current: Run | None = max(runs, key=lambda r: r.end)
    while current is not None:
        path.append(current.task)
        before = [by_task[t] for t in upstream.get(current.task, []) if t in by_task
                  and by_task[t].end <= current.start + 1e-3 and by_task[t].task not in path]
        current = max(before, key=lambda r: r.end) if before else None
    return path[::-1]


def lay_out(runs: Sequence[Run], upstream: Mapping[str, list[str]]) -> Timeline:
    """Runs by start time, each on the first lane free when it starts."""
    ordered = sorted(runs, key=lambda r: (r.start, r.task))
    free_at: list[float] = []
    lanes = []
    for run in ordered:
        lane = next((i for i, end in enumerate(free_at) if end <= run.start), len(free_at))
        if lane == len(free_at):
            free_at.append(run.end)
        free_at[lane] = run.end
        lanes.append(lane)
    return Timeline(tuple(ordered), tuple(lanes), frozenset(critical_path(ordered, upstream)))


def chrome_trace(timeline: Timeline) -> dict[str, Any]:
    """The Chrome trace-event form (complete events, microseconds from the build's start)."""
    t0 = min((r.start for r in timeline.runs), default=0.0)
    events = []
    for run, lane in zip(timeline.runs, timeline.lanes):
        critical = run.task in timeline.critical
        events.append({"name": run.task, "cat": "critical" if critical else "stage", "ph": "X",
                       "ts": round((run.start - t0) * 1e6), "dur": round(run.seconds * 1e6), "pid": 1, "tid": lane,
                       "args": {"cpu_seconds": run.cpu, "peak_rss_kib": run.peak_rss_kib, "ok": run.ok,
                                "critical": critical}})
    meta = [{"name": "thread_name", "ph": "M", "pid": 1, "tid": lane, "args": {"name": f"lane {lane}"}}
            for lane in sorted(set(timeline.lanes))]
    return {"traceEvents": meta + events, "displayTimeUnit": "ms"}


def slowest_table(runs: Sequence[Run], limit: int = 15) -> str:
    rows = sorted(runs, key=lambda r: -r.seconds)[:limit]
    lines = [f"{'stage':40} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9}  result"]
    lines += [f"{r.task:40} {r.seconds:8.1f} {r.cpu:8.1f} {r.peak_rss_kib / 1024:9.0f}  {'ok' if r.ok else 'FAILED'}"
              for r in rows]
    return "\n".join(lines)


def draw_timeline(timeline: Timeline, path: Path) -> None:
    """One row per recipe, one bar per stage run coloured by stage; the critical path
    outlined in red, failed runs hatched. Stage names are written in bars wide enough."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    runs = timeline.runs
    t0 = min((r.start for r in runs), default=0.0)
    total = max((r.end for r in runs), default=t0) - t0
    rows = list(dict.fromkeys(r.task.partition(":")[2] or r.task for r in runs))
    stages = list(dict.fromkeys(r.task.partition(":")[0] for r in runs))
    palette = [plt.get_cmap("tab10")(i) for i in (0, 1, 2, 4, 5, 6, 7, 8, 9)]   # no red: red marks the path
    colour = {stage: palette[i % len(palette)] for i, stage in enumerate(stages)}
    fig, ax = plt.subplots(figsize=(12, 1.6 + 0.45 * len(rows)))
    for run in runs:
        stage, _, name = run.task.partition(":")
        row = rows.index(name or run.task)
        critical = run.task in timeline.critical
        ax.broken_barh([(run.start - t0, max(run.seconds, total / 2000 or 0.001))], (row - 0.35, 0.7),
                       facecolors=colour[stage], edgecolor="#d00000" if critical else "black",
                       linewidth=2.0 if critical else 0.4, hatch=None if run.ok else "//")
        if run.seconds > total * 0.06:
            ax.text(run.start - t0 + run.seconds / 2, row, stage, va="center", ha="center", fontsize=7, clip_on=True)
    ax.set_xlim(0, max(total, 0.01) * 1.01)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(rows)
    ax.set_xlabel("seconds since the build started (red outline: critical path; hatched: failed)")
    ax.set_title(f"last build: {len(runs)} stage run(s), {total:.1f} s")
    ax.legend(handles=[Patch(facecolor=colour[s], label=s) for s in stages], fontsize=7,
              loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def graph_dot(plan: Plan, colours: Mapping[tuple[str, str], str]) -> str:
    """The recipe graph in Graphviz's language: one node per (recipe, platform), an edge to what it needs."""
    def label(node: tuple[str, str]) -> str:
        return node[0] if node[1] == plan.target else f"{node[0]}@{node[1]}"

    lines = ["digraph recipes {", '  rankdir=LR; node [shape=box, style="rounded,filled", fontname="Helvetica"];']
    for node in plan.nodes:
        state = colours.get(node, "stale")
        lines.append(f'  "{label(node)}" [fillcolor="{COLOURS[state]}", tooltip="{LABELS[state]}"];')
    for node in plan.nodes:
        for dep in plan.needs.get(node, ()):
            lines.append(f'  "{label(node)}" -> "{label(dep)}";')
    lines.append('  subgraph cluster_legend { label="state"; fontname="Helvetica";')
    for state, colour in COLOURS.items():
        lines.append(f'    "legend {state}" [label="{LABELS[state]}", fillcolor="{colour}", shape=note];')
    lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def node_colours(jobs: Sequence[tuple[Any, Any, Any]], plan: Plan, runs: Sequence[Run]) -> dict[tuple[str, str], str]:
    """current / stale / failed per (recipe, platform): failed when a job of it is stale and its
    last recorded run failed."""
    last: dict[str, Run] = {}
    for run in runs:
        last[run.task] = run
    out: dict[tuple[str, str], str] = {}
    for state in job_states(jobs):
        nodes = [(state.recipe, state.platform)] if state.platform else \
            [n for n in plan.nodes if n[0] == state.recipe]
        failed = state.stale and state.task in last and not last[state.task].ok
        for node in nodes:
            now = out.get(node, "current")
            if failed or now == "failed":
                out[node] = "failed"
            elif state.stale:
                out[node] = "stale"
            else:
                out[node] = now
    return out


def draw_graph(dot_text: str, directory: Path) -> list[Path]:
    dot = shutil.which("dot")
    if dot is None:
        raise CondoitError("`doit report` draws the recipe graph with Graphviz's `dot`, which is not installed "
                           "(`apt-get install graphviz`, or run `bash scripts/setup.sh`)")
    (directory / "graph.dot").write_text(dot_text)
    made = []
    for fmt in ("svg", "png"):
        out = directory / f"graph.{fmt}"
        proc = subprocess.run([dot, f"-T{fmt}", "-o", str(out), str(directory / "graph.dot")],
                              capture_output=True, text=True)
        if proc.returncode:
            raise CondoitError(f"`dot -T{fmt}` failed on {directory / 'graph.dot'}: {proc.stderr.strip()}")
        made.append(out)
    return made


def write_report(jobs: Sequence[tuple[Any, Any, Any]], plan: Plan, layout: Layout) -> None:
    """doit action of ``report``: write the files above and print the slowest stages."""
    from doit.exceptions import TaskFailed
    directory = layout.report_dir
    directory.mkdir(parents=True, exist_ok=True)
    every = read_runs(layout.run_log)
    runs = last_build(every)
    try:
        made = draw_graph(graph_dot(plan, node_colours(jobs, plan, every)), directory)
    except CondoitError as exc:
        return TaskFailed(str(exc))
    if runs:
        timeline = lay_out(runs, upstream_tasks(jobs))
        (directory / "trace.json").write_text(json.dumps(chrome_trace(timeline), indent=1))
        draw_timeline(timeline, directory / "timeline.png")
        table = slowest_table(runs)
        (directory / "slowest.txt").write_text(table + "\n")
        made += [directory / "timeline.png", directory / "trace.json", directory / "slowest.txt"]
        crit = [r for r in timeline.runs if r.task in timeline.critical]
        print(table)
        print(f"critical path ({sum(r.seconds for r in crit):.1f} s): {' -> '.join(r.task for r in crit)}")
    else:
        print(f"no stage run is recorded in {layout.run_log} yet: no timeline (run a build first)")
    for path in made:
        print(f"wrote {path}")
    return None
