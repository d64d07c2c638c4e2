"""The configuration checks: which values each accepts, and the exact message for the rest.

A wrong type is a ``TypeError``, a right type out of range a ``ValueError``; every
message names the parameter, says what is allowed and shows the value given.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiohttp_retry.policy.validate import (
    check_attempts,
    check_callable,
    check_count,
    check_delay,
    check_exceptions,
    check_factor,
    check_header_name,
    check_listeners,
    check_methods,
    check_ratio,
    check_size,
    check_statuses,
    check_window,
)


def message(error: type[Exception], check: Callable[[], object]) -> str:
    """The message of the error ``check`` raises, which must be exactly of class ``error``."""
    with pytest.raises(error) as info:
        check()
    assert type(info.value) is error
    return str(info.value)


# --- whole-number checks -------------------------------------------------------------------------


@given(value=st.integers(min_value=1, max_value=10**30))
def test_count_accepts_every_integer_from_one(value: int) -> None:
    """check_count returns any int >= 1 unchanged."""
    assert check_count(value, "n") == value
    assert check_attempts(value) == value


@given(value=st.integers(max_value=0))
def test_count_refuses_zero_and_below(value: int) -> None:
    """An int below 1 is a ValueError that names the parameter, the rule and the value."""
    assert message(ValueError, lambda: check_count(value, "tries", " (x)")) == (
        f"tries must be an integer >= 1 (x), got {value!r}"
    )


@pytest.mark.parametrize("value", [True, False, 1.0, "3", None])
def test_count_refuses_bools_floats_and_text(value: object) -> None:
    """A bool is not a count, nor is a float or a string: TypeError with the same wording."""
    assert message(TypeError, lambda: check_count(value, "tries")) == (f"tries must be an integer >= 1, got {value!r}")


def test_attempts_message_explains_the_count() -> None:
    """check_attempts says that the count includes the first try, under the default name attempts."""
    assert message(ValueError, lambda: check_attempts(0)) == (
        "attempts must be an integer >= 1 (the total number of tries, the first included), got 0"
    )
    assert message(TypeError, lambda: check_attempts(2.0, "tries")) == (
        "tries must be an integer >= 1 (the total number of tries, the first included), got 2.0"
    )


@given(value=st.integers(min_value=0, max_value=10**30))
def test_size_accepts_zero_and_up(value: int) -> None:
    """check_size returns any int >= 0 unchanged: zero bytes is a valid size."""
    assert check_size(value, "buf") == value


@pytest.mark.parametrize(
    ("value", "error"),
    [(-1, ValueError), (True, TypeError), (False, TypeError), (1.0, TypeError), ("1", TypeError)],
)
def test_size_refuses_negatives_bools_and_floats(value: object, error: type[Exception]) -> None:
    """Negative sizes are a ValueError; bools, floats and text a TypeError; both say 'bytes >= 0'."""
    assert message(error, lambda: check_size(value, "buf")) == (
        f"buf must be a whole number of bytes >= 0, got {value!r}"
    )


# --- number checks -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("check", "allowed", "default_name"),
    [
        (check_window, "a finite number of seconds > 0", "window"),
        (check_delay, "a finite number of seconds >= 0", None),
        (check_factor, "a finite number >= 1", "factor"),
        (check_ratio, "a finite number >= 0", None),
    ],
)
@pytest.mark.parametrize("value", [True, False, "1", None, 1j])
def test_number_checks_refuse_bools_and_non_numbers(
    check: Callable[..., float], allowed: str, default_name: str | None, value: object
) -> None:
    """A bool or a non-number is a TypeError saying what number is allowed."""
    assert message(TypeError, lambda: check(value, "p")) == f"p must be {allowed}, got {value!r}"
    if default_name is not None:
        assert message(TypeError, lambda: check(value)) == f"{default_name} must be {allowed}, got {value!r}"


@pytest.mark.parametrize(
    ("check", "allowed", "bad", "good"),
    [
        (check_window, "a finite number of seconds > 0", [0, 0.0, -1e-300, -5], [5e-324, 1, 2.5, 1e308]),
        (check_delay, "a finite number of seconds >= 0", [-5e-324, -1], [0, 0.0, 5e-324, 7, 1e308]),
        (check_factor, "a finite number >= 1", [0, 0.999999, -2], [1, 1.0, 1.5, 10**6]),
        (check_ratio, "a finite number >= 0", [-5e-324, -1], [0, 0.25, 3, 1e308]),
    ],
)
def test_number_check_boundaries(
    check: Callable[[object, str], float], allowed: str, bad: list[float], good: list[float]
) -> None:
    """Each number check has its own lower bound; NaN and both infinities are always refused."""
    for value in [*bad, math.inf, -math.inf, math.nan]:
        assert message(ValueError, lambda v=value: check(v, "p")) == f"p must be {allowed}, got {value!r}"
    for value in good:
        got = check(value, "p")
        assert type(got) is float
        assert got == value


@given(value=st.floats(min_value=0, allow_infinity=False, allow_nan=False))
def test_delay_returns_every_finite_non_negative_float(value: float) -> None:
    """check_delay hands back the value itself as a float."""
    assert check_delay(value, "d") == value


def test_default_names() -> None:
    """check_window and check_factor name 'window' and 'factor' unless told otherwise."""
    assert message(ValueError, lambda: check_window(0)) == "window must be a finite number of seconds > 0, got 0"
    assert message(ValueError, lambda: check_factor(0.5)) == "factor must be a finite number >= 1, got 0.5"


# --- callables -----------------------------------------------------------------------------------


def test_callable_accepts_none_and_callables() -> None:
    """None and any callable come back unchanged."""
    assert check_callable(None, "hook", "a function") is None
    assert check_callable(print, "hook", "a function") is print


def test_callable_refuses_others() -> None:
    """A non-callable is a TypeError naming the parameter and what it is called for."""
    assert message(TypeError, lambda: check_callable(3, "hook", "a function of one event")) == (
        "hook must be a function of one event or None, got 3"
    )


# --- collections ---------------------------------------------------------------------------------


@given(codes=st.sets(st.integers(min_value=100, max_value=599)))
def test_statuses_accept_every_code_from_100_to_599(codes: set[int]) -> None:
    """Any collection of codes in 100..599, the ends included, is kept as a frozenset."""
    got = check_statuses(list(codes))
    assert type(got) is frozenset
    assert got == codes


@pytest.mark.parametrize("code", [99, 600, 0, -1, 4290])
def test_statuses_refuse_codes_out_of_range(code: int) -> None:
    """A code below 100 or above 599 is a ValueError naming it."""
    assert message(ValueError, lambda: check_statuses([503, code])) == (
        f"statuses must hold status codes from 100 to 599, got {code!r}"
    )
    assert message(ValueError, lambda: check_statuses({code}, "retry_statuses")).startswith("retry_statuses ")


@pytest.mark.parametrize("code", [True, 503.0, "503", None])
def test_statuses_refuse_non_integer_codes(code: object) -> None:
    """A bool, float or string among the codes is a TypeError."""
    assert message(TypeError, lambda: check_statuses([code])) == (
        f"statuses must hold integer status codes from 100 to 599, got {code!r}"
    )


@pytest.mark.parametrize("value", [503, "503", b"503", None])
def test_statuses_must_be_a_collection(value: object) -> None:
    """One code, a string or bytes where a collection belongs is a TypeError with an example."""
    assert message(TypeError, lambda: check_statuses(value)) == (
        f"statuses must be a collection of status codes such as {{429, 503}}, got {value!r}"
    )


def test_statuses_accept_any_iterable() -> None:
    """A generator is read once and its codes kept."""
    assert check_statuses(c for c in (500, 502)) == frozenset({500, 502})


def test_exceptions_accept_classes() -> None:
    """A collection of exception classes, BaseException subclasses included, is kept as a frozenset."""
    got = check_exceptions([TimeoutError, KeyboardInterrupt])
    assert type(got) is frozenset
    assert got == {TimeoutError, KeyboardInterrupt}
    assert check_exceptions(()) == frozenset()


def test_one_exception_class_alone_is_refused_with_a_hint() -> None:
    """Passing one class instead of a collection is a TypeError suggesting the set to write."""
    assert message(TypeError, lambda: check_exceptions(TimeoutError)) == (
        f"exceptions must be a collection of exception classes such as {{TimeoutError}}, got {TimeoutError!r} alone"
    )
    assert message(TypeError, lambda: check_exceptions(ValueError, "errs")).startswith(
        "errs must be a collection of exception classes such as {ValueError}"
    )


@pytest.mark.parametrize("value", ["TimeoutError", 3, None])
def test_exceptions_must_be_a_collection(value: object) -> None:
    """A string or a non-iterable is a TypeError with an example."""
    assert message(TypeError, lambda: check_exceptions(value)) == (
        f"exceptions must be a collection of exception classes such as {{TimeoutError}}, got {value!r}"
    )


@pytest.mark.parametrize("item", [TimeoutError(), int, "TimeoutError"])
def test_exceptions_must_hold_classes(item: object) -> None:
    """An instance, a class that is not an exception, or a name is a TypeError naming it."""
    assert message(TypeError, lambda: check_exceptions([TimeoutError, item])) == (
        f"exceptions must hold exception classes such as TimeoutError, got {item!r}"
    )


def test_methods_are_upper_cased_tokens() -> None:
    """Method names are kept upper-cased; any RFC 9110 token is a valid name."""
    got = check_methods(["get", "Put", "M-SEARCH", "x!#$%&'*+.^_`|~9"])
    assert type(got) is frozenset
    assert got == {"GET", "PUT", "M-SEARCH", "X!#$%&'*+.^_`|~9"}


@pytest.mark.parametrize("method", ["", "GE T", "GET\n", "G(ET", "GÉT", "G/T"])
def test_methods_refuse_non_tokens(method: str) -> None:
    """An empty name, a space, a newline or a separator is a ValueError naming the method."""
    assert message(ValueError, lambda: check_methods(["GET", method])) == (
        f"methods must hold method names such as 'GET' (letters, no spaces), got {method!r}"
    )


@pytest.mark.parametrize("method", [b"GET", 1, None])
def test_methods_must_be_strings(method: object) -> None:
    """A method given as bytes or a number is a TypeError."""
    assert message(TypeError, lambda: check_methods([method], "allowed")) == (
        f"allowed must hold method names as strings, got {method!r}"
    )


@pytest.mark.parametrize("value", ["GET", b"GET", 5])
def test_methods_must_be_a_collection(value: object) -> None:
    """'GET' alone would mean G, E and T: a string is a TypeError, as is a non-iterable."""
    assert message(TypeError, lambda: check_methods(value)) == (
        f"methods must be a collection of method names such as {{'GET', 'PUT'}}, got {value!r}"
    )


@pytest.mark.parametrize("header", ["Idempotency-Key", "X-Key", "k", "a!#$%&'*+.^_`|~0"])
def test_header_names_accepted(header: str) -> None:
    """Any RFC 9110 token is a valid header name, and None means no header."""
    assert check_header_name(header, "h") == header
    assert check_header_name(None, "h") is None


@pytest.mark.parametrize("header", ["", "Idempotency Key", "Key:", "Key\r\n", "Schlüssel"])
def test_header_names_refused(header: str) -> None:
    """An empty name, a space, a colon or a line break is a ValueError naming the parameter."""
    assert message(ValueError, lambda: check_header_name(header, "idempotency_header")) == (
        "idempotency_header must be a non-empty header name such as 'Idempotency-Key' (no spaces), "
        f"or None, got {header!r}"
    )


@pytest.mark.parametrize("header", [b"X-Key", 1, True])
def test_header_name_must_be_text(header: object) -> None:
    """A header name given as bytes or a number is a TypeError."""
    assert message(TypeError, lambda: check_header_name(header, "h")) == (
        f"h must be a header name such as 'Idempotency-Key', or None, got {header!r}"
    )


def test_listeners_become_a_tuple_in_order() -> None:
    """Listeners are kept in the order given, as a tuple."""
    first, second = print, repr
    assert check_listeners([first, second]) == (first, second)
    assert check_listeners(iter([second])) == (second,)
    assert check_listeners(()) == ()


@pytest.mark.parametrize("value", [print, "print", 3])
def test_listeners_must_be_a_collection(value: object) -> None:
    """One callable, a string or a number where a collection belongs is a TypeError with an example."""
    assert message(TypeError, lambda: check_listeners(value)) == (
        f"listeners must be a collection of callables taking one event, such as [print], got {value!r}"
    )


def test_listeners_must_be_callable() -> None:
    """A non-callable among the listeners is a TypeError naming it."""
    assert message(TypeError, lambda: check_listeners([print, 3], "on_event")) == (
        "on_event must hold callables taking one event, got 3"
    )
