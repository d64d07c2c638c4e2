"""``python -m aiohttp_retry demo``: named scenarios against a local server, with and without the library.

One embedded aiohttp server on 127.0.0.1 plays each scenario in turn:

- ``flaky``: about 10 % of answers are 5xx and 3 % of connections drop;
- ``outage``: every answer is 503 for a while in the middle of the run;
- ``slow-tail``: about 5 % of answers take 300 ms instead of 5 ms;
- ``rate-limited``: beyond a number of requests a second, 429 with ``Retry-After: 1``.

Each scenario runs first with a plain ``aiohttp.ClientSession``, then with
the setup the library recommends (``RetryClient`` with ``FullJitterRetry``, the
default retry budget, a circuit breaker, a total timeout, and hedging in
``slow-tail``), and the figures of both are compared: success rate, server
hits, latency percentiles, and what the library's events tell. Faults are drawn
from seeded generators, so a run can be repeated. Nothing leaves the machine.
"""

from __future__ import annotations

from aiohttp_retry.demo.command import main
from aiohttp_retry.demo.run import DemoResult, ScenarioResult, run_demo
from aiohttp_retry.demo.scenarios import SCENARIOS

__all__ = ["SCENARIOS", "DemoResult", "ScenarioResult", "main", "run_demo"]
