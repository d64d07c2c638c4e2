"""What the engine needs from a transport and from the request of each call.

The engine imports no HTTP client. A transport adapter gives it:

- a :class:`Codec`, the few facts the engine reads from that client's
  responses and errors;
- an :class:`Exchange` per call, which sends try ``n`` and describes it.

The stateful policies it consults are protocols of their own, in
:mod:`aiohttp_retry.policy.protocols`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol, TypeVar

from aiohttp_retry.policy.stop import ErrorKind

__all__ = ["Codec", "Exchange"]

R = TypeVar("R")
R_contra = TypeVar("R_contra", contravariant=True)


class Codec(Protocol[R_contra]):
    """What the engine reads from one transport's responses and errors."""

    @property
    def status(self) -> Callable[[R_contra], int]:
        """Reads the response's status code (called once per try: a C-level getter suits it)."""

    def header(self, response: R_contra, name: str) -> str | None:
        """A response header (case-insensitive), or ``None``."""

    async def discard(self, response: R_contra, time_left: float | None) -> None:
        """Release a response the call will not return; read a small body first, within ``time_left`` s."""

    def release(self, response: R_contra) -> None:
        """Release a response at once (cancellation paths): no reading, no waiting."""

    def error_kind(self, error: Exception) -> ErrorKind:
        """The kind of failure an exception raised by a try is."""

    def error_response(self, error: Exception) -> tuple[int, str | None] | None:
        """For an HTTP error raised instead of returning a response: its status and ``Retry-After``."""


class Exchange(Protocol[R]):
    """One call as an adapter presents it to the engine.

    ``codec`` reads its responses. ``method`` and ``url`` are those of try 1,
    for events. ``response`` receives the response the call returns, before
    it is returned. ``hedgeable`` says whether copies may run at once.
    ``finish``, when set, checks the response the call is about to return
    (``raise_for_status``) and may raise, having released it.
    """

    response: R

    @property
    def codec(self) -> Codec[R]: ...  # noqa: D102
    @property
    def method(self) -> str: ...  # noqa: D102
    @property
    def url(self) -> Any: ...  # noqa: D102
    @property
    def hedgeable(self) -> bool: ...  # noqa: D102
    @property
    def finish(self) -> Callable[[R], Awaitable[None]] | None: ...  # noqa: D102

    def send(self, attempt: int, time_left: float | None) -> Awaitable[R]:
        """Start try ``attempt``, which must end within ``time_left`` seconds (``None``: no limit of the library's).

        A try cut by that limit raises the transport's timeout error.
        """

    def describe(self, attempt: int) -> tuple[str, Any, Mapping[str, Any] | None]:
        """The method, URL and headers of try ``attempt``."""

    def resend_refusal(self, attempt: int) -> str | None:
        """Why try ``attempt`` cannot be sent (a consumed one-shot body), or ``None``."""
