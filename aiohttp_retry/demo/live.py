"""The live view of a run in a terminal (extra ``rich``): a table of the phases, redrawn five times a second.

``rich`` is imported with ``importlib`` when a view is made, never when this
module is imported: the demo runs with the core alone and prints plain lines then.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections import deque
from typing import Any

from aiohttp_retry.demo.output import COLUMNS, cells, details
from aiohttp_retry.demo.run import DemoResult, ScenarioResult
from aiohttp_retry.demo.server import Phase

__all__ = ["LiveView", "rich_available", "rich_tables"]

_TICK = 0.2  # seconds between redraws
_SAMPLES = 6  # server load is measured over the last this many ticks


def _rich(module: str) -> Any:
    """A ``rich`` module, imported now (rich is an optional extra)."""
    return importlib.import_module(f"rich.{module}")


def rich_available() -> bool:
    """Whether ``rich`` can be imported."""
    try:
        _rich("live")
    except ImportError:
        return False
    return True


class LiveView:
    """The watcher that shows every phase's progress, success rate and server load in a ``rich.live.Live``."""

    def __init__(self, console: Any = None) -> None:
        self.console = console if console is not None else _rich("console").Console()
        self.phases: list[Phase] = []
        self.results: dict[int, DemoResult] = {}
        self._samples: deque[tuple[float, int]] = deque(maxlen=_SAMPLES)
        self._live: Any = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, phases: list[Phase]) -> None:
        """Show the table and start redrawing it."""
        self.phases = phases
        self._live = _rich("live").Live(
            self.render(), console=self.console, auto_refresh=False, redirect_stdout=False, redirect_stderr=False
        )
        self._live.start(refresh=True)
        self._task = asyncio.get_running_loop().create_task(self._redraw())

    def finished(self, phase: Phase, result: DemoResult) -> None:
        """Keep the phase's figures for its row."""
        self.results[id(phase)] = result

    async def stop(self) -> None:
        """Stop redrawing; leave the last table on the screen."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._live is not None:
            self._live.update(self.render(), refresh=True)
            self._live.stop()

    async def _redraw(self) -> None:
        while True:
            await asyncio.sleep(_TICK)
            self._live.update(self.render(), refresh=True)

    def load(self) -> float:
        """The server's requests a second over the last few redraws."""
        now = asyncio.get_running_loop().time()
        self._samples.append((now, sum(phase.hits for phase in self.phases)))
        (then, before), (_, after) = self._samples[0], self._samples[-1]
        return (after - before) / (now - then) if now > then else 0.0

    def render(self) -> Any:
        """The table of phases, and the server's load under it."""
        table = _rich("table").Table(title="aiohttp_retry demo", header_style="bold", expand=False)
        for name, justify in (
            ("scenario", "left"),
            ("client", "left"),
            ("progress", "left"),
            ("calls", "right"),
            ("success", "right"),
            ("server req/s", "right"),
            ("p99 ms", "right"),
            ("elapsed", "right"),
        ):
            table.add_column(name, justify=justify, no_wrap=True)
        load = self.load() if self._live is not None else 0.0
        bar = _rich("progress_bar").ProgressBar
        for phase in self.phases:
            result = self.results.get(id(phase))
            done = f"{phase.done:,}/{phase.total:,}"
            if result is not None:
                rate = result.hits / result.elapsed if result.elapsed > 0 else 0.0
                _, success, _, _, p99, elapsed = cells(result)
                row = [success, f"{rate:,.0f}", p99, elapsed]
                style = None
            elif phase.running:
                now = asyncio.get_running_loop().time()
                success = f"{phase.ok / phase.done * 100:.1f} %" if phase.done else "-"
                row, style = [success, f"{load:,.0f}", "", f"{now - phase.started:.2f} s"], "bold"
            else:
                row, style = ["", "", "", ""], "dim"
            progress = bar(total=phase.total, completed=phase.done, width=24)
            table.add_row(phase.scenario, phase.client, progress, done, *row, style=style)
        total = sum(phase.hits for phase in self.phases)
        caption = _rich("text").Text(f"server load now: {load:,.0f} requests/s; {total:,} requests so far")
        return _rich("console").Group(table, caption)


def rich_tables(results: dict[str, ScenarioResult]) -> list[Any]:
    """Per scenario, its name and summary, a ``rich`` table comparing the two clients, and its details."""
    text, table_class, group = _rich("text").Text, _rich("table").Table, _rich("console").Group
    blocks = []
    for result in results.values():
        title = text.assemble((result.name, "bold"), f": {result.summary}")
        table = table_class(header_style="bold")
        for index, column in enumerate(COLUMNS):
            table.add_column(column, justify="left" if index == 0 else "right", no_wrap=True)
        table.add_row(*cells(result.plain))
        table.add_row(*cells(result.library), style="bold")
        blocks.append(group(text(""), title, table, text("\n".join(details(result)), style="dim")))
    return blocks
