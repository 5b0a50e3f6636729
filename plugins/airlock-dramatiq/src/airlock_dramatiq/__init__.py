"""airlock-dramatiq: the ``dramatiq`` executor for airlock.

``airlock.scope(executor="dramatiq")`` sends each intent with the actor's
``send_with_options(args=, kwargs=, **dispatch_options)`` (else ``send``,
else a plain call). A whole flush to a Redis broker is pipelined in bounded
chunks; on RabbitMQ it reuses Dramatiq's one channel per thread (see
:class:`DramatiqExecutor`).
"""

from .executor import DEFAULT_CHUNK_SIZE, DEFAULT_FIRST_CHUNK_SIZE, DramatiqExecutor, dramatiq_executor

__all__ = ["DramatiqExecutor", "dramatiq_executor", "DEFAULT_CHUNK_SIZE", "DEFAULT_FIRST_CHUNK_SIZE"]
