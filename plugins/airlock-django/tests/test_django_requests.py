"""Real requests through Django's test clients (WSGI and ASGI), against SQLite and PostgreSQL."""

from __future__ import annotations

import logging

import pytest
from airlock_django import DjangoScope
from airlock_django_testproject.tasks import DispatchBroke, note
from asgiref.sync import async_to_sync, sync_to_async
from django.test import AsyncClient, Client, override_settings

import airlock

pytestmark = pytest.mark.usefixtures("real_commits")


def fates(scope: airlock.Scope) -> dict[str, list[str]]:
    report = scope.report
    assert report is not None and report.complete
    found: dict[str, list[str]] = {}
    for fate in report.fates():
        found.setdefault(fate.status, []).append(fate.intent.args[-1])
    return found


def test_task_runs_after_commit_and_sees_the_row(alias, probe):
    response = Client().get(f"/create/{alias}/alpha/")

    assert response.status_code == 201
    assert probe == [("alpha", True)]  # a separate connection saw the committed row
    scope = response.wsgi_request.airlock_scope
    assert isinstance(scope, DjangoScope) and scope.using == alias
    assert fates(scope) == {"dispatched": ["alpha"]}


def test_4xx_response_discards(alias, probe):
    response = Client().get(f"/create/{alias}/beta/?status=404")

    assert response.status_code == 404
    assert probe == []
    assert fates(response.wsgi_request.airlock_scope) == {"discarded": ["beta"]}


def test_view_exception_discards(alias, probe):
    client = Client(raise_request_exception=False)
    response = client.get(f"/create_then_raise/{alias}/gamma/")

    assert response.status_code == 500
    assert probe == []


@pytest.mark.parametrize("handler", ["wsgi", "asgi"])
def test_a_view_exception_discards_even_when_should_flush_would_flush_its_500(alias, probe, handler):
    """The view committed its row, then raised: Django answers 500, but the view failed, so nothing escapes."""
    url = f"/create_then_raise/{alias}/delta/"
    with override_settings(MIDDLEWARE=["airlock_django_testproject.middleware.FollowTheDatabaseMiddleware"]):
        if handler == "wsgi":
            response = Client(raise_request_exception=False).get(url)
            scope = response.wsgi_request.airlock_scope
        else:
            response = async_to_sync(AsyncClient(raise_request_exception=False).get)(url)
            scope = response.asgi_request.airlock_scope

    assert response.status_code == 500
    assert probe == []
    assert fates(scope) == {"discarded": ["delta"]}


def test_listed_last_it_sees_the_view_exception_another_middleware_turns_into_a_redirect(alias, probe):
    """Django offers the exception to process_exception from the last listed
    middleware; the redirect (302, below 400) must not flush what the failed view enqueued."""
    middleware = ["airlock_django_testproject.middleware.RedirectOnErrorMiddleware", "airlock_django.AirlockMiddleware"]
    with override_settings(MIDDLEWARE=middleware):
        response = Client().get(f"/create_then_raise/{alias}/epsilon/")

    assert response.status_code == 302
    assert probe == []
    assert fates(response.wsgi_request.airlock_scope) == {"discarded": ["epsilon"]}


def test_a_failing_after_flush_observer_does_not_replace_the_exception_leaving_the_middleware(
    alias, probe, airlock_plugin, caplog
):
    """Django turns a view's exception into a 500 response before it reaches a
    middleware; one that still arrives (from an inner middleware, or a
    handler without that conversion) keeps its identity past the discard."""
    from airlock_django import AirlockMiddleware
    from django.test import RequestFactory

    class Broken:
        @airlock.hookimpl
        def airlock_after_flush(self) -> None:
            raise LookupError("metrics backend down")

    def inner(request):
        airlock.enqueue(note, "gamma")
        raise RuntimeError("an inner middleware failed")

    airlock_plugin(Broken())
    with pytest.raises(RuntimeError, match="an inner middleware failed"):
        AirlockMiddleware(inner)(RequestFactory().get("/"))
    assert probe == []
    assert any("airlock_after_flush hook failed" in record.getMessage() for record in caplog.records)


def test_rolled_back_transaction_drops_its_intent(alias, probe):
    response = Client().get(f"/rolled_back/{alias}/delta/")

    assert response.status_code == 200
    assert probe == []
    assert fates(response.wsgi_request.airlock_scope) == {"discarded": ["delta"]}


def test_savepoint_rollback_drops_only_its_own(alias, probe):
    response = Client().get(f"/savepoints/{alias}/eps/")

    assert probe == [("eps-before", True), ("eps-after", True)]
    assert fates(response.wsgi_request.airlock_scope) == {
        "dispatched": ["eps-before", "eps-after"],
        "discarded": ["eps-inner"],
    }


def test_one_failing_dispatch_does_not_stop_the_rest(alias, probe, caplog):
    with caplog.at_level(logging.ERROR, logger="django.db.backends.base"):
        response = Client().get(f"/one_fails/{alias}/zeta/")

    assert response.status_code == 200  # robust on_commit: logged, not raised into the response
    assert probe == [("zeta-first", True), ("zeta", True)]
    report = response.wsgi_request.airlock_scope.report
    assert [type(exc) for _, exc in report.failed] == [DispatchBroke]
    assert len(report.dispatched) == 2
    assert any("FlushFailed" in record.getMessage() or record.exc_info for record in caplog.records)


def asgi_get(url: str):
    """A request through Django's ASGI handler (the async test client)."""
    return async_to_sync(AsyncClient().get)(url)


def test_asgi_async_view_flushes_after_commit(alias, probe):
    response = asgi_get(f"/async_create/{alias}/eta/")

    assert response.status_code == 201
    assert probe == [("eta", True), ("eta-from-async", True)]
    assert fates(response.asgi_request.airlock_scope) == {"dispatched": ["eta", "eta-from-async"]}


def test_asgi_async_view_with_a_nested_scope(alias, probe):
    """The nested scope ends in the event loop, where Django may not be asked
    about autocommit (SynchronousOnlyOperation): its captured flush must not ask."""
    response = asgi_get(f"/async_nested/{alias}/mu/")

    assert response.status_code == 200
    assert probe == [("mu-nested", True)]
    assert fates(response.asgi_request.airlock_scope) == {"dispatched": ["mu-nested"]}


def test_a_scope_flushing_to_an_executor_of_one_s_own_inside_an_event_loop_may_use_the_orm(alias, probe):
    """Any executor may use the ORM (django-q2's ORM broker, a wrapper around sync): it runs off the loop's thread."""
    from airlock_django_testproject.models import Thing

    counted = []

    def counting_executor(intent):
        counted.append(Thing.objects.using(alias).count())

    @airlock.scoped(_cls=DjangoScope, using=alias, executor=counting_executor)
    async def job():
        airlock.enqueue(note, "from the loop")

    async_to_sync(job)()
    assert counted == [0]


def test_a_scope_ending_in_async_code_runs_orm_tasks_outside_the_event_loop(alias, probe):
    """The sync executor's tasks would run in the loop's thread, where Django refuses the ORM."""
    from airlock_django_testproject.models import Thing

    seen: list[object] = []

    def count_things(name: str) -> None:
        seen.append(Thing.objects.using(alias).filter(name=name).count())

    @airlock.scoped(_cls=DjangoScope, using=alias)
    async def job() -> DjangoScope:
        await sync_to_async(Thing.objects.using(alias).create)(name="async-row")
        airlock.enqueue(count_things, "async-row")
        return airlock.get_current_scope()

    scope = async_to_sync(job)()
    assert seen == [1]
    assert fates(scope) == {"dispatched": ["async-row"]}


def test_asgi_async_view_4xx_discards(alias, probe):
    response = asgi_get(f"/async_create/{alias}/theta/?status=409")

    assert response.status_code == 409
    assert probe == []


def test_asgi_sync_view(alias, probe):
    response = asgi_get(f"/savepoints/{alias}/iota/")

    assert response.status_code == 200
    assert probe == [("iota-before", True), ("iota-after", True)]


def test_should_flush_is_overridable(alias, probe):
    with override_settings(MIDDLEWARE=["airlock_django_testproject.middleware.KeepOnConflictMiddleware"]):
        response = Client().get(f"/create/{alias}/kappa/?status=409")

    assert response.status_code == 409
    assert probe == [("kappa", True)]


def test_the_middleware_calls_a_scope_class_own_flush(alias, probe):
    from airlock_django.conf import configure_from_settings
    from airlock_django_testproject.middleware import AuditedScope

    AuditedScope.flushes.clear()
    with override_settings(AIRLOCK={"SCOPE": "airlock_django_testproject.middleware.AuditedScope"}):
        configure_from_settings()
        response = Client().get(f"/create/{alias}/nu/")

    assert response.status_code == 201
    assert AuditedScope.flushes == ["flush"]
    assert probe == [("nu", True)]


def test_a_failing_should_flush_discards_and_propagates(alias, probe):
    client = Client(raise_request_exception=False)
    with override_settings(MIDDLEWARE=["airlock_django_testproject.middleware.BrokenDecisionMiddleware"]):
        response = client.get(f"/create/{alias}/lambda/")

    assert response.status_code == 500
    assert probe == []
    scope = response.wsgi_request.airlock_scope
    assert scope.is_discarded
    assert fates(scope) == {"discarded": ["lambda"]}


@pytest.mark.parametrize("flush", [False, True])
def test_a_cancelled_asgi_request_discards_with_a_warning_unless_told_to_flush(flush, caplog):
    """Django cancels the view's task when the client disconnects (ASGI): not silent either way."""
    import asyncio

    from airlock_django import AirlockMiddleware
    from django.test import RequestFactory

    sent: list[str] = []

    async def view(request):
        airlock.enqueue(sent.append, "order confirmation")
        raise asyncio.CancelledError  # what the view's task raises when it is cancelled

    class Middleware(AirlockMiddleware):
        def should_flush_when_cancelled(self, request):
            return flush

    request = RequestFactory().get("/orders/7/")
    with caplog.at_level(logging.WARNING, logger="airlock.django"), pytest.raises(asyncio.CancelledError):
        asyncio.run(Middleware(view)(request))

    scope = request.airlock_scope
    if flush:
        assert sent == ["order confirmation"] and scope.is_flushed
        assert not caplog.records
    else:
        assert sent == [] and scope.is_discarded
        [record] = caplog.records
        assert record.getMessage().startswith(
            "airlock: GET /orders/7/ was cancelled (client disconnected?); its 1 intent(s) are discarded: append("
        )


@pytest.mark.parametrize("flush", [False, True])
def test_a_cancelled_request_waits_for_its_sync_view_still_running_in_django_s_thread(flush, caplog):
    """asgiref lets a sync view's thread run on after the cancellation: what it enqueues is decided too."""
    import asyncio
    import time

    from airlock_django import AirlockMiddleware
    from asgiref.sync import ThreadSensitiveContext
    from django.http import HttpResponse
    from django.test import RequestFactory

    sent: list[str] = []

    def sync_view(request):
        time.sleep(0.3)  # the client disconnects meanwhile
        airlock.enqueue(sent.append, "order confirmation")
        return HttpResponse("ok")

    async def get_response(request):  # Django's async chain around a sync view
        return await sync_to_async(sync_view, thread_sensitive=True)(request)

    class Middleware(AirlockMiddleware):
        def should_flush_when_cancelled(self, request):
            return flush

    request = RequestFactory().get("/orders/8/")

    async def disconnecting_client() -> None:
        async with ThreadSensitiveContext():
            task = asyncio.ensure_future(Middleware(get_response)(request))
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    with caplog.at_level(logging.WARNING, logger="airlock.django"):
        asyncio.run(disconnecting_client())

    scope = request.airlock_scope
    assert (scope.is_flushed, sent) == ((True, ["order confirmation"]) if flush else (False, []))
    assert scope.is_discarded is not flush
    assert ["its 1 intent(s) are discarded" in r.getMessage() for r in caplog.records] == ([] if flush else [True])
