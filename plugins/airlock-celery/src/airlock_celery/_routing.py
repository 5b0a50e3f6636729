"""A flush's router: Celery's own routing, with queues bound once to the flush's channel.

For every publish, Celery routes the task to a ``kombu.Queue`` of the app
(``app.amqp.queues``), then asks kombu to declare it. kombu's declaration
cache is keyed on the queue, but it first *binds* the queue to the
producer's channel, which copies the queue and its exchange: per message,
for a declaration that only happens once per connection. Inside a flush
every publish goes over one producer, so this router hands Celery the
queue already bound to that producer's channel, bound once per queue.

Routing itself is Celery's: ``route`` delegates to the app's router
(``task_routes``, ``task_queues``, ``task_default_queue``, missing-queue
creation). Only a plain, named ``Queue`` is replaced, by an equal copy bound
to the channel, which is what kombu would have built for this publish; a
``Broadcast`` or an anonymous queue passes through untouched.
"""

from __future__ import annotations

from typing import Any

from kombu import Queue

__all__ = ["BindingRouter"]


class BindingRouter:
    """Wraps ``app.amqp.router`` for one producer: routed queues come back bound to its channel.

    Pass it as ``apply_async(..., router=...)`` together with that
    ``producer``. Queues are bound once the producer's connection is open
    (the first publish opens it); when the producer's channel changes
    (kombu revived it after a connection error), they are bound again to
    the new one.
    """

    __slots__ = ("_router", "_producer", "_channel", "_bound")

    def __init__(self, router: Any, producer: Any) -> None:
        self._router = router
        self._producer = producer
        self._channel: Any = None
        self._bound: dict[Queue, Queue] = {}

    def route(self, *args: Any, **kwargs: Any) -> Any:
        """Celery's routing result, its ``queue`` bound to the producer's channel once that is open."""
        options = self._router.route(*args, **kwargs)
        queue = options.get("queue")
        if type(queue) is Queue and queue.name and not queue.is_bound:
            channel = self._open_channel()
            if channel is not None:
                options["queue"] = self._bind(queue, channel)
        return options

    def _open_channel(self) -> Any:
        """The producer's channel, or None while its connection is not open.

        Opening the connection is left to Celery's publish, which does it
        under its publish retry policy; asking for the channel here would
        open it with kombu's own, much longer, connection retries.
        """
        if not self._producer.connection.connected:
            return None
        return self._producer.channel

    def _bind(self, queue: Queue, channel: Any) -> Queue:
        if channel is not self._channel:
            self._channel, self._bound = channel, {}
        bound = self._bound.get(queue)
        if bound is None:
            bound = self._bound[queue] = queue.bind(channel)
        return bound
