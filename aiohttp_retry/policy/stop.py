"""Why a call stopped trying: every decision to end a call carries one of these."""

from __future__ import annotations

import enum

__all__ = ["ErrorKind", "StopReason"]


class StopReason(str, enum.Enum):
    """Why a call ended with an outcome that was not a success.

    The value is the phrase used in log lines, events and exception messages.
    """

    LAST_TRY = "last try"  #: the outcome came from the last of ``attempts`` tries
    NOT_RETRYABLE = "not retryable"  #: the options do not retry this outcome for this request
    RETRY_AFTER_TOO_LONG = "Retry-After too long"  #: the server asked for a longer wait than accepted
    DEADLINE = "deadline"  #: no wait and further try fit before the call's deadline
    BREAKER_OPEN = "breaker open"  #: the circuit breaker refused the next try
    BUDGET_SPENT = "budget spent"  #: the retry budget refused the retry
    BODY_NOT_REPLAYABLE = "body not replayable"  #: the request body cannot be sent again
    CANCELLED = "cancelled"  #: the caller cancelled the call
    RATE_LIMITED = "rate limited"  #: a rate limit allowed no start before the deadline
    BULKHEAD_FULL = "bulkhead full"  #: a concurrency limit's slots and queue were full
    THROTTLED = "throttled"  #: the adaptive throttle shed the try
    SERVER_VETO = "server veto"  #: the response said not to retry (the options' ``veto_header``)

    def __str__(self) -> str:
        return self.value


class ErrorKind(str, enum.Enum):
    """What kind of failure an exception raised by a try is, as the transport's codec reads it."""

    CONNECT = "connect"  #: no connection was made: nothing was sent, so any method may be retried
    TRANSPORT = "transport"  #: the connection failed after the request may have been sent
    TIMEOUT = "timeout"  #: a timeout of the transport or of the library cut the try
    TLS = "tls"  #: a TLS failure (a bad certificate does not heal by itself: never retried by default)
    OTHER = "other"  #: anything else: retried only if the options list its class

    def __str__(self) -> str:
        return self.value
