"""Endpoint names for labels and report rows: route templates and folded paths."""

from __future__ import annotations

import pytest
from yarl import URL

from aiohttp_retry.observe.routes import Routes, fold_path, origin_and_path


@pytest.mark.parametrize(
    ("path", "folded"),
    [
        ("/users/17", "/users/{id}"),
        ("/users/17/posts/2024", "/users/{id}/posts/{id}"),
        ("/objects/3f2a9c1e-8b7d-4c6a-9e1f-0a2b3c4d5e6f", "/objects/{id}"),
        ("/objects/3f2a9c1e8b7d4c6a9e1f0a2b3c4d5e6f", "/objects/{id}"),
        ("/blobs/a94a8fe5ccb19ba61c4c0873d391e987982fbbd3", "/blobs/{id}"),
        ("/tokens/AbCdEf123456GhIjKl7890", "/tokens/{id}"),
        ("/v2/users", "/v2/users"),  # short mixed segments are names, not ids
        ("/users/me", "/users/me"),
        ("/health", "/health"),
        ("", "/"),
        ("/", "/"),
    ],
)
def test_fold_path(path: str, folded: str) -> None:
    assert fold_path(path) == folded


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://user:pw@api.test:8080/a?q=1", ("api.test:8080", "/a")),
        ("https://api.test/a/b", ("api.test", "/a/b")),
        ("/relative/path?x=1", ("", "/relative/path")),
        (URL("http://api.test:8080/a?q=1"), ("api.test:8080", "/a")),
        (URL("https://user:pw@api.test/a"), ("api.test", "/a")),
        (URL("/relative"), ("", "/relative")),
    ],
)
def test_origin_and_path_drop_userinfo_and_query(url: object, expected: tuple[str, str]) -> None:
    assert origin_and_path(url) == expected


def test_first_matching_template_names_the_path() -> None:
    routes = Routes(["/users/{id}", "/users/{id}/posts/{post}", "/users/me"])
    assert routes.match("/users/17") == "/users/{id}"
    assert routes.match("/users/me") == "/users/{id}"  # the first match wins: list specific templates first
    assert routes.match("/users/17/posts/3") == "/users/{id}/posts/{post}"
    assert routes.match("/users/17/posts") is None
    assert routes.match("/users") is None
    assert routes.match("/users/a.b") == "/users/{id}"  # a dot is literal in templates, any char in a segment
    assert Routes(["/a.b"]).match("/axb") is None
    assert bool(routes)
    assert not Routes()


@pytest.mark.parametrize(
    ("templates", "error", "words"),
    [
        ("/users/{id}", TypeError, "not one string"),
        ([42], TypeError, "got a int"),
        (["users/{id}"], ValueError, "starting with '/'"),
    ],
)
def test_bad_templates_are_refused(templates: object, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        Routes(templates)  # type: ignore[arg-type]
