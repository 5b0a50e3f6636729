"""``CeleryExecutor``: publish intents with Celery, a whole flush over one producer.

Outside a flush (an intent dispatched on its own) the executor calls
``task.apply_async(args=, kwargs=, **dispatch_options)``, else
``task.delay(*args, **kwargs)``, else ``task(*args, **kwargs)``.

Inside a flush (the core enters :meth:`CeleryExecutor.flush_context` around
the dispatch loop) the first Celery task opens one producer from its app's
pool and, where the transport supports it (kombu's ``Producer.batch``, e.g.
Redis), buffers publishes and writes them in chunks, one round trip each.
The chunks ramp up: the first holds ``first_chunk_size`` publishes (1 by
default), each next one twice as many as the one before, up to
``chunk_size``. The first task thus reaches the broker (and a worker can
start on it) as soon as it is prepared, as in a plain ``apply_async`` loop,
while the bulk of the flush still goes in large chunks.

Delivery accounting: an intent counts as *delivered* once the write of its
chunk succeeded. When a chunk write fails, the exception propagates from the
``executor(intent)`` call that completed the chunk (or from the flush
context's exit, for the last chunk) with ``airlock_undelivered`` listing the
chunk's earlier intents, so the flush report moves them from dispatched to
failed. Everything before that chunk reached the broker; nothing in it is
counted as delivered (kombu reports a failed pipeline as "delivery
uncertain": a broker that failed mid-write may have kept part of it).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager, ExitStack
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from airlock.executors.chunked import ChunkedFlush, check_chunk_sizes, flush_in_chunks

from ._passthrough import pass_through, publishing

if TYPE_CHECKING:
    from airlock import FlushReport, Intent

    from ._reprs import ArgumentReprs

__all__ = ["CeleryExecutor", "celery_executor", "DEFAULT_CHUNK_SIZE", "DEFAULT_FIRST_CHUNK_SIZE"]

#: Publishes buffered before one round trip to the broker, once the ramp reached it.
DEFAULT_CHUNK_SIZE = 100
#: Publishes in a flush's first chunk; each next chunk doubles, up to ``chunk_size``.
DEFAULT_FIRST_CHUNK_SIZE = 1

# kombu's batch auto-flushes after ``max_size`` transport operations (one
# message may take several); the executor flushes by message count itself,
# so the batch must never flush on its own behind the accounting's back.
_NO_AUTO_FLUSH = 2**31 - 1
_NO_OPTIONS: Mapping[str, Any] = {}
#: ``apply_async`` options that bring their own way to the broker: an intent
#: carrying one is published on it, not in the flush's batch.
TRANSPORT_OPTIONS = frozenset({"producer", "connection", "publisher"})


def _batchable(task: Any, options: Mapping[str, Any] | None) -> bool:
    """True when ``task.apply_async`` publishes on the ``producer=`` it is given.

    Not so when the options bring their own way to the broker, nor for a
    Celery canvas other than one task's signature: ``chain.run()`` drops
    ``producer=`` and publishes at once on a connection of the pool, as
    chords do, and a ``group`` only lends it to its members, which may be
    chains. Buffered in a chunk, such a canvas would reach the broker ahead
    of the chunk, and be counted as failed with it although delivered.
    """
    if options and not TRANSPORT_OPTIONS.isdisjoint(options):
        return False
    if not isinstance(task, dict):  # every canvas is a Signature, a dict; a task is not
        return True
    from celery.canvas import Signature  # imported already: a Signature exists

    return type(task) is Signature


def publish(task: Any, args: tuple[Any, ...], kwargs: dict[str, Any], options: Mapping[str, Any] | None) -> Any:
    """Dispatch one task: ``apply_async``, else ``delay`` (options ignored), else a plain call."""
    apply_async = getattr(task, "apply_async", None)
    if apply_async is not None:
        token = pass_through()
        try:
            return apply_async(args=args, kwargs=kwargs, **(options or _NO_OPTIONS))
        finally:
            publishing.reset(token)
    delay = getattr(task, "delay", None)
    if delay is not None:
        token = pass_through()
        try:
            return delay(*args, **kwargs)
        finally:
            publishing.reset(token)
    return task(*args, **kwargs)


class CeleryExecutor:
    """The ``celery`` executor: ``apply_async`` per intent, one producer per flush.

    :param chunk_size: the most publishes buffered before they are written
        to the broker in one round trip (transports that support batching
        only; others publish each message at once over the shared
        producer). The default, 100, reaches the batching throughput.
    :param first_chunk_size: the size of a flush's first chunk; each later
        chunk doubles the one before, up to ``chunk_size`` (a larger value
        is capped at ``chunk_size``; equal to it, every chunk is full size).
        The default, 1, writes the first task as soon as it is prepared, so
        a worker starts on it while the rest of the flush is being prepared.

    Tasks of a second Celery app in the same flush, intents whose
    ``dispatch_options`` bring their own ``producer``, and canvases other
    than one task's signature (``chain``, ``group``, ``chord``: Celery
    publishes their steps over connections of its own) are published on
    their own; what was buffered before is written first, so the broker
    receives the flush in FIFO order. A plain callable (no ``apply_async``
    nor ``delay``) runs inline, after the buffered publishes were written.

    Routing inside a flush is Celery's own (the app's router, made once per
    flush); the queue it picks reaches kombu bound to the flush's channel
    (see :mod:`airlock_celery._routing`). An intent whose options bring a
    ``router`` keeps it.

    The text of plain arguments (``argsrepr``, ``kwargsrepr``) is written
    by the flush instead of Celery's slower ``saferepr``, the same text
    (see :mod:`airlock_celery._reprs`); other arguments are Celery's to write.

    Celery's own publish retry (``task_publish_retry``,
    ``task_publish_retry_policy``, at most 3 retries by default) applies to
    opening the connection and to unbatched publishes; a failed chunk write
    is not retried (its outcome is uncertain, and retrying could publish
    twice). Per-intent ``retry``/``retry_policy`` dispatch options override
    it as in ``apply_async``.
    """

    def __init__(
        self, *, chunk_size: int = DEFAULT_CHUNK_SIZE, first_chunk_size: int = DEFAULT_FIRST_CHUNK_SIZE
    ) -> None:
        check_chunk_sizes("CeleryExecutor", chunk_size, first_chunk_size)
        self.chunk_size = chunk_size
        self.first_chunk_size = min(first_chunk_size, chunk_size)
        self._flush: ContextVar[_Flush | None] = ContextVar(f"airlock_celery_flush_{id(self)}", default=None)

    def __call__(self, intent: Intent) -> Any:
        """Publish one intent (buffered into the current flush's chunk, if any).

        Returns what Celery returns (an ``AsyncResult``), or the plain call's result.
        """
        flush = self._flush.get()
        if flush is None:
            return publish(intent[0], intent[1], intent[2], intent[4])
        return flush.dispatch(intent)

    def flush_context(self, report: FlushReport) -> AbstractContextManager[object]:
        """Share one producer, and one pipelined batch, across a whole flush.

        On a normal exit the last chunk is written; if that fails, the error
        propagates with ``airlock_undelivered`` listing the chunk's intents.
        When the flush stops on an error, what was accepted before it is
        still written, as a plain loop of ``apply_async`` would have done.
        """
        return flush_in_chunks(self._flush, _Flush(self.chunk_size, self.first_chunk_size), report)

    def __repr__(self) -> str:
        return f"CeleryExecutor(chunk_size={self.chunk_size}, first_chunk_size={self.first_chunk_size})"


class _Flush(ChunkedFlush):
    """One flush's producer, its open batch and the chunk accounting."""

    __slots__ = ("app", "batch", "producer", "reprs", "router", "stack")
    label = "airlock-celery"
    refused_means_unsent = True  # kombu's batch flush runs its pipeline once, without automatic retry

    def __init__(self, chunk_size: int, first_chunk_size: int) -> None:
        super().__init__(chunk_size, first_chunk_size)
        self.app: Any = None
        self.producer: Any = None
        self.router: Any = None  # the app's router, queues bound to the producer's channel (see _routing)
        self.reprs: ArgumentReprs | None = None  # writes the app's argsrepr/kwargsrepr (see _reprs)
        self.batch: Any = None  # kombu's batch context when the transport batches, else None
        self.stack: ExitStack | None = None

    def dispatch(self, intent: Intent) -> Any:
        """Publish ``intent`` (buffered in the chunk when the transport batches);
        once an intent of this flush could not connect to its app's broker, refuse it at once."""
        if getattr(intent[0], "apply_async", None) is None and getattr(intent[0], "delay", None) is None:
            return self._publish(intent)  # a plain callable: runs inline, broker or not
        return self.guarded(intent, getattr(intent[0], "app", None), self._publish)

    def _publish(self, intent: Intent) -> Any:
        task, args, kwargs, options = intent[0], intent[1], intent[2], intent[4]
        apply_async = getattr(task, "apply_async", None)
        producer = None
        if apply_async is not None and _batchable(task, options):
            producer = self._producer_for(getattr(task, "app", None))
        if producer is None:
            self.deliver()  # FIFO: what is buffered reaches the broker first
            result = publish(task, args, kwargs, options)
            self.delivered_one()
            return result
        texts = self.reprs.options_for(apply_async, args, kwargs, options) if self.reprs is not None else None
        token = pass_through()
        try:
            if options or texts:
                options = {"router": self.router, **(texts or _NO_OPTIONS), **(options or _NO_OPTIONS)}
                result = apply_async(args=args, kwargs=kwargs, producer=producer, **options)
            else:
                result = apply_async(args=args, kwargs=kwargs, producer=producer, router=self.router)
        finally:
            publishing.reset(token)
        if self.batch is None:
            self.delivered_one()  # the transport does not batch: published already
        else:
            self.buffered(intent)
        return result

    def _producer_for(self, app: Any) -> Any:
        """The flush's producer for ``app``; None for a second app or a non-Celery object."""
        if self.app is not None:
            return self.producer if app is self.app else None
        if getattr(app, "producer_or_acquire", None) is None:
            return None
        from ._reprs import argument_reprs  # imports Celery: only once a Celery app publishes
        from ._routing import BindingRouter

        stack = ExitStack()
        try:
            producer = stack.enter_context(app.producer_or_acquire())
            if getattr(producer, "supports_batch_publish", False):
                self.batch = stack.enter_context(producer.batch(max_size=_NO_AUTO_FLUSH))
        except BaseException:
            stack.close()
            raise
        self.app, self.producer, self.stack = app, producer, stack
        self.router = BindingRouter(app.amqp.router, producer)
        self.reprs = argument_reprs(app)
        return producer

    def _write(self) -> None:
        self.batch.flush()

    def _chunk_broker(self) -> Any:
        return self.app

    def _destination(self) -> str:
        connection = getattr(self.producer, "connection", None)
        as_uri = getattr(connection, "as_uri", None)
        return as_uri() if as_uri is not None else "the broker"  # as_uri() masks the password

    def _forget(self) -> ExitStack | None:
        """Forget this flush's app, producer and what goes with them; returns
        the stack that releases them, for the caller to close."""
        stack, self.stack = self.stack, None
        self.app = self.producer = self.router = self.batch = self.reprs = None
        return stack

    def _drop(self, exc: BaseException) -> None:
        """Drop the failed batch and producer; a later intent opens fresh ones."""
        stack = self._forget()
        if stack is not None:
            try:
                stack.__exit__(type(exc), exc, exc.__traceback__)
            except BaseException:  # the connection is already broken; the first error is the one to report
                pass

    def close(self) -> None:
        """Release the producer (and end the batch) at the end of the flush."""
        stack = self._forget()
        if stack is not None:
            stack.close()


#: The shared instance selected by ``executor="celery"``.
celery_executor = CeleryExecutor()
