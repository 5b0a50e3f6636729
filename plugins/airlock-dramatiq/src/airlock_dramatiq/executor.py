"""``DramatiqExecutor``: send intents with Dramatiq, a whole flush pipelined to Redis.

Outside a flush the executor calls ``actor.send_with_options(args=,
kwargs=, **dispatch_options)``, else ``actor.send(*args, **kwargs)``, else
``actor(*args, **kwargs)``.

Inside a flush (the core enters :meth:`DramatiqExecutor.flush_context`
around the dispatch loop) every intent still goes through the actor's own
``send_with_options``, so Dramatiq builds the message, applies ``delay``
and runs its middleware exactly as usual. What changes is where the Redis
broker's enqueue command goes: for actors on a ``RedisBroker`` it is queued
on one pipeline of that broker's client and written in chunks of
``chunk_size`` commands, one round trip per chunk. On a ``RabbitmqBroker``
Dramatiq already publishes over one channel per thread, so a flush reuses
that connection and each message is published as it is sent.

Delivery accounting: a Redis-bound intent counts as delivered once its
chunk was written. When a chunk write fails, the exception (``redis``'s
``ConnectionError``, as a plain ``send`` raises) propagates from the
``executor(intent)`` call that completed the chunk, or from the flush
context's exit for the last one, with ``airlock_undelivered`` listing the
chunk's earlier intents; the flush report counts them as failed. Dramatiq's
``after_enqueue`` middleware hook runs when a message is queued on the
pipeline, before its chunk is written.
"""

from __future__ import annotations

import difflib
import threading
import weakref
from collections.abc import Mapping
from contextlib import AbstractContextManager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from airlock.executors.chunked import ChunkedFlush, check_chunk_sizes, flush_in_chunks

if TYPE_CHECKING:
    from airlock import FlushReport, Intent

__all__ = ["DramatiqExecutor", "dramatiq_executor", "DEFAULT_CHUNK_SIZE", "DEFAULT_FIRST_CHUNK_SIZE"]

#: Enqueue commands queued on the pipeline before one round trip to Redis.
DEFAULT_CHUNK_SIZE = 100
#: Commands in a flush's first chunk; each next chunk doubles, up to ``chunk_size``.
DEFAULT_FIRST_CHUNK_SIZE = 1

_NO_OPTIONS: Mapping[str, Any] = {}

#: The pipeline (and its broker) that the current flush sends into, if any.
_pipeline: ContextVar[tuple[Any, Any] | None] = ContextVar("airlock_dramatiq_pipeline", default=None)


#: Message options Dramatiq itself reads besides those its middleware declare (``broker.actor_options``).
_MESSAGE_OPTIONS = frozenset(
    {"delay", "broker_priority", "pipe_target", "group_completion_callbacks", "group_completion_uuid"}
)
#: Celery's scheduling options, which Dramatiq would keep and send the message at once
#: (``eta`` unless it is Dramatiq's own: a number, milliseconds since the epoch).
_SCHEDULING_ADVICE = {
    "countdown": "Dramatiq's is delay, in milliseconds (or a timedelta)",
    "eta": "Dramatiq's eta is a number, milliseconds since the epoch; or use delay, in milliseconds from now",
}


def _checked_options(actor: Any, options: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """``options`` for ``actor.send_with_options``; ``TypeError`` for one Dramatiq would silently ignore.

    Dramatiq passes any message option along (a middleware of one's own may
    read it), so only what would run the message at once instead of later is
    refused: Celery's ``countdown``, an ``eta`` that is not a number of
    milliseconds since the epoch (Celery's datetime), and a near miss of an
    option Dramatiq or the broker's middleware know (``dealy``,
    ``max_retry``). Refused before anything is sent.
    """
    if not options:
        return _NO_OPTIONS
    known = _MESSAGE_OPTIONS.union(getattr(getattr(actor, "broker", None), "actor_options", ()))
    eta = options.get("eta")
    for name in options:
        if name in known or (name == "eta" and isinstance(eta, (int, float)) and not isinstance(eta, bool)):
            continue
        advice = _SCHEDULING_ADVICE.get(name)
        if advice is None:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.8)
            if not close:
                continue  # an option of one's own middleware
            advice = f"did you mean {close[0]!r}?"
        raise TypeError(
            f"airlock dramatiq executor: Dramatiq would ignore the dispatch option {name!r} of actor "
            f"{getattr(actor, 'actor_name', actor)!r} and send the message as if it were not there: {advice} "
            f"Options Dramatiq and this broker's middleware read: {', '.join(sorted(known))}."
        )
    return options


def send(actor: Any, args: tuple[Any, ...], kwargs: dict[str, Any], options: Mapping[str, Any] | None) -> Any:
    """Dispatch one intent: ``send_with_options``, else ``send`` (options ignored), else a plain call."""
    send_with_options = getattr(actor, "send_with_options", None)
    if send_with_options is not None:
        return send_with_options(args=args, kwargs=kwargs, **_checked_options(actor, options))
    plain_send = getattr(actor, "send", None)
    if plain_send is not None:
        return plain_send(*args, **kwargs)
    return actor(*args, **kwargs)


class _PipelinedScript:
    """Stands in for a ``RedisBroker``'s Lua dispatch script.

    Called by the broker exactly like the script it wraps; while a flush of
    this broker is active in the calling context the command is queued on
    that flush's pipeline instead of being run at once. Everywhere else
    (other threads, other brokers, no flush) it runs the script unchanged.
    """

    __slots__ = ("script", "broker")

    def __init__(self, script: Any, broker: Any) -> None:
        self.script = script
        self.broker = broker

    def __call__(self, keys: Any = None, args: Any = None, client: Any = None) -> Any:
        active = _pipeline.get()
        if client is None and active is not None and active[1] is self.broker:
            client = active[0]
        return self.script(keys=keys, args=args, client=client)


def _is_redis_broker(broker: Any) -> bool:
    scripts = getattr(broker, "scripts", None)
    return isinstance(scripts, dict) and "dispatch" in scripts and hasattr(broker, "client")


#: Per broker, a client of the same Redis whose commands are never resent (see _no_replay_client).
_no_replay_clients: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
_no_replay_lock = threading.Lock()


def _no_replay_client(broker: Any) -> Any:
    """A client of ``broker``'s Redis that never resends a command.

    redis-py retries a pipeline whose reply was lost by running it again,
    so a chunk Redis did take would land twice while the report counts it
    once. The flush's pipelines run on this client's own pool, made like the
    broker's with retries off; a pool of another kind (Sentinel, a cluster)
    cannot be copied that way, and the broker's own client is used.
    """
    client = _no_replay_clients.get(broker)
    if client is not None:
        return client
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    pool = getattr(broker.client, "connection_pool", None)
    if type(pool) not in (redis.ConnectionPool, redis.BlockingConnectionPool):
        return broker.client
    kwargs = {**pool.connection_kwargs, "retry": Retry(NoBackoff(), 0)}
    limits = {"max_connections": pool.max_connections}
    if isinstance(pool, redis.BlockingConnectionPool):
        limits["timeout"] = pool.timeout
    with _no_replay_lock:  # one pool per broker, even when two threads flush at once
        client = _no_replay_clients.get(broker)
        if client is None:
            made = type(pool)(connection_class=pool.connection_class, **limits, **kwargs)
            client = _no_replay_clients[broker] = redis.Redis(connection_pool=made)
    return client


def _pipelined(broker: Any) -> None:
    """Route the broker's dispatch script through :class:`_PipelinedScript` (once per broker)."""
    script = broker.scripts["dispatch"]
    if not isinstance(script, _PipelinedScript):
        broker.scripts["dispatch"] = _PipelinedScript(script, broker)


class DramatiqExecutor:
    """The ``dramatiq`` executor: ``send_with_options`` per intent, pipelined per flush.

    :param chunk_size: how many Redis enqueue commands are queued before
        they are written in one round trip. Smaller chunks get the first
        message to a worker sooner; larger ones save round trips.
    :param first_chunk_size: the first chunk's size; each next one doubles,
        up to ``chunk_size``. The default, 1, writes the first message as
        soon as it is prepared (a worker starts on it while the rest is
        prepared), and within its own ``executor(intent)`` call, so a broker
        that refuses connections at the start of a flush fails that one
        intent, which airlock-retry can retry, rather than the flush's exit.

    Actors of a second Redis broker in the same flush, and actors on other
    brokers, are sent on their own; what was queued before is written
    first, so each broker receives the flush in FIFO order. A plain
    callable runs inline, after the queued commands were written.
    """

    def __init__(
        self, *, chunk_size: int = DEFAULT_CHUNK_SIZE, first_chunk_size: int = DEFAULT_FIRST_CHUNK_SIZE
    ) -> None:
        check_chunk_sizes("DramatiqExecutor", chunk_size, first_chunk_size)
        self.chunk_size = chunk_size
        self.first_chunk_size = first_chunk_size
        self._flush: ContextVar[_Flush | None] = ContextVar(f"airlock_dramatiq_flush_{id(self)}", default=None)

    def __call__(self, intent: Intent) -> Any:
        """Send one intent; returns Dramatiq's ``Message`` (or the plain call's result)."""
        flush = self._flush.get()
        if flush is None:
            return send(intent[0], intent[1], intent[2], intent[4])
        return flush.dispatch(intent)

    def flush_context(self, report: FlushReport) -> AbstractContextManager[object]:
        """Pipeline a whole flush's Redis enqueues; write the last chunk on exit.

        When the flush stops on an error, what was sent before it is still
        written, as a plain loop of ``send`` would have done.
        """
        return flush_in_chunks(self._flush, _Flush(self.chunk_size, self.first_chunk_size), report)

    def __repr__(self) -> str:
        return f"DramatiqExecutor(chunk_size={self.chunk_size}, first_chunk_size={self.first_chunk_size})"


class _Flush(ChunkedFlush):
    """One flush's Redis pipeline and the chunk accounting."""

    __slots__ = ("broker", "pipeline", "refused_means_unsent")
    label = "airlock-dramatiq"

    def __init__(self, chunk_size: int, first_chunk_size: int) -> None:
        super().__init__(chunk_size, first_chunk_size)
        self.broker: Any = None
        self.pipeline: Any = None
        self.refused_means_unsent = False  # until the pipeline is known to be on a client that never resends

    def dispatch(self, intent: Intent) -> Any:
        """Send ``intent`` (queued on the pipeline for a Redis broker); once the
        broker could not be reached by an earlier intent of this flush, refuse it at once."""
        if getattr(intent[0], "send_with_options", None) is None and getattr(intent[0], "send", None) is None:
            return self._send(intent)  # a plain callable: runs inline, broker or not
        return self.guarded(intent, getattr(intent[0], "broker", None), self._send)

    def _send(self, intent: Intent) -> Any:
        actor, args, kwargs, options = intent[0], intent[1], intent[2], intent[4]
        pipeline = None
        if getattr(actor, "send_with_options", None) is not None:
            pipeline = self._pipeline_for(getattr(actor, "broker", None))
        if pipeline is None:
            self.deliver()  # FIFO: what is queued reaches the broker first
            result = send(actor, args, kwargs, options)
            self.delivered_one()
            return result
        options = _checked_options(actor, options)
        token = _pipeline.set((pipeline, self.broker))
        try:
            message = actor.send_with_options(args=args, kwargs=kwargs, **options)
        finally:
            _pipeline.reset(token)
        self.buffered(intent)
        return message

    def _pipeline_for(self, broker: Any) -> Any:
        """The flush's pipeline for ``broker``; None for a second broker or a non-Redis one."""
        if self.broker is not None:
            return self.pipeline if broker is self.broker else None
        if not _is_redis_broker(broker):
            return None
        _pipelined(broker)
        client = _no_replay_client(broker)
        self.broker, self.pipeline = broker, client.pipeline(transaction=False)
        # The broker's own client (a pool that could not be copied) may resend a
        # write on a new connection: then a refused connection proves nothing.
        self.refused_means_unsent = client is not broker.client
        return self.pipeline

    def _write(self) -> None:
        self.pipeline.execute()

    def _drop(self, error: BaseException) -> None:
        self.pipeline.reset()

    def _destination(self) -> str:
        return "Redis"

    def _chunk_broker(self) -> Any:
        return self.broker

    def close(self) -> None:
        if self.pipeline is not None:
            self.pipeline.reset()  # returns its connection to the pool
        self.broker = self.pipeline = None


#: The shared instance selected by ``executor="dramatiq"``.
dramatiq_executor = DramatiqExecutor()
