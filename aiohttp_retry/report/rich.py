"""A report as a ``rich`` table (extra ``rich``); ``rich`` is imported only when a table is made.

from rich.console import Console
from aiohttp_retry.report.rich import rich_table

Console().print(rich_table(report))
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp_retry.report.text import COLUMNS, cells_of

if TYPE_CHECKING:
    from rich.table import Table

    from aiohttp_retry.report.report import Report

__all__ = ["rich_table"]


def rich_table(report: Report, *, title: str | None = "aiohttp_retry report") -> Table:
    """``report``'s rows and totals as a ``rich.table.Table``, with the columns of ``str(report)``.

    Rows where some calls gave up are shown in yellow, rows where none succeeded in red.

    Raises:
        ImportError: ``rich`` is not installed.
    """
    try:
        from rich.table import Table  # noqa: PLC0415 - rich is an optional extra, loaded on first use
    except ImportError as missing:
        msg = "rich_table needs the 'rich' extra: pip install 'aiohttp_retry[rich]'"
        raise ImportError(msg) from missing

    table = Table(title=title, show_footer=True, header_style="bold")
    totals = cells_of(report.totals())
    totals[0] = "total"
    for index, (name, total) in enumerate(zip(COLUMNS, totals, strict=True)):
        left = index in {0, 6}  # the endpoint, and the reasons calls gave up
        table.add_column(name, footer=total, justify="left" if left else "right", no_wrap=index == 0)
    for stats in report.rows():
        style = None
        if stats.calls and not stats.successes:
            style = "red"
        elif stats.gave_up:
            style = "yellow"
        table.add_row(*cells_of(stats), style=style)
    return table
