"""The demo's entry point: run the scenarios, show them live or line by line, then tables, verdicts and files."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from aiohttp_retry.demo.live import LiveView, rich_available, rich_tables
from aiohttp_retry.demo.output import (
    CHART_MISSING,
    PlainLines,
    as_json,
    header,
    hints,
    installed,
    plain_tables,
    verdict,
    write_line,
)
from aiohttp_retry.demo.run import Watcher, run_demo
from aiohttp_retry.demo.scenarios import scenario_names

__all__ = ["main"]


def main(
    requests: int = 300,
    seed: int = 7,
    scenarios: Iterable[str] | None = None,
    *,
    chart: str | None = None,
    json_path: str | None = None,
    live: bool | None = None,
    console: Any = None,
) -> int:
    """Run the demo and print the comparison; return the exit status.

    Args:
        requests: calls per client in each scenario.
        seed: seed of the server's faults and of the library's jitter.
        scenarios: names to run (``"all"`` for all); default all.
        chart: a PNG path for the chart of the library client's report (needs matplotlib).
        json_path: a path for every figure as JSON.
        live: show the ``rich`` live view; default when stdout is a terminal and rich is installed.
            Without rich, plain lines are printed whatever this says.
        console: the ``rich.console.Console`` of the live view; default a new one on stdout.

    Returns 2 (and runs nothing) when ``chart`` is given without matplotlib; 1 when a file cannot be written.

    Raises:
        ValueError: ``requests`` is below 1, or a scenario name is unknown.
    """
    names = scenario_names(scenarios)
    if requests < 1:
        msg = f"requests must be an integer >= 1, got {requests!r}"
        raise ValueError(msg)
    if chart is not None and not installed("matplotlib"):
        sys.stderr.write(f"{CHART_MISSING}\n")
        return 2
    watcher: Watcher
    view: LiveView | None = None
    if (sys.stdout.isatty() if live is None else live) and rich_available():
        watcher = view = LiveView(console)
        shown = view.console

        def write(text: str) -> None:
            shown.print(text, markup=False, highlight=False)

    else:
        write = write_line
        watcher = PlainLines(write)
    write(header(names, requests, seed))
    results = asyncio.run(run_demo(requests, seed, names, watcher=watcher))
    if view is None:
        write(f"\n{plain_tables(results)}")
    else:
        for block in rich_tables(results):
            shown.print(block)
        write("\nWhat the library changed:\n" + "\n".join(f"  {verdict(result)}" for result in results.values()))
    status = _write_files(results, requests, seed, chart, json_path, write)
    extra = hints(chart=chart is not None, json=json_path is not None)
    if extra:
        write("\n" + "\n".join(extra))
    return status


def _write_files(
    results: dict[str, Any],
    requests: int,
    seed: int,
    chart: str | None,
    json_path: str | None,
    write: Callable[[str], None],
) -> int:
    """Write the JSON figures and the chart that were asked for; 1 if one could not be written."""
    status = 0
    if json_path is not None:
        try:
            Path(json_path).write_text(json.dumps(as_json(results, requests, seed), indent=2) + "\n")
        except OSError as error:
            sys.stderr.write(f"could not write {json_path}: {error}\n")
            status = 1
        else:
            write(f"\nWrote every figure to {json_path}.")
    if chart is not None and results:
        from aiohttp_retry.report.chart import write_chart  # noqa: PLC0415 - matplotlib is loaded only for a chart

        report = next(iter(results.values())).report
        try:
            write_chart(report, chart, title="aiohttp_retry demo: RetryClient, one endpoint per scenario")
        except OSError as error:
            sys.stderr.write(f"could not write {chart}: {error}\n")
            status = 1
        else:
            write(f"Wrote the chart of RetryClient's calls to {chart}.")
    return status
