"""Plain-ASCII tables and summaries of benchmark results. Used by ``python -m benchmarks``."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

BASELINE = "bare"
#: The reference of the middleware form: aiohttp's own cost of one middleware that does nothing.
MIDDLEWARE_BASELINE = "middleware-noop"
#: The baseline of the httpx contenders: a bare ``httpx.AsyncClient``.
HTTPX_BASELINE = "httpx-bare"
#: The contenders compared with a reference of their own too (their form's or their client's bare cost).
REFERENCE_OF = {
    "middleware": MIDDLEWARE_BASELINE,
    "middleware-protected": MIDDLEWARE_BASELINE,
    "httpx-transport": HTTPX_BASELINE,
    "httpx-retries": HTTPX_BASELINE,
}
#: Every contender, in the order the tables list them: bare first, then each form, its references last.
CONTENDER_ORDER = (
    "bare",
    "bare-again",
    "retryclient",
    "retryclient-listener",
    "retryclient-prometheus",
    "retryclient-report",
    "retryclient-otel",
    "retryclient-protected",
    "retryclient-limits",
    "retryclient-fleet",
    "retryclient-request",
    "middleware",
    "middleware-protected",
    "middleware-noop",
    "httpx-bare",
    "httpx-transport",
    "httpx-retries",
    "upstream",
    "extapi",
)

#: (key in a worker's JSON, label, whether higher is better)
METRICS: tuple[tuple[str, str, bool], ...] = (
    ("cpu_us_per_request", "CPU us per request, concurrency 1", False),
    ("cpu_us_per_request_c64", "CPU us per request, concurrency 64", False),
    ("rps_c1", "requests/s, concurrency 1", True),
    ("rps_c64", "requests/s, concurrency 64", True),
    ("p50_us", "p50 latency (us), concurrency 1", False),
    ("p99_us", "p99 latency (us), concurrency 1", False),
    ("rss_mb", "RSS (MB) at the end of the worker", False),
)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], left: Sequence[int] = (0,)) -> str:
    """An ASCII table: the columns numbered in ``left`` left-aligned, the others right-aligned."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        padded = (
            str(c).ljust(w) if i in left else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def number(value: float | None) -> str:
    """A value with precision that suits its size."""
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.1f}"
    return f"{value:.2f}"


def ratio(value: float | None, base: float | None) -> str:
    """``value / base`` as ``1.234x``, or ``-``."""
    return f"{value / base:.3f}x" if value is not None and base else "-"


def by_contender(results: Sequence[dict[str, Any]], key: str) -> dict[str, list[float]]:
    """The values of ``key`` of the successful results, per contender, in round order."""
    values: dict[str, list[float]] = {}
    for result in results:
        if "error" not in result and key in result:
            values.setdefault(result["contender"], []).append(float(result[key]))
    return values


def summarize(results: Sequence[dict[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    """Per metric and contender: min, median, max and the median's ratio to bare's median.

    The contenders of :data:`REFERENCE_OF` also get the ratio to their reference's median
    (``ratio_vs_reference``; ``reference`` names it).
    """
    summary: dict[str, dict[str, dict[str, float]]] = {}
    for key, _label, _higher in METRICS:
        values = by_contender(results, key)
        medians = {name: statistics.median(series) for name, series in values.items()}
        base = medians.get(BASELINE)
        summary[key] = {}
        for name, series in values.items():
            median = medians[name]
            entry: dict[str, Any] = {"min": min(series), "median": median, "max": max(series), "rounds": len(series)}
            if base:
                entry["ratio_vs_bare"] = median / base
            reference = medians.get(REFERENCE_OF.get(name, ""))
            if reference:
                entry["reference"] = REFERENCE_OF[name]
                entry["ratio_vs_reference"] = median / reference
            summary[key][name] = entry
    return summary


def round_ratios(results: Sequence[dict[str, Any]], key: str) -> dict[str, list[float | None]]:
    """Per contender, its value divided by bare's in the same round (``None`` where one failed)."""
    rounds = sorted({r["round"] for r in results})
    ok = {(r["round"], r["contender"]): float(r[key]) for r in results if "error" not in r and key in r}
    names = sorted({r["contender"] for r in results}, key=contender_order)
    out: dict[str, list[float | None]] = {}
    for name in names:
        row: list[float | None] = []
        for rnd in rounds:
            base, value = ok.get((rnd, BASELINE)), ok.get((rnd, name))
            row.append(value / base if value is not None and base else None)
        out[name] = row
    return out


def contender_order(name: str) -> int:
    """Sort key: the position in :data:`CONTENDER_ORDER`; unknown names last."""
    return CONTENDER_ORDER.index(name) if name in CONTENDER_ORDER else len(CONTENDER_ORDER)


def metric_tables(results: Sequence[dict[str, Any]]) -> str:
    """One table per metric (min/median/max/ratio), then the per-round ratios of each metric."""
    summary = summarize(results)
    rounds = sorted({r["round"] for r in results})
    parts: list[str] = []
    for key, label, higher in METRICS:
        rows = [
            [
                name,
                number(s["min"]),
                number(s["median"]),
                number(s["max"]),
                ratio(s["median"], _base(summary, key)),
                f"{ratio(s['median'], _base(summary, key, REFERENCE_OF[name]))} {REFERENCE_OF[name]}"
                if name in REFERENCE_OF
                else "",
            ]
            for name, s in sorted(summary[key].items(), key=lambda item: contender_order(item[0]))
        ]
        better = "higher" if higher else "lower"
        headers = ["contender", "min", "median", "max", "vs bare", "vs its reference"]
        parts.append(f"{label} ({better} is better)\n" + table(headers, rows))
        per_round = round_ratios(results, key)
        rows = [[name, *(f"{v:.3f}" if v is not None else "-" for v in row)] for name, row in per_round.items()]
        parts.append(f"  per-round ratio vs bare: {label}\n" + table(["contender", *(f"r{r}" for r in rounds)], rows))
    return "\n\n".join(parts)


def _base(summary: dict[str, dict[str, dict[str, float]]], key: str, name: str = BASELINE) -> float | None:
    entry = summary[key].get(name)
    return entry["median"] if entry else None


def instruction_table(counts: dict[str, dict[str, Any]]) -> str:
    """Instructions per request under cachegrind, absolute and relative to bare; to their reference too.

    The middlewares' reference is middleware-noop, the httpx contenders' httpx-bare (:data:`REFERENCE_OF`).
    """
    base = counts.get(BASELINE, {}).get("per_request")
    rows = []
    for name in sorted(counts, key=contender_order):
        entry = counts[name]
        if "error" in entry:
            rows.append([name, "-", "-", "error", "-", "-", "", ""])
            continue
        per_request = entry["per_request"]
        versus_noop = ["", ""]
        if name in REFERENCE_OF:
            noop = counts.get(REFERENCE_OF[name], {}).get("per_request")
            versus_noop = [ratio(per_request, noop), f"{per_request - noop:+,.0f}" if noop is not None else "-"]
        rows.append(
            [
                name,
                f"{entry['i1']:,}",
                f"{entry['i2']:,}",
                f"{per_request:,.0f}",
                ratio(per_request, base),
                f"{per_request - base:+,.0f}" if base is not None else "-",
                *versus_noop,
            ]
        )
    headers = ["contender", "I refs (N1)", "I refs (N2)", "instr/request", "vs bare", "extra", "vs reference", "extra"]
    return table(headers, rows)


def micro_table(micro: dict[str, Any]) -> str:
    """The in-process micro-benchmark: ns per call, best of the repeats."""
    rows = [[name, f"{entry['ns_per_call']:.0f}", entry.get("note", "")] for name, entry in micro["figures"].items()]
    return table(["micro-benchmark", "ns/call", "what"], rows, left=(0, 2))
