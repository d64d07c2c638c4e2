"""Jittered backoff: the waits that 20 clients would take after failing together.

Run: python examples/jitter.py
"""

from __future__ import annotations

import random

from aiohttp_retry import DecorrelatedJitterRetry, ExponentialRetry, FullJitterRetry


def main() -> None:
    rng = random.Random(1)
    plain = ExponentialRetry(start_timeout=1)
    full = FullJitterRetry(start_timeout=1, rng=rng)
    decorrelated = DecorrelatedJitterRetry(start_timeout=1, rng=rng)
    for attempt in range(3):
        same = plain.get_timeout(attempt)
        spread = sorted(round(full.get_timeout(attempt), 1) for _ in range(20))
        print(f"wait {attempt + 1}: ExponentialRetry sends all 20 back at {same:.1f} s; FullJitterRetry at {spread}")
    previous = None
    waits = []
    for attempt in range(5):
        previous = decorrelated.next_delay(attempt, None, previous)
        waits.append(round(previous, 2))
    print(f"DecorrelatedJitterRetry, one client's waits: {waits}")


if __name__ == "__main__":
    main()
