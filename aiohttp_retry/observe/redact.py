"""Redaction: the text of URLs, headers and errors that is safe to log.

The library never writes secrets. Everything it logs, puts in an event ``repr``,
an exception message or a report goes through here first:

- URLs lose their userinfo (``user:password@``) and their fragment, and query
  values are masked as ``***`` (all of them by default, or only the named ones);
- headers in :data:`SENSITIVE_HEADERS`, and any the user names, are masked;
- errors are described by class name and status only, because the ``str`` and
  ``repr`` of aiohttp's ``ClientResponseError`` carry the request's headers.

Pure functions: no aiohttp, no event loop, and :func:`redact_url` never raises.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

__all__ = [
    "DEFAULT_REDACTOR",
    "MASK",
    "SENSITIVE_HEADERS",
    "Redactor",
    "describe_error",
    "redact_headers",
    "redact_url",
]

#: What a redacted value is replaced with.
MASK = "***"

#: Headers that are always masked (lower-case names).
SENSITIVE_HEADERS: frozenset[str] = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})

_UNPRINTABLE = "<unprintable URL>"


def _lowered(names: Iterable[str]) -> frozenset[str]:
    # A lone string means one name, not a set of one-letter names.
    if isinstance(names, str):
        return frozenset((names.lower(),))
    return frozenset(str(name).lower() for name in names)


def _strip_userinfo(head: str) -> str:
    """``head`` (a URL up to its query) without the ``user:password@`` of its authority."""
    start = head.find("//")
    # "//" opens an authority at the start or after a "scheme:" (however malformed); elsewhere it is in a path.
    if start == 0 or (start > 0 and head[start - 1] == ":" and "/" not in head[:start]):
        begin = start + 2
        end = head.find("/", begin)
        end = len(head) if end < 0 else end
        host = head[max(begin, head.rfind("@", begin, end) + 1) : end]
        if _is_host(host):
            return f"{head[:begin]}{host}{head[end:]}"
        # A port that is no number: a raw "/", "?" or "#" cut a password short
        # ("http://u:p/w@h/x"). Resume after the "@" that ended it, or hide the lot.
        at = head.find("@", end)
        return _strip_userinfo(head[:begin] + head[at + 1 :]) if at >= 0 else f"{head[:begin]}{MASK}{head[end:]}"
    # No authority. A first segment holding "@" ("user:pw@host/p") is most likely
    # userinfo given without a scheme: dropping it may mangle an odd path, never leaks.
    end = head.find("/")
    at = head.rfind("@", 0, len(head) if end < 0 else end)
    return head if at < 0 else head[at + 1 :]


def _is_host(host: str) -> bool:
    if host.endswith("]"):
        return True  # an IPv6 literal without a port
    _, colon, port = host.rpartition(":")
    return not colon or not port or (port.isascii() and port.isdigit())


def _mask_query(query: str, names: frozenset[str] | None) -> str:
    parts = query.split("&")
    for index, part in enumerate(parts):
        if not part:
            continue
        name, eq, _ = part.partition("=")
        if names is None:
            # A bare entry ("?s3cret") may itself be the token: mask it too.
            parts[index] = f"{name}={MASK}" if eq else MASK
        elif eq and unquote_plus(name).lower() in names:
            parts[index] = f"{name}={MASK}"
    return "&".join(parts)


def _redact_text(text: str, query: frozenset[str] | None) -> str:
    if "@" not in text and "?" not in text and "#" not in text:
        return text  # the common case: nothing to hide
    text = text.partition("#")[0]
    head, question, rest = text.partition("?")
    head = _strip_userinfo(head)
    return f"{head}?{_mask_query(rest, query)}" if question else head


def redact_url(url: object, query: Collection[str] | None = None) -> str:
    """The text of ``url`` (a ``str``, a ``yarl.URL`` or anything printable) safe to log.

    Userinfo and fragment are dropped. Query values are masked as ``***``: all
    of them (and bare entries, which may be tokens) when ``query`` is ``None``,
    otherwise only those of the parameters named in ``query`` (case-insensitive;
    a lone ``str`` names one). Never raises: if even ``str(url)`` fails, a
    placeholder is returned.
    """
    try:
        return _redact_text(str(url), None if query is None else _lowered(query))
    except Exception:  # noqa: BLE001 - a log line must never break a call
        return _UNPRINTABLE


def redact_headers(headers: Mapping[str, Any] | None, names: Collection[str] = ()) -> dict[str, str]:
    """A copy of ``headers`` with :data:`SENSITIVE_HEADERS` and ``names`` (case-insensitive) masked as ``***``.

    Values become ``str``; a name repeated in a multi-dict keeps every value, joined by ``", "``.
    """
    if not headers:
        return {}
    hidden = SENSITIVE_HEADERS | _lowered(names) if names else SENSITIVE_HEADERS
    return _redact_headers(headers, hidden)


def _redact_headers(headers: Mapping[str, Any], hidden: frozenset[str]) -> dict[str, str]:
    copy: dict[str, str] = {}
    for name, value in headers.items():
        key = str(name)
        text = MASK if key.lower() in hidden else str(value)
        copy[key] = text if key not in copy or text == MASK else f"{copy[key]}, {text}"
    return copy


def describe_error(error: BaseException) -> str:
    """A log-safe description of ``error``: its class name, and ``(status N)`` if it has an integer ``status``.

    Never the exception's ``str`` or ``repr``: aiohttp's ``ClientResponseError``
    carries the request headers (``Authorization`` included) in both.
    """
    name = type(error).__name__
    try:
        status = getattr(error, "status", None)
    except Exception:  # noqa: BLE001 - a property that raises is no reason to lose the log line
        return name
    if isinstance(status, int) and not isinstance(status, bool):
        return f"{name} (status {status})"
    return name


def _names(value: object, parameter: str, *, optional: bool) -> frozenset[str] | None:
    if value is None and optional:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        allowed = "a collection of names or None" if optional else "a collection of names"
        msg = f"{parameter} must be {allowed}, got {value!r}"
        raise TypeError(msg)
    names = tuple(value)
    for name in names:
        if not isinstance(name, str):
            msg = f"{parameter} must hold names as str, got {name!r}"
            raise TypeError(msg)
    return frozenset(name.lower() for name in names)


@dataclass(frozen=True, slots=True)
class Redactor:
    """What to hide, beyond what is always hidden.

    Args:
        headers: extra header names to mask (case-insensitive), on top of
            :data:`SENSITIVE_HEADERS`.
        query: names of the query parameters whose values are masked
            (case-insensitive); ``None`` (the default) masks every value.

    A plain ``str`` for either is a ``TypeError`` (``"token"`` is not a set of
    names); any other collection of ``str`` is accepted and stored lower-cased.
    """

    headers: frozenset[str] = frozenset()
    query: frozenset[str] | None = None

    def __post_init__(self) -> None:
        # Frozen: normalise through object.__setattr__, once, at construction.
        object.__setattr__(self, "headers", _names(self.headers, "headers", optional=False))
        object.__setattr__(self, "query", _names(self.query, "query", optional=True))

    def url(self, url: object) -> str:
        """The text of ``url`` safe to log (see :func:`redact_url`)."""
        try:
            return _redact_text(str(url), self.query)
        except Exception:  # noqa: BLE001 - a log line must never break a call
            return _UNPRINTABLE

    def headers_of(self, headers: Mapping[str, Any] | None) -> dict[str, str]:
        """A copy of ``headers`` safe to log (see :func:`redact_headers`)."""
        if not headers:
            return {}
        return _redact_headers(headers, SENSITIVE_HEADERS | self.headers)


#: Masks the always-sensitive headers and every query value.
DEFAULT_REDACTOR = Redactor()
