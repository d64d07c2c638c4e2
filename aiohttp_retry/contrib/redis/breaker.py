"""The circuit breaker shared by a fleet: one state per origin, one failure ratio, probes limited fleet-wide."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from typing import Any

from aiohttp_retry.contrib.redis.fleet import RedisFleet
from aiohttp_retry.events import BreakerStateChange, emit_to
from aiohttp_retry.policy.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker, _Circuit

__all__ = ["SharedCircuitBreaker"]

# KEYS[1]: an origin's hash: state, gen, opened (server ms), and per process p: t:p, f:p (its window's tries and
# failures), s:p (when it last told them), h:p (half-open probe slots it holds).
# ARGV: process; the generation it follows; its tries; its failures; its proposal ('', 'open', 'closed', 'reopen');
# the generation the proposal was made in; probes it has in flight; probes it may want; failure ratio;
# minimum throughput; break (ms); window (ms); half-open probes; TTL (ms).
# Returns {state, gen, ms until an open breaker may probe, probe slots granted, fleet tries, fleet failures}.
_BREAKER_SCRIPT = """
local key, me = KEYS[1], ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HGET', key, 'state') or 'closed'
local gen = tonumber(redis.call('HGET', key, 'gen') or 0)
local opened = tonumber(redis.call('HGET', key, 'opened') or 0)
local window, was = tonumber(ARGV[12]), gen
if tonumber(ARGV[2]) == gen then
  redis.call('HSET', key, 't:' .. me, ARGV[3], 'f:' .. me, ARGV[4], 's:' .. me, now)
end
if tonumber(ARGV[6]) == gen then
  local proposal = ARGV[5]
  if proposal == 'open' and state == 'closed' then state, opened, gen = 'open', now, gen + 1
  elseif proposal == 'closed' and state == 'half_open' then state, gen = 'closed', gen + 1
  elseif proposal == 'reopen' and state == 'half_open' then state, opened, gen = 'open', now, gen + 1
  end
end
local tries, failures, held = 0, 0, 0
local fields = redis.call('HGETALL', key)
for i = 1, #fields, 2 do
  local name = fields[i]
  if string.sub(name, 1, 2) == 's:' then
    local p = string.sub(name, 3)
    if now - tonumber(fields[i + 1]) > window then
      redis.call('HDEL', key, 's:' .. p, 't:' .. p, 'f:' .. p, 'h:' .. p)
    else
      tries = tries + tonumber(redis.call('HGET', key, 't:' .. p) or 0)
      failures = failures + tonumber(redis.call('HGET', key, 'f:' .. p) or 0)
    end
  end
end
-- the counts are of the state the call found: a breaker this call closed starts its window empty
if gen == was and state == 'closed' and tries > 0 and tries >= tonumber(ARGV[10])
  and failures >= tonumber(ARGV[9]) * tries then
  state, opened, gen = 'open', now, gen + 1
end
if state == 'open' and now - opened >= tonumber(ARGV[11]) then state, gen = 'half_open', gen + 1 end
if gen ~= was then
  -- a new state: every process's counts and probe slots belong to the old one
  local names = redis.call('HKEYS', key)
  for i = 1, #names do
    local prefix = string.sub(names[i], 1, 2)
    if prefix == 't:' or prefix == 'f:' or prefix == 'h:' or prefix == 's:' then redis.call('HDEL', key, names[i]) end
  end
  tries, failures = 0, 0
  redis.call('HSET', key, 'state', state, 'gen', gen, 'opened', opened)
end
local granted = 0
if state == 'half_open' then
  if gen == was then redis.call('HSET', key, 'h:' .. me, ARGV[7], 's:' .. me, now) end
  for i, name in ipairs(redis.call('HKEYS', key)) do
    if string.sub(name, 1, 2) == 'h:' then held = held + tonumber(redis.call('HGET', key, name)) end
  end
  granted = math.max(0, math.min(tonumber(ARGV[8]), tonumber(ARGV[13]) - held))
  if granted > 0 then redis.call('HINCRBY', key, 'h:' .. me, granted) end
  redis.call('HSET', key, 's:' .. me, now)
end
redis.call('PEXPIRE', key, ARGV[14])
local wait = 0
if state == 'open' then wait = math.max(0, opened + tonumber(ARGV[11]) - now) end
return {state, gen, wait, granted, tries, failures}
"""

_PROPOSALS = {(CLOSED, OPEN): "open", (HALF_OPEN, CLOSED): "closed", (HALF_OPEN, OPEN): "reopen"}
_STATES = {"closed": CLOSED, "open": OPEN, "half_open": HALF_OPEN}


class _Shared:
    """One origin's fleet state as this process last learnt it, and what it has to tell."""

    __slots__ = ("born", "gen", "proposal", "proposed_in", "slots")

    def __init__(self, now: float) -> None:
        self.born = now
        self.gen = 0  # the fleet's generation this process follows
        self.proposal = ""  # a state change made here, to be told
        self.proposed_in = 0
        self.slots = 0  # half-open probes the fleet lets this process have in flight


class SharedCircuitBreaker(CircuitBreaker):
    """A ``CircuitBreaker`` whose state every process of ``fleet`` follows (same arguments, and ``fleet``).

    Each process counts its tries in its own window, as a ``CircuitBreaker`` does; at
    each sync it tells the fleet its window's counts and the state changes it made, and
    takes the fleet's state: the breaker opens when the failures in the fleet's window
    (the sum of every process's) reach ``failure_ratio`` with ``minimum_throughput``
    tries, never on one process's window alone (a small sample: with many processes one
    of them would cross the ratio by chance long before the fleet does); it turns
    half-open ``break_duration`` after opening by the server's clock; the first probe's
    outcome closes or reopens it for all, at once in the process that sent it. While
    half-open, at most ``half_open_probes`` probes are in flight in the whole fleet: a
    process probes only with slots the fleet granted it. State changes
    learnt from the fleet are given as ``BreakerStateChange`` events to the fleet's
    listeners. While Redis is unreachable the process goes on as a local breaker (and
    an opening it made then is told to the fleet when Redis answers again).
    """

    def __init__(
        self,
        fleet: RedisFleet,
        failure_ratio: float = 0.5,
        minimum_throughput: int = 20,
        window: float = 10.0,
        break_duration: float = 5.0,
        half_open_probes: int = 1,
        *,
        max_keys: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(fleet, RedisFleet):
            msg = f"fleet must be a RedisFleet, got a {type(fleet).__name__}"
            raise TypeError(msg)
        super().__init__(
            failure_ratio, minimum_throughput, window, break_duration, half_open_probes, max_keys=max_keys, clock=clock
        )
        self.fleet = fleet
        self.process = uuid.uuid4().hex[:12]  # this process's name in the fleet's hash
        self._shared: dict[str, _Shared] = {}
        self._applying = False
        self._args = (
            self.failure_ratio,
            self.minimum_throughput,
            max(1, math.ceil(self.break_duration * 1000)),
            max(1, math.ceil(self.window * 1000)),
            self.half_open_probes,
            max(1, math.ceil(max(self.window, self.break_duration) * 2000)),
        )
        fleet.join(self, _BREAKER_SCRIPT)
        self._sha = fleet.sha(_BREAKER_SCRIPT)

    def _view(self, key: str) -> _Shared:
        view = self._shared.get(key)
        if view is None:
            shared = self._shared
            if len(shared) >= self.max_keys:
                del shared[next(iter(shared))]
            view = shared[key] = _Shared(self.clock())
            self.fleet.start()
        return view

    def _move(self, key: str, circuit: _Circuit, new: str, now: float) -> BreakerStateChange:
        proposal = _PROPOSALS.get((circuit.state, new))
        change = super()._move(key, circuit, new, now)
        if proposal is not None and not self._applying:
            view = self._view(key)
            view.proposal, view.proposed_in = proposal, view.gen
        return change

    def _circuit(self, key: str) -> _Circuit:
        """As ``CircuitBreaker._circuit``; a key met for the first time is shared from the next sync on."""
        self._view(key)
        return super()._circuit(key)

    def _opens_here(self, _key: str) -> bool:
        """Only while Redis is unreachable: else the fleet opens it, on the fleet's window, at a sync.

        One process's window is a small sample of the fleet's: with many processes, one of
        them would cross the ratio by chance long before the fleet does.
        """
        return self.fleet.degraded

    def _probe_limit(self, key: str) -> int:
        """While half-open, a probe needs a slot the fleet granted (the local limit while Redis is unreachable)."""
        if self.fleet.degraded:
            return self.half_open_probes
        view = self._shared.get(key)
        return 0 if view is None else view.slots

    def queue(self, pipe: Any, *, final: bool = False) -> Callable[[list[Any]], int] | None:
        """Queue this sync's script calls on ``pipe``; the function that applies their answers, or ``None``."""
        now = self.clock()
        sent: list[tuple[str, _Shared]] = []
        for key, view in list(self._shared.items()):
            circuit = self._circuits.get(key)
            if circuit is None:
                del self._shared[key]
                continue
            tries = circuit.window.total(0, now)
            failures = circuit.window.total(1, now)
            if circuit.state == CLOSED and not tries and not view.proposal and view.born < now - self.window:
                # no tries for a whole window: forgotten here (the next try starts again) and in Redis (TTL)
                del self._shared[key]
                del self._circuits[key]
                continue
            wanted = 0 if final else self.half_open_probes
            pipe.evalsha(
                self._sha,
                1,
                f"{self.fleet.prefix}:breaker:{key}",
                self.process,
                view.gen,
                tries,
                failures,
                view.proposal,
                view.proposed_in,
                circuit.probes if circuit.state == HALF_OPEN else 0,
                wanted,
                *self._args,
            )
            sent.append((key, view))
        if not sent:
            return None

        def apply(results: list[Any]) -> int:
            for (key, view), answer in zip(sent, results, strict=False):
                self._follow(key, view, answer)
            return len(sent)

        return apply

    def _follow(self, key: str, view: _Shared, answer: list[Any]) -> None:
        """Take the fleet's state for ``key``: move the local circuit to it if it changed."""
        raw_state, gen, wait_ms, granted = answer[0], int(answer[1]), int(answer[2]), int(answer[3])
        state = _STATES[raw_state.decode() if isinstance(raw_state, bytes) else raw_state]
        view.proposal = ""
        circuit = self._circuit(key)
        if gen != view.gen:
            view.gen = gen
            view.slots = 0
            if circuit.state != state:
                now = self.clock()
                self._applying = True
                try:
                    change = self._move(key, circuit, state, now)
                finally:
                    self._applying = False
                if state == OPEN:
                    circuit.opened_at = now + wait_ms / 1000 - self.break_duration
                emit_to(self.fleet.listeners, change)
        if state == HALF_OPEN:
            view.slots = circuit.probes + granted
        elif state == OPEN:
            circuit.opened_at = min(circuit.opened_at, self.clock() + wait_ms / 1000 - self.break_duration)

    def __repr__(self) -> str:
        return f"Shared{super().__repr__()[:-1]}, fleet={self.fleet.store})"
