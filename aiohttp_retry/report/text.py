"""A report as text: an aligned plain-text table, and one log line per endpoint."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from aiohttp_retry.policy.stop import StopReason
from aiohttp_retry.report.stats import EndpointStats

__all__ = ["COLUMNS", "cells_of", "gave_up_cell", "log_rows", "text_table"]

#: The table's columns; the first is left-aligned, the others right-aligned.
COLUMNS = (
    "endpoint",
    "calls",
    "success %",
    "tries/call",
    "retries",
    "refused",
    "gave up",
    "p50 ms",
    "p99 ms",
    "max ms",
    "calls/s",
)
_LEFT = {0, 6}  # endpoint and gave-up reasons read better left-aligned
_REASONS_SHOWN = 2
_SHORT_REASONS = {reason.value: reason.name.lower() for reason in StopReason}


def _number(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:,.1f}"


def gave_up_cell(gave_up: dict[str, int]) -> str:
    """The most frequent reasons calls gave up, such as ``"budget_spent 12, last_try 3"``; ``"-"`` for none."""
    if not gave_up:
        return "-"
    ranked = sorted(gave_up.items(), key=lambda item: (-item[1], item[0]))
    shown = [f"{_SHORT_REASONS.get(reason, reason)} {count}" for reason, count in ranked[:_REASONS_SHOWN]]
    rest = sum(count for _, count in ranked[_REASONS_SHOWN:])
    if rest:
        shown.append(f"+{rest}")
    return ", ".join(shown)


def cells_of(stats: EndpointStats) -> list[str]:
    """The table cells of one row, in the order of :data:`COLUMNS`."""
    ratio = stats.success_ratio
    return [
        stats.endpoint,
        f"{stats.calls:,}",
        _number(None if ratio is None else ratio * 100),
        _number(stats.tries_per_call, 2),
        f"{stats.retries:,}",
        f"{stats.budget_refusals:,}",
        gave_up_cell(stats.gave_up),
        _ms(stats.p50),
        _ms(stats.p99),
        _ms(stats.max),
        _number(stats.calls_per_second),
    ]


def text_table(rows: Sequence[EndpointStats], totals: EndpointStats) -> str:
    """An aligned table of ``rows`` and, under a rule, the ``totals`` line."""
    body = [cells_of(stats) for stats in rows]
    total = cells_of(totals)
    total[0] = "total"
    widths = [max(len(cell) for cell in column) for column in zip(COLUMNS, *body, total, strict=True)]

    def line(cells: Sequence[str]) -> str:
        padded = (
            cell.ljust(width) if index in _LEFT else cell.rjust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(COLUMNS), rule, *(line(cells) for cells in body), rule, line(total)])


def log_rows(rows: Sequence[EndpointStats], logger: logging.Logger | logging.LoggerAdapter[Any], level: int) -> None:
    """One line per row on ``logger`` at ``level``, its figures in ``extra`` fields prefixed ``retry_report_``."""
    if not logger.isEnabledFor(level):
        return
    for stats in rows:
        extra = {f"retry_report_{name}": value for name, value in stats.as_dict().items()}
        ratio = stats.success_ratio
        logger.log(
            level,
            "%s: %d calls, %s%% succeeded, %s tries/call, %d retries, %d refused, gave up: %s, p50 %s ms, p99 %s ms",
            stats.endpoint,
            stats.calls,
            _number(None if ratio is None else ratio * 100),
            _number(stats.tries_per_call, 2),
            stats.retries,
            stats.budget_refusals,
            gave_up_cell(stats.gave_up),
            _ms(stats.p50),
            _ms(stats.p99),
            extra=extra,
        )
