"""Writing a flush to a broker in chunks, with exact delivery accounting.

For executors with a ``flush_context`` that buffer publishes in their
transport's pipeline and write them one chunk (one round trip) at a time,
as the ``celery`` and ``dramatiq`` executors do. :class:`ChunkedFlush`
keeps the accounting: the intents buffered since the last write, how many
reached the broker, and the size of the next chunk. When a write fails it
raises with ``airlock_undelivered`` listing the chunk's intents, so the
flush report counts exactly those as failed. :func:`flush_in_chunks` is the
body of such an executor's ``flush_context``. :class:`UnreachableBrokers`,
which :class:`ChunkedFlush` extends, is the breaker alone, for executors
that publish each intent at once: once an intent could not connect to its
broker, the flush's later intents for that broker fail at once.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, TypeVar

from ..errors import add_note
from ..intent import described, same_call

if TYPE_CHECKING:
    from ..intent import Intent
    from ..report import FlushReport

__all__ = [
    "BrokerUnreachable",
    "ChunkedFlush",
    "UnreachableBrokers",
    "check_chunk_sizes",
    "connection_refused",
    "could_not_connect",
    "flush_in_chunks",
    "raised_from",
]

F = TypeVar("F", bound="ChunkedFlush")
T = TypeVar("T")


class BrokerUnreachable(Exception):
    """Not sent: an earlier intent of the same flush could not connect to its broker.

    Raised by :meth:`ChunkedFlush.check_reachable` instead of trying the
    broker again for every intent. Nothing was sent (``airlock_not_sent``).
    Not a ``ConnectionError``, and not chained to the first error, so retry
    middleware does not wait on it for each intent; ``first_error`` is that
    error.
    """

    airlock_not_sent = True

    def __init__(self, label: str, failed: str, first_error: BaseException) -> None:
        self.first_error = first_error
        super().__init__(
            f"{label}: not sent, because {failed}, earlier in this flush, could not connect to the same broker "
            f"({type(first_error).__name__}: {first_error})"
        )


def check_chunk_sizes(owner: str, chunk_size: object, first_chunk_size: object) -> None:
    """Raise ``ValueError`` unless both are integers >= 1 (the message names ``owner``, e.g. an executor class)."""
    for name, value in (("chunk_size", chunk_size), ("first_chunk_size", first_chunk_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{owner}({name}=...) must be an integer >= 1, got {value!r}")


class UnreachableBrokers:
    """One flush's breaker: the brokers an intent of it could not connect to.

    Publish each intent through :meth:`guarded`. Subclass it, or make one
    per flush in the executor's ``flush_context`` (the ``django_q``
    executor does).
    """

    __slots__ = ("unreachable",)

    #: Names the executor in the errors and notes it writes.
    label = "airlock"

    def __init__(self) -> None:
        #: broker -> (the intent, its error) once an intent could not connect to it, until its retry.
        self.unreachable: dict[Hashable, tuple[Intent, BaseException]] | None = None

    def guarded(self, intent: Intent, broker: Hashable, publish: Callable[[Intent], T]) -> T:
        """``publish(intent)`` behind the breaker: refused at once by
        :meth:`check_reachable`, and its failure noted by :meth:`note_failure`."""
        self.check_reachable(intent, broker)
        try:
            return publish(intent)
        except BaseException as exc:
            if not hasattr(exc, "airlock_undelivered"):  # a chunk write's failure is noted by deliver()
                self.note_failure(intent, exc, broker)
            raise

    def check_reachable(self, intent: Intent, broker: Hashable) -> None:
        """Raise :class:`BrokerUnreachable` at once if an earlier intent of this
        flush could not connect to ``broker`` (see :meth:`note_failure`).

        A dead broker costs each publish the client library's own reconnect
        attempts (Celery's publish retry: about 0.6 s), and under a scope that
        tries every intent (``fail_fast=False``, ``DjangoScope``'s default)
        5,000 intents would hold the flush for most of an hour. ``broker``
        says where ``intent`` goes (a Celery app, a Dramatiq broker): other
        brokers of the flush are still tried. The intent that failed may be
        tried again (airlock-retry), which re-opens the way if the broker is
        back; any other intent for that broker is refused.
        """
        down = self.unreachable.get(broker) if self.unreachable else None
        if down is None:
            return
        failed, error = down
        if same_call(failed, intent):  # its retry (maybe a copy, options stripped): try the broker again
            del self.unreachable[broker]  # type: ignore[union-attr]
            return
        raise BrokerUnreachable(self.label, described(failed), error)

    def note_failure(self, intent: Intent, error: BaseException, broker: Hashable) -> None:
        """``intent``'s publish to ``broker`` raised ``error``: if it could not
        connect (:func:`could_not_connect`), the flush's later publishes to
        that broker are refused by :meth:`check_reachable`. Other errors (a
        slow reply, a message that cannot be serialised) refuse nothing."""
        if could_not_connect(error):
            if self.unreachable is None:
                self.unreachable = {}
            self.unreachable[broker] = (intent, error)


class ChunkedFlush(UnreachableBrokers):
    """One flush's chunks: what is buffered, what was delivered, the next chunk's size.

    Subclasses implement :meth:`_write` (send what is buffered, one round
    trip) and may override :meth:`_drop` (forget a chunk whose write
    failed), :meth:`_destination` and :meth:`close`. Per intent they buffer
    the publish in their transport, then call :meth:`buffered`; an intent
    published on its own instead goes after :meth:`deliver` (FIFO), then
    :meth:`delivered_one`.

    :param chunk_size: the most intents written in one round trip.
    :param first_chunk_size: the first chunk's size; each next chunk is
        twice the one before, up to ``chunk_size``. Default: ``chunk_size``
        (no ramp).

    An intent counts as delivered once the write of its chunk succeeded.
    """

    __slots__ = ("chunk_size", "delivered", "limit", "pending")
    #: True if the transport never resends a write by itself (no automatic
    #: retry on a new connection): then a write that failed because the
    #: broker refused the connection sent nothing, and says so (see :meth:`deliver`).
    refused_means_unsent = False

    def __init__(self, chunk_size: int, first_chunk_size: int | None = None) -> None:
        if first_chunk_size is None:
            first_chunk_size = chunk_size
        check_chunk_sizes("ChunkedFlush", chunk_size, first_chunk_size)
        super().__init__()
        self.chunk_size = chunk_size
        self.limit = min(first_chunk_size, chunk_size)  # the size of the chunk being filled
        self.pending: list[Intent] = []  # buffered, not yet written
        self.delivered = 0

    def buffered(self, intent: Intent) -> None:
        """``intent``'s publish is buffered: write the chunk if that filled it."""
        self.pending.append(intent)
        if len(self.pending) >= self.limit:
            self.deliver(intent)

    def delivered_one(self) -> None:
        """An intent was published on its own, outside the chunks."""
        self.delivered += 1

    def deliver(self, current: Intent | None = None) -> None:
        """Write the buffered chunk; on failure raise with ``airlock_undelivered``.

        ``current`` is the intent whose ``executor(intent)`` call is writing
        the chunk: the core records that one as failed itself. Whether the
        others reached the broker is unknown (a lost reply looks the same as
        a lost request), unless the broker refused the connection on a
        transport that does not resend (:attr:`refused_means_unsent`): then
        the error also carries ``airlock_not_sent = True``, and a retry of
        ``current`` cannot publish anything twice.
        """
        if not self.pending:
            return
        chunk, self.pending = self.pending, []
        try:
            self._write()
        except BaseException as exc:
            where, broker = self._destination(), self._chunk_broker()
            self._drop(exc)
            # The chunk's broker, not the current intent's: a FIFO write before
            # an intent for another broker fails for the chunk's.
            self.note_failure(chunk[-1] if current is None else current, exc, broker)
            exc.airlock_undelivered = [i for i in chunk if i is not current]  # type: ignore[attr-defined]
            if self.refused_means_unsent and connection_refused(exc):
                exc.airlock_not_sent = True  # type: ignore[attr-defined]
            add_note(
                exc,
                f"{self.label}: writing {len(chunk)} buffered messages to {where} failed; "
                f"{self.delivered} earlier intents of this flush had been dispatched",
            )
            raise
        self.delivered += len(chunk)
        self.limit = min(2 * self.limit, self.chunk_size)  # after a success only: a retried intent is written alone

    def _write(self) -> None:
        """Send everything buffered in the transport, in one round trip."""
        raise NotImplementedError

    def _drop(self, error: BaseException) -> None:
        """Forget the chunk whose write failed with ``error``: discard what the
        transport still buffers, or a later write sends it again (the report
        already counts it as failed). Default: nothing, for transports that
        empty their buffer on a failed write themselves."""

    def _destination(self) -> str:
        """Where the chunks go, for the note on a failed write (no passwords)."""
        return "the broker"

    def _chunk_broker(self) -> Hashable:
        """The broker the buffered chunk goes to, as :meth:`guarded` is told
        (a Celery app, a Dramatiq broker). Default: None."""
        return None

    def close(self) -> None:
        """Release the transport at the end of the flush. Default: nothing."""


def raised_from(error: BaseException) -> Iterator[BaseException]:
    """``error``, then each error it was raised from (its cause, else its context)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        yield current
        seen.add(id(current))
        current = current.__cause__ or current.__context__


def could_not_connect(error: BaseException) -> bool:
    """True if ``error`` or an error it was raised from says a connection could
    not be made: refused, an unknown host, no route to the host or network."""
    import socket

    for cause in _with_nested(error):
        if isinstance(cause, (ConnectionRefusedError, socket.gaierror)):
            return True
        if isinstance(cause, OSError) and cause.errno in _UNREACHABLE:
            return True
    return False


def _with_nested(error: BaseException, depth: int = 4) -> Iterator[BaseException]:
    """The errors ``error`` was raised from, and those some libraries nest in an
    error's ``args`` or ``exception`` attribute instead (pika: the socket error
    inside ``AMQPConnectionError``), a few levels deep."""
    for cause in raised_from(error):
        yield cause
        if depth:
            for inner in (*cause.args, getattr(cause, "exception", None)):
                if isinstance(inner, BaseException):
                    yield from _with_nested(inner, depth - 1)


#: ``errno`` values of a connect that found no way to the host.
_UNREACHABLE = frozenset({errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN})


def connection_refused(error: BaseException) -> bool:
    """True if ``error`` or an error it was raised from is a
    ``ConnectionRefusedError``: the connection was never made."""
    return any(isinstance(e, ConnectionRefusedError) for e in raised_from(error))


@contextmanager
def flush_in_chunks(current: ContextVar[F | None], flush: F, report: FlushReport) -> Iterator[F]:
    """The body of a chunking executor's ``flush_context(report)``.

    Makes ``flush`` the value of ``current`` (where the executor's
    ``__call__`` finds it) for the dispatch loop. On a normal exit the last
    chunk is written; if that fails, the error propagates with
    ``airlock_undelivered``. When the flush stops on an error, what was
    buffered before it is still written, as a plain publish loop would have
    done; if that write fails too, the flush's own error propagates and the
    chunk is recorded as failed in the report. ``flush.close()`` always runs.
    """
    token = current.set(flush)
    try:
        yield flush
    except BaseException:
        try:
            flush.deliver()
        except Exception as write_error:
            report.record_undelivered(getattr(write_error, "airlock_undelivered", ()), write_error)
        raise
    else:
        flush.deliver()
    finally:
        current.reset(token)
        flush.close()
