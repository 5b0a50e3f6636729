"""``airlock.executors.chunked``: chunk sizes, delivery accounting, and the flush report it feeds."""

from __future__ import annotations

from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

import pytest

import airlock
from airlock.executors.chunked import ChunkedFlush, flush_in_chunks


class BrokerDown(ConnectionError):
    pass


class ListFlush(ChunkedFlush):
    """Buffers into a list; a write appends the buffered messages to ``broker`` as one chunk."""

    __slots__ = ("broker", "buffer", "dropped", "fail_at_write", "writes")
    label = "list-executor"

    def __init__(self, broker: list[list[Any]], chunk_size: int, first: int | None, fail_at_write: int) -> None:
        super().__init__(chunk_size, first)
        self.broker: list[list[Any]] | None = broker
        self.buffer: list[Any] = []
        self.dropped: list[list[Any]] = []
        self.writes, self.fail_at_write = 0, fail_at_write

    def _write(self) -> None:
        self.writes += 1
        if self.writes == self.fail_at_write:
            raise BrokerDown("connection lost")
        self.broker.append(self.buffer)
        self.buffer = []

    def _drop(self, error: BaseException) -> None:
        self.dropped.append(self.buffer)
        self.buffer = []
        self.broker = None  # like a producer given up: what _destination reads is gone

    def _destination(self) -> str:
        return "nowhere" if self.broker is None else f"list of {len(self.broker)} chunks"


class ListExecutor:
    """A chunking executor over ListFlush; outside a flush each intent is its own chunk."""

    def __init__(self, chunk_size: int, first: int | None = None, fail_at_write: int = 0) -> None:
        self.broker: list[list[Any]] = []
        self.args = (chunk_size, first, fail_at_write)
        self.flushes: list[ListFlush] = []
        self._flush: ContextVar[ListFlush | None] = ContextVar("list_flush", default=None)

    def __call__(self, intent: airlock.Intent) -> None:
        flush = self._flush.get()
        if flush is None:
            self.broker.append([intent.args[0]])
            return
        flush.buffer.append(intent.args[0])
        flush.buffered(intent)

    def flush_context(self, report: airlock.FlushReport) -> Any:
        flush = ListFlush(self.broker, *self.args)
        self.flushes.append(flush)
        return flush_in_chunks(self._flush, flush, report)


def send(n: int) -> None:
    """The task; the executor publishes its argument."""


def flush_of(executor: ListExecutor, numbers: Iterator[int] | range) -> airlock.FlushReport:
    with airlock.scope(executor=executor) as scope:
        for n in numbers:
            airlock.enqueue(send, n)
    assert scope.report is not None
    return scope.report


@pytest.mark.parametrize(("chunk_size", "first"), [(0, None), (4, 0), (4, -1), (True, None), (4, 2.0)])
def test_chunk_sizes_must_be_positive_integers(chunk_size: Any, first: Any) -> None:
    with pytest.raises(ValueError, match=r"ChunkedFlush\((first_)?chunk_size=\.\.\.\) must be an integer >= 1"):
        ChunkedFlush(chunk_size, first)


def test_chunks_ramp_from_the_first_size_doubling_up_to_the_chunk_size() -> None:
    executor = ListExecutor(chunk_size=4, first=1)
    report = flush_of(executor, range(12))
    assert [len(chunk) for chunk in executor.broker] == [1, 2, 4, 4, 1]
    assert [n for chunk in executor.broker for n in chunk] == list(range(12))
    assert len(report.dispatched) == 12 and executor.flushes[0].delivered == 12


def test_without_a_first_size_every_chunk_is_full_size() -> None:
    executor = ListExecutor(chunk_size=5)
    flush_of(executor, range(12))
    assert [len(chunk) for chunk in executor.broker] == [5, 5, 2]


def test_a_failed_write_names_its_chunk_and_the_rest_is_not_attempted() -> None:
    executor = ListExecutor(chunk_size=3, fail_at_write=2)
    with pytest.raises(BrokerDown) as caught:
        flush_of(executor, range(8))
    error = caught.value
    assert executor.broker == [[0, 1, 2]] and executor.flushes[0].dropped == [[3, 4, 5]]
    # The intent whose call wrote the chunk is recorded by the core itself.
    assert [i.args for i in error.airlock_undelivered] == [(3,), (4,)]
    report = error.airlock_report
    assert [i.args for i in report.dispatched] == [(0,), (1,), (2,)]
    assert [i.args for i, _ in report.failed] == [(3,), (4,), (5,)]  # FIFO, as every list of the report
    assert [i.args for i in report.not_attempted] == [(6,), (7,)]
    assert error.__notes__[0] == (  # the destination as it was when the write failed, before _drop
        "list-executor: writing 3 buffered messages to list of 1 chunks failed; "
        "3 earlier intents of this flush had been dispatched"
    )


def test_the_last_chunk_failing_at_the_end_of_the_flush_counts_as_failed() -> None:
    executor = ListExecutor(chunk_size=3, fail_at_write=2)
    with pytest.raises(BrokerDown) as caught:
        flush_of(executor, range(5))
    report = caught.value.airlock_report
    assert [i.args for i in caught.value.airlock_undelivered] == [(3,), (4,)]
    assert [i.args for i in report.dispatched] == [(0,), (1,), (2,)]
    assert [i.args for i, _ in report.failed] == [(3,), (4,)]


class TaskFailed(Exception):
    pass


class Interrupted(BaseException):
    """Like KeyboardInterrupt or SystemExit: not an Exception."""


def test_with_fail_fast_off_a_base_exception_is_not_wrapped_in_flush_failed() -> None:
    """FlushFailed may hold only Exceptions: a task's BaseException, then a failed last write, propagate as they are."""
    executor = ListExecutor(chunk_size=10, fail_at_write=1)

    def interrupt(n: int) -> None:
        raise Interrupted(n)

    def dispatch(intent: airlock.Intent) -> None:
        if intent.task is interrupt:
            intent.task(*intent.args)
        executor(intent)

    dispatch.flush_context = executor.flush_context  # type: ignore[attr-defined]
    with pytest.raises((Interrupted, BrokerDown)) as caught:
        with airlock.scope(executor=dispatch, fail_fast=False):
            airlock.enqueue(send, 0)
            airlock.enqueue(interrupt, 1)
    assert not isinstance(caught.value, TypeError)
    assert caught.value.airlock_report is not None  # type: ignore[union-attr]


def test_with_fail_fast_off_the_last_chunk_s_failure_joins_the_others_in_flush_failed() -> None:
    """fail_fast=False promises FlushFailed for every failure of the flush, the last write's too."""
    executor = ListExecutor(chunk_size=10, fail_at_write=1)
    with pytest.raises(airlock.FlushFailed) as caught:
        with airlock.scope(executor=calling_broken(executor), fail_fast=False):
            airlock.enqueue(send, 0)
            airlock.enqueue(broken, 1)
            airlock.enqueue(send, 2)
    error = caught.value
    assert [type(e) for e in error.exceptions] == [TaskFailed, BrokerDown]
    assert isinstance(error.__cause__, BrokerDown)
    report = error.airlock_report
    assert [(i.args, type(e).__name__) for i, e in report.failed] == [
        ((0,), "BrokerDown"),
        ((1,), "TaskFailed"),
        ((2,), "BrokerDown"),
    ]
    assert report.dispatched == [] and report.complete
    assert str(error).startswith("3 of 3 intents failed to dispatch: send(0), broken(1), send(2)")
    # Alone, the last chunk's failure is raised as FlushFailed as well.
    with pytest.raises(airlock.FlushFailed) as alone:
        with airlock.scope(executor=ListExecutor(chunk_size=10, fail_at_write=1), fail_fast=False):
            airlock.enqueue(send, 0)
    assert [type(e) for e in alone.value.exceptions] == [BrokerDown]


def broken(n: int) -> None:
    """A task that fails when dispatched: it stops the flush."""
    raise TaskFailed(n)


def calling_broken(executor: ListExecutor) -> Any:
    """``executor``, except that it calls ``broken`` itself (which raises) instead of publishing it."""

    def dispatch(intent: airlock.Intent) -> None:
        if intent.task is broken:
            intent.task(*intent.args)
        executor(intent)

    dispatch.flush_context = executor.flush_context  # type: ignore[attr-defined]
    return dispatch


def test_a_flush_stopped_by_a_task_still_writes_what_was_buffered_before() -> None:
    executor = ListExecutor(chunk_size=10)
    with pytest.raises(TaskFailed):
        with airlock.scope(executor=calling_broken(executor)):
            for n in range(2):
                airlock.enqueue(send, n)
            airlock.enqueue(broken, 2)
            airlock.enqueue(send, 3)
    assert executor.broker == [[0, 1]]
    assert executor.flushes[0].delivered == 2


def test_when_that_write_fails_too_the_tasks_error_propagates_and_the_chunk_is_failed() -> None:
    executor = ListExecutor(chunk_size=10, fail_at_write=1)
    with pytest.raises(TaskFailed) as caught:
        with airlock.scope(executor=calling_broken(executor)):
            airlock.enqueue(send, 0)
            airlock.enqueue(broken, 1)
    report = caught.value.airlock_report
    assert [(i.args, type(e)) for i, e in report.failed] == [((0,), BrokerDown), ((1,), TaskFailed)]  # FIFO
    assert report.dispatched == [] and executor.broker == []


class RefusingFlush(ChunkedFlush):
    """Its writes fail as redis-py does when the broker refuses the connection."""

    __slots__ = ("attempts",)
    refused_means_unsent = True

    def __init__(self) -> None:
        super().__init__(8, 1)
        self.attempts = 0

    def _write(self) -> None:
        self.attempts += 1
        if self.attempts == 1:
            try:
                raise ConnectionRefusedError(111, "Connection refused")
            except ConnectionRefusedError:
                raise BrokerDown("Error 111 connecting") from None  # as redis-py does: context, no cause
        if self.attempts == 2:
            raise BrokerDown("connection reset after the request was sent")


def test_a_refused_write_says_it_sent_nothing_and_the_chunk_size_grows_on_success_only() -> None:
    flush = RefusingFlush()
    first, second = airlock.Intent(print, (1,)), airlock.Intent(print, (2,))
    flush.pending.append(first)
    with pytest.raises(BrokerDown) as refused:
        flush.deliver(first)
    assert refused.value.airlock_undelivered == [] and refused.value.airlock_not_sent is True
    assert flush.limit == 1  # the retried intent is written alone again
    flush.pending.append(first)
    with pytest.raises(BrokerDown) as reset:
        flush.deliver(first)
    assert not hasattr(reset.value, "airlock_not_sent")  # sent, maybe received: unknown
    flush.pending.extend((first, second))
    flush.deliver()
    assert (flush.delivered, flush.limit) == (2, 2)


def test_a_refused_write_on_a_transport_that_may_resend_claims_nothing() -> None:
    class MayResend(RefusingFlush):
        __slots__ = ()
        refused_means_unsent = False

    flush = MayResend()
    flush.pending.append(airlock.Intent(print, (1,)))
    with pytest.raises(BrokerDown) as refused:
        flush.deliver()
    assert not hasattr(refused.value, "airlock_not_sent")


class TestBrokerBreaker:
    """ChunkedFlush.check_reachable / note_failure: a broker that could not be
    connected to is asked once per flush; nothing else closes the way."""

    @staticmethod
    def raised_from(cause: BaseException) -> Exception:
        try:
            raise cause
        except BaseException:
            return RuntimeError("the client library's own error")  # raised while handling: cause is its context

    def test_only_a_failed_connect_refuses_the_broker_s_later_intents(self) -> None:
        import socket

        from airlock.executors.chunked import BrokerUnreachable

        first, second, elsewhere = airlock.Intent(print, (1,)), airlock.Intent(print, (2,)), airlock.Intent(print, (3,))
        for cause, opens in [
            (ConnectionRefusedError(111, "refused"), True),
            (socket.gaierror(-2, "Name or service not known"), True),
            (OSError(113, "No route to host"), True),
            (TimeoutError("one slow reply"), False),
            (ConnectionResetError(104, "reset mid-publish"), False),
            (TypeError("cannot serialise"), False),
        ]:
            flush = ListFlush([], 8, 1, 0)
            error = self.raised_from(cause)
            error.__context__ = cause
            flush.note_failure(first, error, "broker-a")
            flush.check_reachable(elsewhere, "broker-b")  # another broker of the flush is always tried
            if opens:
                with pytest.raises(BrokerUnreachable, match=r"print\(1\), earlier in this flush") as refused:
                    flush.check_reachable(second, "broker-a")
                assert refused.value.first_error is error and refused.value.airlock_not_sent
                assert refused.value.__cause__ is None and refused.value.__context__ is None
            else:
                flush.check_reachable(second, "broker-a")

    def test_the_failed_intent_s_retry_may_try_again_even_as_a_stripped_copy(self) -> None:
        flush = ListFlush([], 8, 1, 0)
        intent = airlock.Intent(print, (1,), dispatch_options={"retry_attempts": 3, "queue": "q"})
        flush.note_failure(intent, ConnectionRefusedError(111, "refused"), "broker")
        flush.check_reachable(intent.replace(dispatch_options={"queue": "q"}), "broker")  # the retry's copy
        flush.check_reachable(airlock.Intent(print, (2,)), "broker")  # and the way is open again

    def test_a_library_that_nests_the_socket_error_in_args_counts(self) -> None:
        """pika: AMQPConnectionError(AMQPConnectorSocketConnectError) whose .exception is the ConnectionRefusedError."""
        from airlock.executors.chunked import could_not_connect

        class ConnectorError(Exception):
            """Keeps the socket error as an attribute, as pika's connector errors do."""

            def __init__(self, exception: BaseException) -> None:
                super().__init__()
                self.exception = exception

        nested = RuntimeError(ConnectorError(ConnectionRefusedError(111, "refused")))
        assert could_not_connect(nested) and not could_not_connect(RuntimeError(ValueError("bad message")))

    def test_a_fifo_write_for_another_broker_is_blamed_on_the_chunk_s_broker(self) -> None:
        """Before an intent for broker B goes out, A's pending chunk is written
        (FIFO). If A cannot be reached, A is refused from then on, not B."""
        from airlock.executors.chunked import BrokerUnreachable

        class TwoBrokers(ChunkedFlush):
            __slots__ = ()

            def _write(self) -> None:
                raise ConnectionRefusedError(111, "A refused")

            def _chunk_broker(self) -> str:
                return "A"

        flush = TwoBrokers(8, 8)
        a0, b0, a1, b1 = (airlock.Intent(print, (n,)) for n in ("a0", "b0", "a1", "b1"))
        flush.pending.append(a0)

        def publish_b(intent: airlock.Intent) -> None:
            flush.deliver()  # FIFO: A's chunk first

        with pytest.raises(ConnectionRefusedError):
            flush.guarded(b0, "B", publish_b)
        flush.check_reachable(b1, "B")  # B was never tried: still open
        with pytest.raises(BrokerUnreachable):
            flush.check_reachable(a1, "A")
