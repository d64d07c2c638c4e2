"""Command line: ``python -m aiohttp_retry demo``."""

from __future__ import annotations

import argparse
import sys


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


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aiohttp_retry", description="aiohttp_retry tools")
    commands = parser.add_subparsers(dest="command")
    demo = commands.add_parser("demo", help="call a flaky local server with and without retries")
    demo.add_argument(
        "--requests", type=_at_least_one, default=300, help="requests per client, an integer >= 1 (default 300)"
    )
    demo.add_argument("--seed", type=int, default=7, help="seed of the server's faults (default 7)")
    args = parser.parse_args(argv)
    if args.command != "demo":
        parser.print_help()
        return 2
    from aiohttp_retry.demo import main  # noqa: PLC0415 - the demo needs aiohttp.web; load it only here

    main(args.requests, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(_main())
