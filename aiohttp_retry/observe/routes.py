"""Endpoint names of bounded cardinality, for metrics labels and report rows.

A raw URL is never a good label: ``/users/17`` and ``/users/42`` would be two
time series, and a query string could carry a secret. :class:`Routes` names a
URL by the first route template that matches its path (``/users/{id}``), or,
for report rows only, by its path with identifier-like segments folded:
numbers, UUIDs and long hex or mixed letter-and-digit tokens become ``{id}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

__all__ = ["STATUS_CLASSES", "Routes", "fold_path", "origin_and_path", "status_class"]

_PLACEHOLDER = re.compile(r"\{[^{}/]*\}")
_ID_SEGMENT = re.compile(
    r"""
    \d+                                                     # 17, 2024
    | [0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}  # a UUID
    | [0-9a-fA-F]{16,}                                      # a long hex token (a hash, an object id)
    | (?=[^/]*\d)(?=[^/]*[A-Za-z])[A-Za-z0-9_-]{20,}        # a long token of letters and digits
    """,
    re.VERBOSE,
)


#: The class of each status code from 100 to 599, "1xx" to "5xx"; other codes are "other".
STATUS_CLASSES = {status: f"{status // 100}xx" for status in range(100, 600)}


def status_class(status: int | None, kind: Any) -> str:
    """How a call or try ended, as a label: ``"2xx"`` ... ``"5xx"``, else the error kind, else ``"none"``."""
    if status is not None:
        return STATUS_CLASSES.get(status, "other")
    return "none" if kind is None else str(kind.value)


def fold_path(path: str) -> str:
    """``path`` with each identifier-like segment replaced by ``{id}``: ``/users/17/posts`` -> ``/users/{id}/posts``."""
    if not path:
        return "/"
    return "/".join("{id}" if _ID_SEGMENT.fullmatch(segment) else segment for segment in path.split("/"))


def origin_and_path(url: Any) -> tuple[str, str]:
    """The ``host[:port]`` and the path of ``url`` (a ``str`` or ``yarl.URL``; relative: empty host)."""
    if isinstance(url, str):
        parts = urlsplit(url)
        return parts.netloc.rpartition("@")[2], parts.path
    host = url.host or ""
    port = url.explicit_port
    return (f"{host}:{port}" if port is not None else host), url.path


class Routes:
    """Route templates (``"/users/{id}"``, ``"/orders/{order}/items"``) that name the URLs they match.

    A template matches a path with the same number of segments whose literal
    segments are equal; ``{name}`` matches any one segment. Templates are tried
    in the order given; the first match names the URL. The answer is cached per
    path (bounded), so naming costs a dictionary lookup once a path has been seen.

    Raises:
        TypeError: ``templates`` is a string, or holds something other than strings.
        ValueError: a template does not start with ``/``.
    """

    def __init__(self, templates: Iterable[str] = ()) -> None:
        if isinstance(templates, str):
            msg = "routes must be an iterable of templates such as ['/users/{id}'], not one string"
            raise TypeError(msg)
        self.templates = tuple(templates)
        patterns = []
        for template in self.templates:
            if not isinstance(template, str) or not template.startswith("/"):
                kind = type(template).__name__
                msg = f"routes must hold path templates starting with '/' such as '/users/{{id}}', got a {kind}"
                raise (TypeError if not isinstance(template, str) else ValueError)(msg)
            literal = (re.escape(part) for part in _PLACEHOLDER.split(template))
            patterns.append((re.compile("[^/]+".join(literal)), template))
        self._patterns = tuple(patterns)
        self.match = lru_cache(maxsize=4096)(self._match)

    def _match(self, path: str) -> str | None:
        for pattern, template in self._patterns:
            if pattern.fullmatch(path):
                return template
        return None

    def __bool__(self) -> bool:
        return bool(self.templates)

    def __repr__(self) -> str:
        return f"Routes({list(self.templates)!r})"
