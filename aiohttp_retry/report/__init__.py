"""Summaries of what a client did, per endpoint: a listener that keeps bounded statistics and shows them.

    from aiohttp_retry.report import Report

    report = Report(routes=["/users/{id}"])
    client = RetryClient(listeners=[report])
    ...
    print(report)

:class:`Report` needs only the core. ``aiohttp_retry.report.rich.rich_table``
(extra ``rich``) renders it as a ``rich`` table and
``aiohttp_retry.report.chart.write_chart`` (extra ``charts``) draws its
timeline to a PNG file; both import their library only when called.
"""

from __future__ import annotations

from aiohttp_retry.report.report import Report
from aiohttp_retry.report.sketch import LatencySketch
from aiohttp_retry.report.stats import EndpointStats, SlotStats

__all__ = ["EndpointStats", "LatencySketch", "Report", "SlotStats"]
