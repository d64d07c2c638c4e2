"""The attempt loop, independent of any HTTP client.

:func:`run` is the one entry: it sends try 1 on the fast path and hands any
other outcome to the sequential strategy, or runs the hedged strategy. The
strategies share :mod:`~aiohttp_retry.engine.plan` and never import each other.
Adapters reach the network through an :class:`~aiohttp_retry.engine.protocols.Exchange`
and read responses through a :class:`~aiohttp_retry.engine.protocols.Codec`.
"""

from __future__ import annotations

from aiohttp_retry.engine.entry import run
from aiohttp_retry.engine.inbound import inbound_deadline, set_inbound_deadline
from aiohttp_retry.engine.plan import Call, Plan, plan_of
from aiohttp_retry.engine.protocols import Codec, Exchange

__all__ = [
    "Call",
    "Codec",
    "Exchange",
    "Plan",
    "inbound_deadline",
    "plan_of",
    "run",
    "set_inbound_deadline",
]
