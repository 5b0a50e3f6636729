"""Views that save a Thing and enqueue a task in the same transaction."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.db import transaction
from django.http import HttpRequest, HttpResponse

import airlock

from .models import Thing
from .tasks import broken, note, record_visible


def _save_and_enqueue(alias: str, name: str) -> None:
    with transaction.atomic(using=alias):
        Thing.objects.using(alias).create(name=name)
        airlock.enqueue(record_visible, alias, name)


def create(request: HttpRequest, alias: str, name: str) -> HttpResponse:
    """Save and enqueue in one transaction; answer with ``?status=`` (default 201)."""
    _save_and_enqueue(alias, name)
    return HttpResponse(status=int(request.GET.get("status", 201)))


def create_then_raise(request: HttpRequest, alias: str, name: str) -> HttpResponse:
    """Save and enqueue, then fail: the request ends with an exception (500)."""
    _save_and_enqueue(alias, name)
    raise RuntimeError("the view failed after enqueueing")


def rolled_back(request: HttpRequest, alias: str, name: str) -> HttpResponse:
    """Save and enqueue in a transaction that rolls back; the view still answers 200."""
    try:
        with transaction.atomic(using=alias):
            Thing.objects.using(alias).create(name=name)
            airlock.enqueue(record_visible, alias, name)
            raise ValueError("roll back")
    except ValueError:
        pass
    return HttpResponse("rolled back")


def savepoints(request: HttpRequest, alias: str, name: str) -> HttpResponse:
    """Enqueue before, inside and after an inner atomic() that rolls back."""
    with transaction.atomic(using=alias):
        Thing.objects.using(alias).create(name=f"{name}-before")
        airlock.enqueue(record_visible, alias, f"{name}-before")
        try:
            with transaction.atomic(using=alias):
                Thing.objects.using(alias).create(name=f"{name}-inner")
                airlock.enqueue(record_visible, alias, f"{name}-inner")
                raise ValueError("roll back the savepoint only")
        except ValueError:
            pass
        Thing.objects.using(alias).create(name=f"{name}-after")
        airlock.enqueue(record_visible, alias, f"{name}-after")
    return HttpResponse("ok")


def one_fails(request: HttpRequest, alias: str, name: str) -> HttpResponse:
    """Three intents, the middle one's dispatch fails."""
    with transaction.atomic(using=alias):
        Thing.objects.using(alias).create(name=name)
        airlock.enqueue(note, f"{name}-first")
        airlock.enqueue(broken, name)
        airlock.enqueue(record_visible, alias, name)
    return HttpResponse("ok")


def celery_create(request: HttpRequest, alias: str, name: str) -> HttpResponse:
    """Save and enqueue a Celery task in one transaction (the Celery test only)."""
    from .celery_app import check_row

    with transaction.atomic(using=alias):
        Thing.objects.using(alias).create(name=name)
        airlock.enqueue(check_row, alias, name)
    return HttpResponse(status=201)


async def async_create(request: HttpRequest, alias: str, name: str) -> HttpResponse:
    """An async view: saves through sync_to_async, then enqueues from the event loop too."""
    await sync_to_async(_save_and_enqueue)(alias, name)
    airlock.enqueue(note, f"{name}-from-async")
    return HttpResponse(status=int(request.GET.get("status", 201)))


async def async_nested(request: HttpRequest, alias: str, name: str) -> HttpResponse:
    """An async view calling a helper that opens its own scope (captured by the request's)."""
    with airlock.scope(using=alias):
        airlock.enqueue(note, f"{name}-nested")
    return HttpResponse(status=200)
