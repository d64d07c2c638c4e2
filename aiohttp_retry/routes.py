"""Settings by route: what differs for some origins or paths from the client's or middleware's own.

    RetryClient(
        retry_options=ExponentialRetry(total_timeout=10),
        routes={
            "payments.example.com": Route(retry_options=None),              # one try, never retried
            "/search/{q}": Route(retry_options=FullJitterRetry(attempts=2)),
            re.compile(r"/v2/"): Route(raise_for_status=StatusCheck(allowed={200}), hooks=[sign_v2]),
        },
    )

A route is keyed like a limit rule: an origin (``host[:port]``), a path template
(``"/users/{id}"``, any origin) or a compiled regular expression searched in the
full URL. Every route that matches a request applies, origins first, then
templates, then expressions (in the order given within each), and one rule
merges them: a setting left unset inherits, ``None`` turns it off, a value
replaces it. What a call passes itself (``retry_options=``, ``raise_for_status=``)
wins over every route. The merged settings of each combination of routes are
worked out once and kept.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from aiohttp_retry.hooks import Hooks
from aiohttp_retry.policy.limits import LimitRules
from aiohttp_retry.retry_options import RetryOptionsBase

__all__ = ["UNSET", "Route", "RouteTable", "Settings"]


class _Unset:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNSET"


#: A setting a route leaves as it is.
UNSET: Any = _Unset()


class Settings(NamedTuple):
    """What a call runs with: its options, its ``raise_for_status``, its hooks (``None``: none)."""

    retry_options: RetryOptionsBase
    raise_for_status: Any
    hooks: Hooks | None


class Route:
    """The settings of a route; each one left :data:`UNSET` inherits, ``None`` turns it off.

    Args:
        retry_options: the options of calls on this route; ``None``: one try, no retries
            (the inherited options with ``attempts=1``).
        raise_for_status: ``True``, a callable (a ``StatusCheck``, say); ``None``: no check.
        hooks: what adds headers to every try (:mod:`aiohttp_retry.hooks`); ``None``: none.

    Raises:
        TypeError: a setting of the wrong kind (the message names it).
    """

    __slots__ = ("hooks", "raise_for_status", "retry_options")

    def __init__(self, *, retry_options: Any = UNSET, raise_for_status: Any = UNSET, hooks: Any = UNSET) -> None:
        if retry_options is not UNSET and retry_options is not None and not isinstance(retry_options, RetryOptionsBase):
            msg = f"retry_options must be UNSET, None or a RetryOptionsBase (ExponentialRetry()), got {retry_options!r}"
            raise TypeError(msg)
        if raise_for_status not in (UNSET, None, True, False) and not callable(raise_for_status):
            msg = f"raise_for_status must be UNSET, None, a bool or a callable, got {raise_for_status!r}"
            raise TypeError(msg)
        self.retry_options = retry_options
        self.raise_for_status = raise_for_status
        self.hooks = hooks if hooks is UNSET or hooks is None else Hooks(hooks)

    def __repr__(self) -> str:
        shown = [f"{name}={getattr(self, name)!r}" for name in ("retry_options", "raise_for_status", "hooks")]
        return f"Route({', '.join(part for part in shown if not part.endswith('=UNSET'))})"


def _route_of(value: Any, name: str, _where: str) -> Route:
    if not isinstance(value, Route):
        msg = f"{name} must be a Route such as Route(retry_options=None), got {value!r}"
        raise TypeError(msg)
    return value


def _merged(base: Settings, routes: Iterable[Route]) -> Settings:
    options, raise_for_status, hooks = base
    for route in routes:
        if route.retry_options is None:
            options = copy.copy(options)  # one try: the inherited options otherwise
            options.attempts = 1
        elif route.retry_options is not UNSET:
            options = route.retry_options
        if route.raise_for_status is not UNSET:
            raise_for_status = route.raise_for_status or False
        if route.hooks is not UNSET:
            hooks = route.hooks if route.hooks is not None and route.hooks.hooks else None
    return Settings(options, raise_for_status, hooks)


class RouteTable:
    """The routes of a client or middleware, and the settings each combination of them resolves to."""

    __slots__ = ("_base", "_merged", "_rules")

    def __init__(self, routes: Mapping[Any, Route], base: Settings) -> None:
        self._rules = LimitRules(routes, "routes", _route_of)
        self._base = base
        self._merged: dict[tuple[int, ...], Settings] = {}

    def __bool__(self) -> bool:
        return bool(self._rules)

    def settings(self, key: str, url: Any) -> Settings:
        """The settings of a call to ``url`` at origin ``key``: the base's, with every matching route merged in."""
        routes = self._rules.matching(key, url)
        if not routes:
            return self._base
        ids = tuple(id(route) for route in routes)
        found = self._merged.get(ids)
        if found is None:
            found = self._merged[ids] = _merged(self._base, routes)
        return found
