"""Command line of the benchmark suite.

    python -m benchmarks                 # full run: 5 rounds, valgrind, upstream 2.9.1, extapi 0.1.7 (about 25 minutes)
    python -m benchmarks --quick         # smoke run for CI, well under a minute (no valgrind, no venv creation)
    python -m benchmarks --skip-valgrind --skip-upstream --rounds 7 --requests 50000 --json out.json
    python -m benchmarks --micro         # also the in-process engine micro-benchmark

Timings are informative only: nothing here fails because of a number.
"""

from __future__ import annotations

import argparse
import sys

from benchmarks.runner import DEFAULT_JSON, Settings, run


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description="aiohttp_retry benchmark suite")
    parser.add_argument("--quick", action="store_true", help="a short smoke run (small counts, no valgrind)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 5; quick 3)")
    parser.add_argument("--requests", type=int, help="requests per measured phase (default 20000; quick 500)")
    parser.add_argument("--warmup", type=int, help="warm-up requests per worker (default 2000; quick 200)")
    parser.add_argument("--concurrency", type=int, default=64, help="tasks in the concurrent phase (default 64)")
    parser.add_argument("--rss-requests", type=int, help="requests before the final RSS (default 200000; quick 2000)")
    parser.add_argument("--skip-valgrind", action="store_true", help="leave out the cachegrind instruction counts")
    parser.add_argument("--valgrind", action="store_true", help="count instructions even with --quick")
    parser.add_argument("--valgrind-n", type=int, nargs=2, metavar=("N1", "N2"), help="default 1000 4000; quick 50 150")
    parser.add_argument("--skip-upstream", action="store_true", help="leave out aiohttp-retry 2.9.1 and extapi 0.1.7")
    parser.add_argument("--micro", action="store_true", help="also run benchmarks.engine_micro")
    parser.add_argument("--no-nginx", action="store_true", help="use the asyncio server even if nginx is installed")
    parser.add_argument("--worker-timeout", type=float, default=900.0, help="seconds before a worker is killed")
    parser.add_argument("--json", default=str(DEFAULT_JSON), help=f"results file (default {DEFAULT_JSON})")
    return parser.parse_args(argv)


def settings_from(args: argparse.Namespace) -> Settings:
    """The run's settings: the full defaults, or the quick ones, overridden by explicit flags."""
    quick = args.quick
    valgrind_n = args.valgrind_n or ((50, 150) if quick else (1_000, 4_000))
    settings = Settings(
        rounds=args.rounds or (3 if quick else 5),
        requests=args.requests or (500 if quick else 20_000),
        warmup=args.warmup if args.warmup is not None else (200 if quick else 2_000),
        concurrency=args.concurrency,
        rss_requests=args.rss_requests if args.rss_requests is not None else (2_000 if quick else 200_000),
        valgrind=not args.skip_valgrind and (args.valgrind or not quick),
        valgrind_n1=valgrind_n[0],
        valgrind_n2=valgrind_n[1],
        upstream=not args.skip_upstream,
        create_upstream=not quick,
        micro=args.micro,
        nginx=not args.no_nginx,
        worker_timeout=args.worker_timeout,
        json_path=args.json,
    )
    if settings.rounds < 1 or settings.requests < 1 or settings.concurrency < 1:
        sys.exit("--rounds, --requests and --concurrency must be at least 1")
    if not 0 < settings.valgrind_n1 < settings.valgrind_n2:
        sys.exit("--valgrind-n needs 0 < N1 < N2")
    return settings


def main(argv: list[str] | None = None) -> int:
    return run(settings_from(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
