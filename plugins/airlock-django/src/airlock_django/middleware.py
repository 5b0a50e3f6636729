"""``AirlockMiddleware``: one airlock scope per request, for WSGI and ASGI."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponseBase

import airlock
from airlock import Scope
from airlock.intent import described_some

from .scope import DjangoScope

__all__ = ["AirlockMiddleware"]

_base_flush = Scope.flush
logger = logging.getLogger("airlock.django")


class AirlockMiddleware:
    """Wraps each request in its own airlock scope.

    The scope is entered before the view and is available as
    ``request.airlock_scope``. When the view raises, the scope discards,
    whatever :meth:`should_flush` would say of the error response Django
    makes of the exception. Otherwise, when the response is ready, it
    flushes if :meth:`should_flush` says so (default: status < 400) and
    discards if not. With the default ``DjangoScope`` a flush dispatches once the
    database transaction commits.

    Works under WSGI and ASGI, with sync and async views (Django's
    ``sync_and_async_middleware`` pattern): under ASGI the flush runs in
    Django's thread for synchronous code, where the request's database
    connection lives.

    The scope class, policy, executor and scope arguments come from
    ``airlock.configure()`` (set by the app from ``settings.AIRLOCK``), with
    ``DjangoScope`` when no scope class is configured. Override
    :meth:`make_scope` to build it differently.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def should_flush(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        """Flush (True) or discard (False) the request's intents. Default: status < 400."""
        return response.status_code < 400

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        """Django's hook for a view's exception (it then makes a 500 response of
        it, or lets a later handler do so): note it, so the request's scope
        discards instead of asking :meth:`should_flush`."""
        request._airlock_view_raised = True  # type: ignore[attr-defined]

    def make_scope(self, request: HttpRequest) -> Scope:
        """A new, not yet entered scope for ``request``."""
        scope = airlock.scope()
        # Only a plain Scope can mean "no scope class configured": check (a copy of the configuration) only then.
        if type(scope) is Scope and airlock.get_configuration()["scope_cls"] is None:
            return airlock.scope(_cls=DjangoScope)
        return scope

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self._acall(request)
        scope = self.make_scope(request).enter()
        request.airlock_scope = scope  # type: ignore[attr-defined]
        try:
            response = self.get_response(request)
        except BaseException as error:
            scope.exit()
            scope._discard_while(error)
            raise
        scope.exit()
        self._finish(scope, request, response)
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        scope = self.make_scope(request).enter()
        request.airlock_scope = scope  # type: ignore[attr-defined]
        get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
        try:
            response = await get_response(request)
        except asyncio.CancelledError as error:
            scope.exit()
            # Always in Django's thread for sync code, even with no intent yet: a
            # sync view still running there may enqueue; this waits for it.
            await sync_to_async(self._cancelled, thread_sensitive=True)(scope, request, error)
            raise
        except BaseException as error:
            scope.exit()
            await self._in_sync_thread(scope, scope._discard_while, error)
            raise
        scope.exit()
        await self._in_sync_thread(scope, self._finish, scope, request, response)
        return response

    def should_flush_when_cancelled(self, request: HttpRequest) -> bool:
        """Flush (True) or discard (False, the default) when the request is
        cancelled under ASGI: the client disconnected, or a timeout or the
        server's shutdown cancelled it.

        A synchronous view has then run to its end (Django lets its thread
        finish) and may have committed; an async view stopped at an
        ``await``. Discarding keeps to "no escape unless the request
        succeeded"; each discard is logged as a warning naming the intents.
        With ``DjangoScope``, True dispatches only what committed.
        """
        return False

    def _cancelled(self, scope: Scope, request: HttpRequest, error: BaseException) -> None:
        intents = scope.intents
        if intents and self.should_flush_when_cancelled(request):
            scope.flush()
            return
        if intents:
            logger.warning(
                "airlock: %s %s was cancelled (client disconnected?); its %d intent(s) are discarded: %s. "
                "Override AirlockMiddleware.should_flush_when_cancelled() to flush them instead.",
                request.method,
                request.path,
                len(intents),
                described_some(intents),
            )
        scope._discard_while(error)

    def _finish(self, scope: Scope, request: HttpRequest, response: HttpResponseBase) -> None:
        if "_airlock_view_raised" in request.__dict__:  # not getattr(): a miss costs an exception per request
            scope.discard()
            return
        try:
            flush = self.should_flush(request, response)
        except BaseException as error:
            scope._discard_while(error)  # no decision, no dispatch: the report says discarded
            raise
        if flush:
            if type(scope).flush is _base_flush:
                scope._flush()  # flush() minus building the list it returns: nobody here reads it
            else:
                scope.flush()  # the scope class customises it
        else:
            scope.discard()

    @staticmethod
    async def _in_sync_thread(scope: Scope, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn`` where synchronous Django code runs (database, executors, hooks).

        A scope with no intents has nothing to dispatch: finish it inline.
        """
        if scope.intents:
            await sync_to_async(fn, thread_sensitive=True)(*args)
        else:
            fn(*args)
