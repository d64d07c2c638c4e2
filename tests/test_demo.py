"""The demo: it runs without arguments or network, and retries make the difference it claims."""

from __future__ import annotations

import subprocess
import sys

import pytest

from aiohttp_retry.__main__ import _main
from aiohttp_retry.demo import run_demo


async def test_retries_rescue_most_failed_requests() -> None:
    """Against the same flaky server, RetryClient succeeds far more often, at the cost of extra hits."""
    results = await run_demo(requests=200, seed=3)
    plain, retry = results["ClientSession"], results["RetryClient"]
    assert plain.requests == retry.requests == 200
    assert plain.succeeded < 0.85 * 200  # about 30 % of answers fail
    assert retry.succeeded >= 0.95 * 200  # all four tries fail for about 1 % of calls
    assert retry.hits > retry.requests  # the rescue came from retries


def test_demo_command_runs() -> None:
    """`python -m aiohttp_retry demo` prints the comparison and exits 0; no command prints help, exits 2."""
    done = subprocess.run(
        [sys.executable, "-m", "aiohttp_retry", "demo", "--requests", "40"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "RetryClient" in done.stdout
    assert "ClientSession" in done.stdout
    assert done.stderr == ""
    bare = subprocess.run([sys.executable, "-m", "aiohttp_retry"], capture_output=True, text=True, check=False)
    assert bare.returncode == 2
    assert "demo" in bare.stdout


def test_command_line_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    """The command line's parser: the demo prints its table; bad counts and missing commands are refused."""
    assert _main(["demo", "--requests", "30", "--seed", "5"]) == 0
    out = capsys.readouterr().out
    assert "30 GETs" in out
    assert "RetryClient" in out
    assert _main([]) == 2
    with pytest.raises(SystemExit):
        _main(["demo", "--requests", "0"])


def test_one_request_is_singular(capsys: pytest.CaptureFixture[str]) -> None:
    """One request is announced as "1 GET", two as "2 GETs"."""
    assert _main(["demo", "--requests", "1"]) == 0
    out = capsys.readouterr().out
    assert "; 1 GET, " in out
    assert "GETs" not in out
    assert _main(["demo", "--requests", "2"]) == 0
    assert "; 2 GETs, " in capsys.readouterr().out


@pytest.mark.parametrize("count", ["0", "-1", "-300", "1.5", "many"])
def test_requests_below_one_are_a_usage_error(count: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A count that is not an integer >= 1 exits 2 with the demo's usage and an error naming --requests."""
    with pytest.raises(SystemExit) as raised:
        _main(["demo", f"--requests={count}"])
    assert raised.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "usage: python -m aiohttp_retry demo " in captured.err
    assert f"argument --requests: must be an integer >= 1, got '{count}'" in captured.err
    assert "{demo}" not in captured.err  # not the top-level usage


def test_requests_zero_on_the_command_line() -> None:
    """`python -m aiohttp_retry demo --requests 0` exits 2 with the error on stderr and runs nothing."""
    done = subprocess.run(
        [sys.executable, "-m", "aiohttp_retry", "demo", "--requests", "0"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert "argument --requests: must be an integer >= 1, got '0'" in done.stderr


async def test_run_demo_refuses_no_requests() -> None:
    """Called directly, run_demo refuses a count below 1 instead of dividing by zero later."""
    with pytest.raises(ValueError, match="requests must be an integer >= 1"):
        await run_demo(requests=0)
