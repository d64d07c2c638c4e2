"""Hooks before every try: header patches, bearer tokens refreshed on 401, basic auth; through both adapters."""

from __future__ import annotations

import asyncio
import base64

import pytest
from aiohttp import ClientSession

from aiohttp_retry import ExponentialRetry, GaveUp, RetryBudget, TryFinished
from aiohttp_retry.hooks import BearerAuth, Hooks, basic_auth
from tests.drivers import Driver
from tests.fault_server import FaultServer, Reply

NO_WAIT = ExponentialRetry(attempts=3, start_timeout=0)


async def test_a_patch_runs_before_every_try_and_sees_its_number(
    make_driver: type[Driver], session: ClientSession, fault: FaultServer
) -> None:
    """A sync and an async hook add headers to each try; the later hook wins a header both set."""
    seen: list[tuple[int, str]] = []

    def key(attempt: int, method: str, url: object) -> dict[str, str]:
        seen.append((attempt, method))
        return {"X-Api-Key": f"key-{attempt}", "X-Both": "first"}

    async def sign(attempt: int, method: str, url: object) -> dict[str, str]:
        await asyncio.sleep(0)
        return {"X-Signature": f"sig-{attempt}", "X-Both": "second"}

    path = fault.script("/signed", 503, 503, 200)
    driver = make_driver(session, hooks=[key, sign, lambda *_: None])
    response = await driver.request("GET", fault.url(path), NO_WAIT, headers={"X-Own": "kept"})
    assert response.status == 200
    await response.release()
    assert seen == [(1, "GET"), (2, "GET"), (3, "GET")]
    sent = [
        (h.headers["X-Api-Key"], h.headers["X-Signature"], h.headers["X-Both"], h.headers["X-Own"]) for h in fault.hits
    ]
    assert sent == [(f"key-{n}", f"sig-{n}", "second", "kept") for n in (1, 2, 3)]


async def test_basic_auth_on_every_try(make_driver: type[Driver], session: ClientSession, fault: FaultServer) -> None:
    path = fault.script("/basic", 503, 200)
    driver = make_driver(session, hooks=[basic_auth("ann", "pw")])
    await (await driver.request("GET", fault.url(path), NO_WAIT)).release()
    expected = "Basic " + base64.b64encode(b"ann:pw").decode()
    assert [h.headers["Authorization"] for h in fault.hits] == [expected, expected]


async def test_a_401_refreshes_the_token_and_resends_within_the_same_try(
    make_driver: type[Driver], session: ClientSession, fault: FaultServer
) -> None:
    """The resend is no failed try: one TryFinished, attempt 1; the budget pays nothing for it."""
    tokens = iter(["old", "new"])
    calls = 0

    def get_token() -> str:
        nonlocal calls
        calls += 1
        return next(tokens)

    events: list[object] = []
    budget = RetryBudget(ratio=0, min_per_second=0)  # no retry allowed at all
    path = fault.script("/me", Reply(401), Reply(200, b"me"))
    driver = make_driver(session, hooks=[BearerAuth(get_token)], listeners=[events.append], retry_budget=budget)
    response = await driver.request("GET", fault.url(path), NO_WAIT)
    assert (response.status, await response.read()) == (200, b"me")
    assert [h.headers["Authorization"] for h in fault.hits] == ["Bearer old", "Bearer new"]
    assert calls == 2
    finished = [e for e in events if isinstance(e, TryFinished)]
    assert [(e.attempt, e.status, e.final) for e in finished] == [(1, 200, True)]
    assert not [e for e in events if isinstance(e, GaveUp)]


async def test_concurrent_401s_share_one_refresh(
    make_driver: type[Driver], session: ClientSession, fault: FaultServer
) -> None:
    """20 callers meet 401 with the same token: the token getter runs once more, not 20 times."""
    fetched = 0

    async def get_token() -> str:
        nonlocal fetched
        fetched += 1
        await asyncio.sleep(0.01)
        return f"token-{fetched}"

    auth = BearerAuth(get_token)
    fault.script("/api", *([Reply(401, delay=0.01)] * 20), Reply(200))
    driver = make_driver(session, hooks=[auth])
    responses = await asyncio.gather(*(driver.request("GET", fault.url("/api"), NO_WAIT) for _ in range(20)))
    assert [r.status for r in responses] == [200] * 20
    for response in responses:
        await response.release()
    assert fetched == 2  # the first token, and one refresh for the whole episode
    assert {h.headers["Authorization"] for h in fault.hits[20:]} == {"Bearer token-2"}


async def test_a_401_after_a_refresh_ends_the_try(
    make_driver: type[Driver], session: ClientSession, fault: FaultServer
):
    """If the new token is refused too, that 401 is the try's answer (401 is not retried by default)."""
    path = fault.script("/denied", Reply(401, b"no"))
    fetched = []
    driver = make_driver(session, hooks=[BearerAuth(lambda: fetched.append(1) or f"t{len(fetched)}")])
    response = await driver.request("GET", fault.url(path), NO_WAIT)
    assert (response.status, await response.read()) == (401, b"no")
    assert len(fault.hits) == 2
    assert len(fetched) == 2


async def test_a_failing_token_getter_ends_the_call_and_is_asked_again_next_time(
    make_driver: type[Driver], session: ClientSession, fault: FaultServer
) -> None:
    answers: list[object] = [RuntimeError("vault down"), "tok"]

    def get_token() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return str(answer)

    driver = make_driver(session, hooks=[BearerAuth(get_token)])
    with pytest.raises(RuntimeError, match="vault down"):
        await driver.request("GET", fault.url("/x"), ExponentialRetry(attempts=1))
    response = await driver.request("GET", fault.url("/x"), ExponentialRetry(attempts=1))
    assert response.status == 200
    await response.release()
    assert fault.hits[-1].headers["Authorization"] == "Bearer tok"


def test_bad_hooks_are_refused() -> None:
    with pytest.raises(TypeError, match=r"^hooks must hold callables"):
        Hooks([42])
    with pytest.raises(TypeError, match=r"^hooks must be an iterable"):
        Hooks("abc")
    with pytest.raises(ValueError, match=r"^hooks may hold one BearerAuth at most"):
        Hooks([BearerAuth(str), BearerAuth(str)])
    with pytest.raises(TypeError, match=r"^get_token must be a callable"):
        BearerAuth("token")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="may not contain ':'"):
        basic_auth("a:b", "pw")
    with pytest.raises(TypeError, match="as strings"):
        basic_auth("a", None)  # type: ignore[arg-type]


async def test_a_token_getter_must_return_a_string() -> None:
    auth = BearerAuth(lambda: 42)
    with pytest.raises(TypeError, match=r"^get_token must return a non-empty str, got 42"):
        await auth.token()
