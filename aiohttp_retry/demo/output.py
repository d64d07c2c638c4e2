"""What the demo prints and writes: a line per finished phase, a table per scenario, verdicts, and JSON."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from collections.abc import Callable
from typing import Any

from aiohttp_retry.demo.run import DemoResult, ScenarioResult
from aiohttp_retry.demo.scenarios import ATTEMPTS, CONCURRENCY, LIBRARY, LIBRARY_SETUP, PLAIN
from aiohttp_retry.demo.server import Phase

__all__ = [
    "CHART_MISSING",
    "COLUMNS",
    "PlainLines",
    "as_json",
    "cells",
    "details",
    "header",
    "hints",
    "installed",
    "plain_tables",
    "verdict",
    "write_line",
]

#: The message when ``--chart`` is asked for without matplotlib.
CHART_MISSING = "--chart needs matplotlib, the 'charts' extra: pip install 'aiohttp_retry[charts]'"
#: The columns of a scenario's table.
COLUMNS = ("client", "success", "server hits", "p50 ms", "p99 ms", "elapsed")
_WIDTH = 100  # plain text is wrapped to this width, verdicts excepted


def installed(module: str) -> bool:
    """Whether ``module`` can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def write_line(text: str) -> None:
    """Write ``text`` and a newline to stdout, at once (the lines show progress)."""
    sys.stdout.write(f"{text}\n")
    sys.stdout.flush()


def _pct(ratio: float) -> str:
    return f"{ratio * 100:.1f} %"


def _ms(seconds: float | None) -> str:
    """``"4.2 ms"`` below 10 ms, ``"31 ms"`` above; ``"-"`` for none."""
    if seconds is None:
        return "-"
    millis = seconds * 1000
    return f"{millis:.1f} ms" if millis < 10 else f"{millis:,.0f} ms"  # noqa: PLR2004


def _times(library: DemoResult, plain: DemoResult) -> str:
    return f"x{library.hits / plain.hits:.2f}" if plain.hits else "-"


def _after(result: DemoResult) -> str:
    return _pct(result.after_outage_succeeded / result.after_outage) if result.after_outage else "-"


def header(names: list[str], requests: int, seed: int) -> str:
    """The lines printed before the run."""
    gets = "1 GET" if requests == 1 else f"{requests} GETs"
    return (
        f"Scenarios: {', '.join(names)}; {gets}, from each client in each scenario, to a server on 127.0.0.1"
        f" (seed {seed}).\nEach runs with a plain ClientSession, then with\n{LIBRARY_SETUP}\n"
    )


def phase_line(phase: Phase, result: DemoResult) -> str:
    """One finished phase in a line."""
    return (
        f"{phase.scenario:<13} {result.name:<14} {result.requests:>6} calls, {_pct(result.success_ratio):>7} succeeded,"
        f" {result.hits:>6} server hits, p50 {_ms(result.p50):>8}, p99 {_ms(result.p99):>8},"
        f" {result.elapsed:5.2f} s"
    )


class PlainLines:
    """The watcher that prints a line per phase as it finishes, through ``write``."""

    def __init__(self, write: Callable[[str], object] = write_line) -> None:
        self.write = write

    async def start(self, phases: list[Phase]) -> None:
        """Nothing to show before the first phase ends."""

    def finished(self, phase: Phase, result: DemoResult) -> None:
        """Print the phase's line."""
        self.write(phase_line(phase, result))

    async def stop(self) -> None:
        """Nothing to tidy."""


def cells(result: DemoResult) -> list[str]:
    """A client's cells in :data:`COLUMNS` order."""
    return [
        result.name,
        _pct(result.success_ratio),
        f"{result.hits:,}",
        "-" if result.p50 is None else f"{result.p50 * 1000:,.1f}",
        "-" if result.p99 is None else f"{result.p99 * 1000:,.1f}",
        f"{result.elapsed:.2f} s",
    ]


def details(result: ScenarioResult) -> list[str]:
    """What the library client's events and the server's counts tell about the scenario."""
    plain, library = result.plain, result.library
    reasons = ", ".join(f"{count} {reason}" for reason, count in library.gave_up.items()) or "none"
    lines = [f"{LIBRARY}: {library.retries} retries, {library.refused} refused by the budget; gave up: {reasons}."]
    if result.name == "outage":
        lines.append(
            f"During the outage the server got {plain.outage_hits} requests from {PLAIN} and {library.outage_hits}"
            f" from {LIBRARY} ({ATTEMPTS} tries a call with nothing to stop them: {plain.outage_hits * ATTEMPTS});"
            f" the breaker opened {library.breaker_opened} times."
        )
        if plain.after_outage:
            lines.append(
                f"Calls started after the outage that succeeded: {_after(plain)} with {PLAIN}, {_after(library)}"
                f" with {LIBRARY}."
            )
    elif result.name == "slow-tail":
        extra = library.hedges / library.requests if library.requests else 0.0
        lines.append(
            f"{LIBRARY} hedged {library.hedges} calls that had no answer after 30 ms: {_pct(extra)} more tries."
        )
    elif result.name == "rate-limited":
        waited = (
            "none had to wait"
            if library.shortest_gap is None
            else f"{library.waited_as_asked} of {LIBRARY}'s retries waited as Retry-After asked (shortest gap"
            f" the server saw: {library.shortest_gap:.2f} s, asked 1 s)"
        )
        lines.append(f"429s: {plain.throttled} to {PLAIN}, {library.throttled} to {LIBRARY}; {waited}.")
    return lines


def verdict(result: ScenarioResult) -> str:
    """One line on what the library changed in the scenario."""
    plain, library = result.plain, result.library
    success = f"success {_pct(plain.success_ratio)} -> {_pct(library.success_ratio)}"
    hits = f"server hits {_times(library, plain)}"
    if result.name == "outage":
        after = f", {_after(library)} of the calls after it succeeded" if library.after_outage else ""
        return (
            f"outage: {success}, server hits during the outage {plain.outage_hits} -> {library.outage_hits}"
            f" ({ATTEMPTS} tries each: {plain.outage_hits * ATTEMPTS}), breaker opened {library.breaker_opened}x,"
            f" budget refused {library.refused}{after}"
        )
    if result.name == "slow-tail":
        return f"slow-tail: p99 {_ms(plain.p99)} -> {_ms(library.p99)}, {success}, {hits} ({library.hedges} hedges)"
    if result.name == "rate-limited":
        waited = (
            "no 429 to wait for"
            if library.shortest_gap is None
            else f"retries waited as asked (>= {library.shortest_gap:.2f} s)"
        )
        return f"rate-limited: {success}, 429s {plain.throttled} -> {library.throttled}, {waited}, {hits}"
    return f"{result.name}: {success}, {hits}, p99 {_ms(plain.p99)} -> {_ms(library.p99)}"


def plain_tables(results: dict[str, ScenarioResult]) -> str:
    """Every scenario's table, details and, last, the verdicts: aligned plain text."""
    blocks = []
    for result in results.values():
        rows = [list(COLUMNS), cells(result.plain), cells(result.library)]
        widths = [max(len(row[index]) for row in rows) for index in range(len(COLUMNS))]
        lines = textwrap.wrap(f"{result.name}: {result.summary}", _WIDTH, subsequent_indent="  ")
        for row in rows:
            padded = [
                row[0].ljust(widths[0]),
                *(cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)),
            ]
            lines.append("  " + "  ".join(padded))
        for line in details(result):
            lines.extend(textwrap.wrap(line, _WIDTH, initial_indent="  ", subsequent_indent="    "))
        blocks.append("\n".join(lines))
    blocks.append("What the library changed:\n" + "\n".join(f"  {verdict(result)}" for result in results.values()))
    return "\n\n".join(blocks)


def as_json(results: dict[str, ScenarioResult], requests: int, seed: int) -> dict[str, Any]:
    """Every figure of the run as JSON-serialisable data (durations in seconds)."""
    return {
        "requests": requests,
        "seed": seed,
        "concurrency": CONCURRENCY,
        "attempts": ATTEMPTS,
        "library_setup": LIBRARY_SETUP,
        "scenarios": {
            name: {
                "summary": result.summary,
                "verdict": verdict(result),
                "clients": {
                    PLAIN: result.plain.as_dict(),
                    LIBRARY: {
                        **result.library.as_dict(),
                        "report": None if result.stats is None else result.stats.as_dict(),
                    },
                },
            }
            for name, result in results.items()
        },
    }


def hints(*, chart: bool, json: bool) -> list[str]:
    """Where to get what is missing: the live view, the chart, the figures."""
    lines = []
    if not installed("rich"):
        lines.append("For a live view while it runs, in a terminal: pip install 'aiohttp_retry[rich]'")
    if not installed("matplotlib"):
        lines.append("For a chart of RetryClient's calls (--chart out.png): pip install 'aiohttp_retry[charts]'")
    elif not chart:
        lines.append("--chart out.png draws RetryClient's latency and outcomes per second.")
    if not json:
        lines.append("--json out.json writes every figure.")
    return lines
