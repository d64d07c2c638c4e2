"""Command line: ``python -m aiohttp_retry demo``."""

from __future__ import annotations

import argparse
import sys

#: The demo's scenarios, in the order they run (``aiohttp_retry.demo.SCENARIOS`` holds the same names).
SCENARIO_NAMES = ("flaky", "outage", "slow-tail", "rate-limited")


def _at_least_one(text: str) -> int:
    """Argparse type of ``--requests``: an integer >= 1, or a usage error naming the option."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        msg = f"must be an integer >= 1, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    parser = argparse.ArgumentParser(prog="python -m aiohttp_retry", description="aiohttp_retry tools")
    commands = parser.add_subparsers(dest="command")
    demo = commands.add_parser(
        "demo",
        help="run named scenarios against a local server, with a plain ClientSession and with the library",
        description=(
            "Run named scenarios against a local server, each first with a plain aiohttp ClientSession and then "
            "with the library's recommended RetryClient setup, and compare them."
        ),
    )
    demo.add_argument(
        "--scenario",
        action="append",
        choices=[*SCENARIO_NAMES, "all"],
        metavar="NAME",
        help=f"a scenario to run: {', '.join(SCENARIO_NAMES)} or all; repeatable (default all)",
    )
    demo.add_argument(
        "--requests",
        type=_at_least_one,
        default=300,
        help="calls per client in each scenario, an integer >= 1 (default 300)",
    )
    demo.add_argument(
        "--seed", type=int, default=7, help="seed of the server's faults and of the retry jitter (default 7)"
    )
    demo.add_argument(
        "--chart", metavar="PNG", help="draw RetryClient's calls per second to this PNG (needs matplotlib)"
    )
    demo.add_argument("--json", metavar="PATH", help="write every figure, per scenario and client, to this JSON file")
    return parser, demo


def _main(argv: list[str] | None = None) -> int:
    parser, demo = _parser()
    args = parser.parse_args(argv)
    if args.command != "demo":
        parser.print_help()
        return 2
    # The demo needs aiohttp.web; load it only here.
    from aiohttp_retry.demo import main  # noqa: PLC0415
    from aiohttp_retry.demo.output import CHART_MISSING, installed  # noqa: PLC0415

    if args.chart is not None and not installed("matplotlib"):
        demo.error(f"argument --chart: {CHART_MISSING}")
    return main(args.requests, args.seed, args.scenario, chart=args.chart, json_path=args.json)


if __name__ == "__main__":
    sys.exit(_main())
