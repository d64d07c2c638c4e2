"""A report's timeline as a PNG chart (extra ``charts``: matplotlib), imported only when a chart is drawn.

    from aiohttp_retry.report.chart import write_chart

    write_chart(report, "retries.png")

Two panels share the time axis (seconds since the report was made): above,
the p50 and p99 call durations per second of the busiest endpoints; below,
the calls that ended each second, those that succeeded stacked under those
that gave up, over all endpoints.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp_retry.report.report import Report
    from aiohttp_retry.report.stats import SlotStats

__all__ = ["write_chart"]


def _outcomes(timeline: dict[str, list[SlotStats]]) -> tuple[list[int], list[int], list[int]]:
    """Seconds, and the successes and give-ups of all endpoints in each."""
    successes: dict[int, int] = {}
    gave_up: dict[int, int] = {}
    for slots in timeline.values():
        for slot in slots:
            successes[slot.second] = successes.get(slot.second, 0) + slot.successes
            gave_up[slot.second] = gave_up.get(slot.second, 0) + slot.gave_up
    seconds = sorted(successes)
    return seconds, [successes[s] for s in seconds], [gave_up[s] for s in seconds]


def write_chart(
    report: Report,
    path: str | os.PathLike[str],
    *,
    endpoints: int = 6,
    title: str = "aiohttp_retry: calls per second",
    size: tuple[float, float] = (10.0, 6.5),
    dpi: int = 100,
) -> Path:
    """Draw ``report``'s timeline to a PNG file at ``path``; returns the path.

    ``endpoints`` is how many endpoints, busiest first, get latency lines.
    Matplotlib renders off-screen (its Agg canvas) and no global state of
    pyplot is touched, so this is safe in a program that has windows open.

    Raises:
        ImportError: matplotlib is not installed.
        ValueError: ``endpoints`` is not an integer >= 1.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415 - optional extra, loaded on use
        from matplotlib.figure import Figure  # noqa: PLC0415
    except ImportError as missing:
        msg = "write_chart needs the 'charts' extra: pip install 'aiohttp_retry[charts]'"
        raise ImportError(msg) from missing
    if isinstance(endpoints, bool) or not isinstance(endpoints, int) or endpoints < 1:
        msg = f"endpoints must be an integer >= 1, got {endpoints!r}"
        raise ValueError(msg)

    timeline = report.timeline()
    figure = Figure(figsize=size, dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    latency, outcomes = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    figure.suptitle(title)

    drawn = 0
    for name, slots in timeline.items():
        measured = [slot for slot in slots if slot.calls]
        if not measured:
            continue
        if drawn == endpoints:
            break
        drawn += 1
        seconds = [slot.second + 0.5 for slot in measured]  # mid-second, over the bars below
        (line,) = latency.plot(seconds, [(slot.p50 or 0.0) * 1000 for slot in measured], label=f"{name} p50")
        latency.plot(
            seconds,
            [(slot.p99 or 0.0) * 1000 for slot in measured],
            linestyle="--",
            color=line.get_color(),
            label=f"{name} p99",
        )
    latency.set_ylabel("call duration (ms)")
    latency.set_title("latency per endpoint: p50 (solid), p99 (dashed)", fontsize="medium")
    latency.grid(visible=True, alpha=0.3)
    if drawn:
        latency.legend(fontsize="small", loc="upper left")
    else:
        latency.text(0.5, 0.5, "no calls yet", ha="center", va="center", transform=latency.transAxes)

    ends, successes, gave_up = _outcomes(timeline)
    outcomes.bar(ends, successes, width=1.0, align="edge", color="tab:green", label="succeeded")
    outcomes.bar(ends, gave_up, width=1.0, align="edge", bottom=successes, color="tab:red", label="gave up")
    outcomes.set_xlabel("seconds since the report started")
    outcomes.set_ylabel("calls ended")
    outcomes.set_title("outcomes, all endpoints", fontsize="medium")
    outcomes.grid(visible=True, alpha=0.3)
    outcomes.legend(fontsize="small", loc="upper left")

    target = Path(path)
    figure.savefig(target, format="png")
    return target
