"""A flush writes ``argsrepr``/``kwargsrepr`` of plain arguments itself, exactly as Celery would."""

from __future__ import annotations

import enum
import json
import random
import string
from typing import Any

import pytest
import redis
from airlock_celery._reprs import ArgumentReprs, argument_reprs
from celery import Celery
from celery.app import amqp as celery_amqp
from celery.app.amqp import AMQP
from celery.app.task import Task
from celery.utils.saferepr import saferepr

import airlock

LIMIT = 1024
reprs = ArgumentReprs(LIMIT, LIMIT, Task.apply_async)


def celery_texts(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, str]:
    """What Celery's ``as_task_v2`` writes with the default limits."""
    return {"argsrepr": saferepr(args, LIMIT, maxlevels=3), "kwargsrepr": saferepr(kwargs, LIMIT, maxlevels=3)}


class Colour(enum.IntEnum):
    RED = 1


class Name(str):
    """A str subclass whose repr Celery would not necessarily write as ours."""


PLAIN = [
    ((), {}),
    ((1,), {}),
    ((1, 2.5, True, None, "x"), {"a": 1, "b": None}),
    (("it's", 'say "hi"', "back\\slash", "new\nline", "é🙂", ""), {"quote'd": "v'"}),
    ((-0.0, float("inf"), float("nan"), 10**40, -3), {}),
    ((False,), {"": ""}),
]


@pytest.mark.parametrize(("args", "kwargs"), PLAIN)
def test_plain_arguments_are_written_as_celery_writes_them(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    assert reprs.options(args, kwargs) == celery_texts(args, kwargs)


def test_random_plain_arguments_are_written_as_celery_writes_them() -> None:
    rnd = random.Random(20261130)
    alphabet = string.printable + "'\"\\é\u2028\x00ü🙂"

    def value() -> Any:
        kind = rnd.randrange(5)
        if kind == 0:
            return rnd.randrange(-(10**30), 10**30)
        if kind == 1:
            return rnd.choice([0.1, -1e300, 1e-300, float("inf"), -0.0, 3.0, rnd.random()])
        if kind == 2:
            return rnd.choice([True, False, None])
        return "".join(rnd.choice(alphabet) for _ in range(rnd.randrange(40)))

    written = 0
    for _ in range(3000):
        args = tuple(value() for _ in range(rnd.randrange(5)))
        kwargs = {"".join(rnd.choice(alphabet) for _ in range(rnd.randrange(8))): value() for _ in range(3)}
        texts = reprs.options(args, kwargs)
        if texts is not None:
            written += 1
            assert texts == celery_texts(args, kwargs), (args, kwargs)
    assert written == 3000  # all of them are plain and short: none left to Celery


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (([1],), {}),  # a container
        (({"a": 1},), {}),
        ((Colour.RED,), {}),  # a subclass of int: Celery writes str(), which the subclass may change
        ((Name("x"),), {}),
        ((b"bytes",), {}),
        ((object(),), {}),
        ((), {"a": [1]}),
        ((10**5000,), {}),  # str() refuses it: Celery raises that itself
    ],
    ids=["list", "dict", "int-enum", "str-subclass", "bytes", "object", "kwarg-list", "huge-int"],
)
def test_anything_else_is_left_to_celery(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    assert reprs.options(args, kwargs) is None


def test_a_text_that_celery_could_truncate_is_left_to_it() -> None:
    fits = ("x" * (LIMIT - 6),)  # "('" + text + "',)" is LIMIT - 1 long
    assert reprs.options(fits, {}) == celery_texts(fits, {})
    assert reprs.options(("x" * (LIMIT - 5),), {}) is None
    assert reprs.options((), {"k": "x" * LIMIT}) is None


@pytest.fixture
def app() -> Any:
    made = Celery("airlock_reprs_test", broker="memory://", set_as_current=False)
    yield made
    made.close()


def test_the_app_decides_whether_the_text_is_written_here(app: Celery) -> None:
    assert argument_reprs(app) is not None
    app.conf.task_repr_maxlevels = -1  # hides even the outer tuple: Celery's text is "(...)"
    assert argument_reprs(app) is None
    app.conf.task_repr_maxlevels = 3
    assert argument_reprs(app) is not None


def test_task_protocol_1_is_left_to_celery() -> None:
    app = Celery("airlock_reprs_v1", broker="memory://", set_as_current=False)
    app.conf.task_protocol = 1  # its messages have no such header
    try:
        assert argument_reprs(app) is None
    finally:
        app.close()


def test_an_app_whose_amqp_makes_its_own_messages_is_left_alone() -> None:
    class OwnMessages(AMQP):
        def as_task_v2(self, *args: Any, **kwargs: Any) -> Any:
            return super().as_task_v2(*args, **kwargs)

    app = Celery("airlock_reprs_amqp", broker="memory://", set_as_current=False, amqp=OwnMessages)
    try:
        assert argument_reprs(app) is None
    finally:
        app.close()


def test_only_celery_s_own_apply_async_with_no_text_of_its_own_gets_one(app: Celery) -> None:
    class AddsArguments(Task):
        def apply_async(self, args: Any = None, kwargs: Any = None, **options: Any) -> Any:
            return super().apply_async((*(args or ()), "tenant"), kwargs, **options)

    @app.task(name="plain")
    def plain(*args: Any) -> None: ...

    @app.task(name="own", base=AddsArguments)
    def own(*args: Any) -> None: ...

    writer = argument_reprs(app)
    assert writer is not None
    assert writer.options_for(plain.apply_async, (1,), {}, None) == {"argsrepr": "(1,)", "kwargsrepr": "{}"}
    assert writer.options_for(plain.apply_async, (1,), {}, {"queue": "q"}) is not None
    assert writer.options_for(plain.apply_async, (1,), {}, {"argsrepr": "(hidden)"}) is None
    assert writer.options_for(own.apply_async, (1,), {}, None) is None  # its text would miss "tenant"
    assert writer.options_for(plain.s(1).apply_async, (), {}, None) is None  # a signature adds its own arguments


@pytest.mark.integration
@pytest.mark.timeout(30)
def test_a_flush_publishes_what_an_apply_async_loop_would(workerless_app, redis_url: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Header by header and body by body, with plain and other arguments and
    a caller's own text; only the plain call's text is written by airlock."""
    _, noop, queue = workerless_app(redis_url)
    written_by_celery: list[object] = []

    def counting_saferepr(value: Any, *args: Any, **kwargs: Any) -> str:
        written_by_celery.append(value)
        return saferepr(value, *args, **kwargs)

    monkeypatch.setattr(celery_amqp, "saferepr", counting_saferepr)
    calls: list[tuple[tuple[Any, ...], dict[str, Any], dict[str, Any]]] = [
        ((1, "it's", None), {"flag": True}, {}),
        (([1, 2], {"nested": (3,)}), {}, {}),
        ((Colour.RED, 2.5), {"name": Name("n")}, {}),
        (("secret",), {}, {"argsrepr": "(hidden)"}),
        (("x" * 2000,), {}, {}),
    ]
    client = redis.Redis.from_url(redis_url)

    def published() -> list[dict[str, Any]]:
        messages = [json.loads(m) for m in reversed(client.lrange(queue, 0, -1))]  # LPUSHed: oldest last
        client.delete(queue)
        for message in messages:
            for varying in ("id", "task_id", "root_id"):  # one per message, not per publisher
                message["headers"].pop(varying, None)
            message["properties"].pop("correlation_id", None)
            message["properties"].pop("delivery_tag", None)
        return messages

    try:
        for args, kwargs, options in calls:
            noop.apply_async(args=args, kwargs=kwargs, **options)
        by_hand = published()
        assert len(written_by_celery) == 9  # the caller's own argsrepr: Celery writes only that call's kwargsrepr
        written_by_celery.clear()
        with airlock.scope(executor="celery") as scope:
            for args, kwargs, options in calls:
                airlock.enqueue_call(noop, args, kwargs, dispatch_options=options or None)
        assert scope.report.ok and len(scope.report.dispatched) == len(calls)
        through_airlock = published()
        _, nested, other_types, (_, hidden_kwargs, _), long = calls
        left_to_celery = [*nested[:2], *other_types[:2], hidden_kwargs, *long[:2]]
        assert written_by_celery == left_to_celery  # not the plain call's
        assert [m["headers"] for m in through_airlock] == [m["headers"] for m in by_hand]
        assert [m["body"] for m in through_airlock] == [m["body"] for m in by_hand]
        assert through_airlock[0]["headers"]["argsrepr"] == "(1, 'it\\'s', None)"
    finally:
        client.delete(queue, f"_kombu.binding.{queue}")
        client.close()
