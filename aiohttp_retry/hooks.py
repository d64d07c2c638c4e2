"""Headers made afresh for every try: a patch callable, bearer tokens refreshed on 401, basic auth.

``hooks=[...]`` on :class:`~aiohttp_retry.RetryClient` or
:class:`~aiohttp_retry.RetryMiddleware` takes, in any number and order:

- a callable ``hook(attempt, method, url)``, sync or async, returning a mapping of
  headers for that try (or ``None``): rotating API keys, signing, a try counter;
- a :class:`BearerAuth`: ``Authorization: Bearer <token>`` from a token getter. When
  a try is answered 401 (``refresh_on``), the token is fetched again and the request
  sent once more within the same try: the resend is not a failed try, costs nothing
  from the retry budget, and callers that meet the 401 together share one refresh;
- :func:`basic_auth` (login, password): ``Authorization: Basic ...`` on every try.

Later hooks win where they set the same header.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

from aiohttp_retry.events import TryHeadersUsed, set_try_headers, try_headers

__all__ = ["BearerAuth", "HookedExchange", "Hooks", "basic_auth", "send_with_hooks"]

R = TypeVar("R")


class BearerAuth:
    """``Authorization: Bearer <token>`` on every try, the token fetched once and again after a 401.

    Args:
        get_token: a callable (sync or async, no arguments) returning the token; called for
            the first try, and once for each 401 episode (every caller that met a 401 with
            the same token waits for the one fetch).
        refresh_on: statuses that mean the token is no longer good; default 401.

    If ``get_token`` raises, the call ends with that error and the next try fetches again.
    """

    def __init__(self, get_token: Callable[[], Any], *, refresh_on: Iterable[int] = (401,)) -> None:
        if not callable(get_token):
            msg = f"get_token must be a callable returning the token (sync or async), got {get_token!r}"
            raise TypeError(msg)
        self.get_token = get_token
        self.refresh_on = frozenset(refresh_on)
        self._token: str | None = None
        self._version = 0  # fetches so far: tells a 401 from a stale token apart from one on the current token
        self._fetching: asyncio.Future[None] | None = None

    async def token(self) -> tuple[str, int]:
        """The current token and its version, fetched first if there is none yet."""
        if self._token is None:
            await self.refresh(self._version)
        return self._token, self._version  # type: ignore[return-value] # refresh() set it or raised

    async def refresh(self, seen: int) -> None:
        """Fetch a new token unless one newer than version ``seen`` exists (or is being fetched)."""
        if self._version != seen and self._token is not None:
            return
        if self._fetching is None:
            self._fetching = asyncio.ensure_future(self._fetch())
        fetching = self._fetching
        await asyncio.shield(fetching)

    async def _fetch(self) -> None:
        try:
            token = self.get_token()
            if inspect.isawaitable(token):
                token = await token
            if not isinstance(token, str) or not token:
                msg = f"get_token must return a non-empty str, got {token!r}"
                raise TypeError(msg)
            self._token = token
            self._version += 1
        finally:
            self._fetching = None

    def __repr__(self) -> str:
        return f"BearerAuth({self.get_token!r}, refresh_on={sorted(self.refresh_on)})"


def basic_auth(login: str, password: str, encoding: str = "latin1") -> Callable[[int, str, Any], Mapping[str, str]]:
    """A hook that sends ``Authorization: Basic <base64(login:password)>`` on every try.

    Raises:
        ValueError: ``login`` holds a colon (it would be read as part of the password).
    """
    if not isinstance(login, str) or not isinstance(password, str):
        msg = "basic_auth takes a login and a password as strings"
        raise TypeError(msg)
    if ":" in login:
        msg = "basic_auth: a login may not contain ':'"
        raise ValueError(msg)
    header = {"Authorization": "Basic " + base64.b64encode(f"{login}:{password}".encode(encoding)).decode("ascii")}

    def hook(_attempt: int, _method: str, _url: Any) -> Mapping[str, str]:
        return header

    return hook


class Hooks:
    """The hooks of a client or middleware, run before each try (see the module's text)."""

    __slots__ = ("bearer", "hooks", "refresh_on")

    def __init__(self, hooks: Iterable[Any]) -> None:
        if isinstance(hooks, (str, bytes, Mapping)) or not isinstance(hooks, Iterable):
            msg = f"hooks must be an iterable of callables or BearerAuth objects, got {hooks!r}"
            raise TypeError(msg)
        self.hooks = tuple(hooks)
        for hook in self.hooks:
            if not (callable(hook) or isinstance(hook, BearerAuth)):
                msg = f"hooks must hold callables or BearerAuth objects, got {hook!r}"
                raise TypeError(msg)
        bearers = [hook for hook in self.hooks if isinstance(hook, BearerAuth)]
        if len(bearers) > 1:
            msg = "hooks may hold one BearerAuth at most: each sets the Authorization header"
            raise ValueError(msg)
        self.bearer = bearers[0] if bearers else None
        self.refresh_on = self.bearer.refresh_on if self.bearer is not None else frozenset()

    async def headers(self, attempt: int, method: str, url: Any) -> tuple[dict[str, str], int]:
        """The headers of try ``attempt``, and the version of the bearer token they carry (0: none)."""
        headers: dict[str, str] = {}
        version = 0
        for hook in self.hooks:
            if isinstance(hook, BearerAuth):
                token, version = await hook.token()
                headers["Authorization"] = f"Bearer {token}"
            else:
                patch = hook(attempt, method, url)
                if inspect.isawaitable(patch):
                    patch = await patch
                if patch is not None:
                    headers.update(patch)
        return headers, version


async def send_with_hooks(
    hooks: Hooks,
    attempt: int,
    method: str,
    url: Any,
    time_left: float | None,
    send: Callable[[Mapping[str, str], float | None], Awaitable[R]],
    status_of: Callable[[R], int],
    release: Callable[[R], None],
) -> R:
    """Send try ``attempt`` with its hooks' headers; after a 401 (say), refresh the token and send once more.

    The resend belongs to the same try and must end within what is left of ``time_left``.
    """
    loop = asyncio.get_running_loop()
    began = loop.time()
    headers, version = await hooks.headers(attempt, method, url)
    left = None if time_left is None else time_left - (loop.time() - began)
    response = await send(headers, left)
    if hooks.bearer is None or status_of(response) not in hooks.refresh_on:
        return response
    release(response)
    await hooks.bearer.refresh(version)
    headers, _ = await hooks.headers(attempt, method, url)
    left = None if time_left is None else time_left - (loop.time() - began)
    if left is not None and left <= 0:
        raise TimeoutError  # the refresh took the try's time: the try timed out, like any other
    return await send(headers, left)


class HookedExchange:
    """An adapter's exchange whose every try goes through :func:`send_with_hooks` (the rest is the adapter's own)."""

    __slots__ = ("_hooks", "_inner")

    def __init__(self, inner: Any, hooks: Hooks) -> None:
        self._inner = inner
        self._hooks = hooks

    @property
    def codec(self) -> Any:  # noqa: D102
        return self._inner.codec

    @property
    def method(self) -> str:  # noqa: D102
        return self._inner.method  # type: ignore[no-any-return]

    @property
    def url(self) -> Any:  # noqa: D102
        return self._inner.url

    @property
    def hedgeable(self) -> bool:  # noqa: D102
        return self._inner.hedgeable  # type: ignore[no-any-return]

    @property
    def finish(self) -> Any:  # noqa: D102
        return self._inner.finish

    @property
    def response(self) -> Any:  # noqa: D102
        return self._inner.response

    @response.setter
    def response(self, value: Any) -> None:
        self._inner.response = value

    def describe(self, attempt: int) -> Any:  # noqa: D102
        return self._inner.describe(attempt)

    def resend_refusal(self, attempt: int) -> str | None:  # noqa: D102
        return self._inner.resend_refusal(attempt)  # type: ignore[no-any-return]

    def send(self, attempt: int, time_left: float | None) -> Awaitable[Any]:
        """Try ``attempt`` with the hooks' headers added (to a listener's, if it set some for this try)."""
        inner = self._inner
        method, url, _ = inner.describe(attempt)

        def patched(headers: Mapping[str, str], left: float | None) -> Awaitable[Any]:
            existing = try_headers.get() if TryHeadersUsed.flag else None
            set_try_headers({**existing, **headers} if existing else headers)
            return inner.send(attempt, left)  # type: ignore[no-any-return]

        codec = inner.codec
        return send_with_hooks(self._hooks, attempt, method, url, time_left, patched, codec.status, codec.release)
