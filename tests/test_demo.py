"""The demo: it runs without arguments or network, and each scenario's library client does what its verdict claims."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from aiohttp_retry.__main__ import SCENARIO_NAMES, _main
from aiohttp_retry.demo import SCENARIOS, ScenarioResult, main, run_demo
from aiohttp_retry.demo.output import verdict
from aiohttp_retry.demo.scenarios import ATTEMPTS

REQUESTS = 80


@pytest.fixture(scope="module")
def results() -> dict[str, ScenarioResult]:
    """Every scenario once, with a few calls: the tests below read its figures."""
    return asyncio.run(run_demo(requests=REQUESTS, seed=3))


def test_every_scenario_runs_with_both_clients(results: dict[str, ScenarioResult]) -> None:
    """All four scenarios ran, in order, each with the same number of calls from both clients."""
    assert list(results) == ["flaky", "outage", "slow-tail", "rate-limited"]
    for result in results.values():
        assert result.plain.name == "ClientSession"
        assert result.library.name == "RetryClient"
        assert result.plain.requests == result.library.requests == REQUESTS
        assert result.stats is not None
        assert result.stats.calls == REQUESTS  # the report's row of this scenario
        assert result.plain.hits >= REQUESTS


def test_flaky_retries_rescue_failed_calls(results: dict[str, ScenarioResult]) -> None:
    """Against the same flaky server, RetryClient succeeds more often, at the cost of some extra hits."""
    plain, library = results["flaky"].plain, results["flaky"].library
    assert plain.succeeded < REQUESTS  # about 13 % of answers fail
    assert library.succeeded > plain.succeeded
    assert library.succeeded >= 0.97 * REQUESTS  # all four tries fail for a tiny share of calls
    assert library.retries > 0
    # The rescue came from retries; aiohttp itself may resend a GET once when a reused connection drops.
    assert (
        library.requests + library.retries
        <= library.hits
        <= library.requests + library.retries + library.answers.get("dropped", 0)
    )
    assert library.breaker_opened == 0  # 13 % failures stay below the breaker's 50 %


def test_outage_budget_and_breaker_protect_the_server(results: dict[str, ScenarioResult]) -> None:
    """During the outage RetryClient sends far fewer requests than 4 tries a call, and recovers after it."""
    plain, library = results["outage"].plain, results["outage"].library
    assert plain.outage_hits >= 0.25 * REQUESTS  # the calls of 30 % of the run met the outage
    assert library.outage_hits < plain.outage_hits * ATTEMPTS / 2
    assert library.breaker_opened + library.refused > 0
    assert library.gave_up.get("breaker open", 0) > 0
    assert library.after_outage == plain.after_outage > 0
    assert plain.after_outage_succeeded == plain.after_outage
    assert library.after_outage_succeeded >= 0.75 * library.after_outage  # the breaker closed again


def test_slow_tail_hedging_cuts_p99(results: dict[str, ScenarioResult]) -> None:
    """Hedged after 30 ms, RetryClient's p99 is far below the plain client's 300 ms tail."""
    plain, library = results["slow-tail"].plain, results["slow-tail"].library
    assert plain.p99 is not None
    assert library.p99 is not None
    assert plain.p99 >= 0.25
    assert library.p99 < plain.p99 / 2
    assert library.hedges > 0
    assert library.succeeded == plain.succeeded == REQUESTS


def test_rate_limited_waits_as_retry_after_asks(results: dict[str, ScenarioResult]) -> None:
    """RetryClient succeeds where the plain client got 429s, waiting the second each 429 asked for."""
    plain, library = results["rate-limited"].plain, results["rate-limited"].library
    assert plain.throttled > 0
    assert plain.succeeded == REQUESTS - plain.throttled
    assert library.succeeded > plain.succeeded
    assert library.throttled < plain.throttled * ATTEMPTS  # no 429 storm
    assert library.waited_as_asked > 0
    assert library.shortest_gap is not None
    assert library.shortest_gap >= 0.95  # no call came back before the second it was told


def test_verdicts_say_what_changed(results: dict[str, ScenarioResult]) -> None:
    """One line per scenario, naming it and comparing the clients' figures."""
    lines = {name: verdict(result) for name, result in results.items()}
    flaky = results["flaky"]
    assert lines["flaky"].startswith(
        f"flaky: success {flaky.plain.success_ratio * 100:.1f} % -> {flaky.library.success_ratio * 100:.1f} %,"
    )
    assert "server hits x" in lines["flaky"]
    assert "p99 " in lines["flaky"]
    assert "breaker opened" in lines["outage"]
    assert lines["slow-tail"].startswith("slow-tail: p99 ")
    assert "429s " in lines["rate-limited"]
    assert all("\n" not in line for line in lines.values())


def test_json_and_chart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--json writes every figure per scenario and client; --chart writes a PNG of the library client's report."""
    pytest.importorskip("matplotlib")
    image = pytest.importorskip("PIL.Image")
    figures, chart = tmp_path / "demo.json", tmp_path / "demo.png"
    assert main(40, 3, ["flaky"], chart=str(chart), json_path=str(figures), live=False) == 0
    out = capsys.readouterr().out
    assert f"Wrote every figure to {figures}" in out
    assert str(chart) in out
    data = json.loads(figures.read_text())
    assert data["requests"] == 40
    assert list(data["scenarios"]) == ["flaky"]
    flaky = data["scenarios"]["flaky"]
    assert flaky["verdict"].startswith("flaky: success ")
    plain, library = flaky["clients"]["ClientSession"], flaky["clients"]["RetryClient"]
    for figures_of in (plain, library):
        assert figures_of["requests"] == 40
        assert {"succeeded", "hits", "p50", "p99", "success_ratio", "answers"} <= set(figures_of)
    assert library["report"]["calls"] == 40
    assert library["report"]["route"] == "/flaky"
    with image.open(chart) as png:
        assert png.format == "PNG"
        assert png.size[0] > 100


def test_chart_without_matplotlib_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Without matplotlib, --chart exits 2 before running anything, naming the extra to install."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(SystemExit) as raised:
        _main(["demo", "--chart", str(tmp_path / "out.png")])
    assert raised.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "argument --chart: --chart needs matplotlib" in captured.err
    assert "pip install 'aiohttp_retry[charts]'" in captured.err
    assert main(5, chart=str(tmp_path / "out.png")) == 2
    assert not (tmp_path / "out.png").exists()


def test_demo_command_runs() -> None:
    """`python -m aiohttp_retry demo` prints plain lines into a pipe and exits 0; no command prints help, exits 2."""
    done = subprocess.run(
        [sys.executable, "-m", "aiohttp_retry", "demo", "--scenario", "flaky", "--requests", "40"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert sum(line.startswith("flaky ") and "succeeded," in line for line in lines) == 2  # a line per phase
    assert "What the library changed:" in done.stdout
    assert "  flaky: success " in done.stdout
    assert "\x1b[" not in done.stdout  # no terminal codes into a pipe
    bare = subprocess.run([sys.executable, "-m", "aiohttp_retry"], capture_output=True, text=True, check=False)
    assert bare.returncode == 2
    assert "demo" in bare.stdout


def test_runs_without_rich() -> None:
    """With rich unimportable, the demo prints plain lines and says how to get the live view."""
    code = (
        "import sys; sys.modules['rich'] = None; from aiohttp_retry.__main__ import _main; "
        "sys.exit(_main(['demo', '--scenario', 'flaky', '--requests', '20']))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "flaky: success " in done.stdout
    assert "pip install 'aiohttp_retry[rich]'" in done.stdout


def test_live_view_when_forced(capsys: pytest.CaptureFixture[str]) -> None:
    """live=True with a terminal console shows the rich table while running, then the rich tables and verdicts."""
    console_module = pytest.importorskip("rich.console")
    screen = io.StringIO()
    console = console_module.Console(file=screen, force_terminal=True, width=140, color_system="standard")
    assert main(30, 3, ["flaky", "slow-tail"], live=True, console=console) == 0
    assert capsys.readouterr().out == ""  # everything went to the console
    shown = screen.getvalue()
    assert "\x1b[" in shown  # drawn for a terminal
    assert "aiohttp_retry demo" in shown
    assert "server load now:" in shown
    assert "30/30" in shown
    assert "server req/s" in shown
    assert "What the library changed:" in shown
    assert "slow-tail: p99 " in shown


def test_command_line_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    """The command line's parser: the demo prints its tables; bad counts and missing commands are refused."""
    assert _main(["demo", "--scenario", "flaky", "--requests", "30", "--seed", "5"]) == 0
    out = capsys.readouterr().out
    assert "30 GETs" in out
    assert "RetryClient" in out
    assert "ClientSession" in out
    assert _main([]) == 2
    with pytest.raises(SystemExit) as refused:
        _main(["demo", "--requests", "0"])
    assert refused.value.code == 2


def test_scenario_may_be_repeated(capsys: pytest.CaptureFixture[str]) -> None:
    """--scenario is repeatable; a name given twice runs once, in the order given."""
    assert (
        _main(["demo", "--scenario", "slow-tail", "--scenario", "flaky", "--scenario", "flaky", "--requests", "5"]) == 0
    )
    out = capsys.readouterr().out
    assert "Scenarios: slow-tail, flaky; 5 GETs," in out
    assert sum(line.startswith("flaky ") for line in out.splitlines()) == 2


def test_unknown_scenario_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown name exits 2 and lists the choices; run_demo refuses it too."""
    with pytest.raises(SystemExit) as raised:
        _main(["demo", "--scenario", "meteor"])
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert "argument --scenario: invalid choice: 'meteor'" in err
    assert "rate-limited" in err
    assert tuple(SCENARIOS) == SCENARIO_NAMES


def test_one_request_is_singular(capsys: pytest.CaptureFixture[str]) -> None:
    """One request is announced as "1 GET", two as "2 GETs"."""
    assert _main(["demo", "--scenario", "flaky", "--requests", "1"]) == 0
    out = capsys.readouterr().out
    assert "; 1 GET, " in out
    assert "GETs" not in out
    assert _main(["demo", "--scenario", "flaky", "--requests", "2"]) == 0
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
    """Called directly, run_demo refuses a count below 1 instead of dividing by zero later, and unknown names."""
    with pytest.raises(ValueError, match="requests must be an integer >= 1"):
        await run_demo(requests=0)
    with pytest.raises(ValueError, match="unknown scenario 'meteor'"):
        await run_demo(requests=1, scenarios=["meteor"])
