"""``airlock.Intent``: the immutable record of one side effect (API.md, "Intents")."""

from __future__ import annotations

import copy
import functools
import pickle

import pytest

import airlock
from airlock import Intent
from airlock.intent import Buffered, promote


def send_email(user_id: int, to: str = "") -> None:
    """A module-level task, so intents holding it can be pickled."""


class CeleryLikeTask:
    """Quacks like a Celery task: a callable with a dotted ``name``."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, *args: object) -> None:
        pass


class Nameless:
    """A callable with neither ``name`` nor ``__name__``."""

    def __call__(self) -> None:
        pass

    def __str__(self) -> str:
        return "nameless-task"


class RecordingPolicy:
    """A policy that records the order in which ``allows`` is consulted."""

    def __init__(self, label: str, log: list[str], allow: bool = True) -> None:
        self.label, self.log, self.allow = label, log, allow

    def on_enqueue(self, intent: Intent) -> None:
        pass

    def allows(self, intent: Intent) -> bool:
        self.log.append(self.label)
        return self.allow


class TestFields:
    def test_fields_as_given(self) -> None:
        intent = Intent(task=send_email, args=(1,), kwargs={"to": "a@b"}, origin="signup", dispatch_options={"q": 1})
        assert intent.task is send_email
        assert intent.args == (1,)
        assert intent.kwargs == {"to": "a@b"}
        assert intent.origin == "signup"
        assert intent.dispatch_options == {"q": 1}

    def test_optional_fields_default_to_none(self) -> None:
        intent = Intent(task=send_email, args=(), kwargs={})
        assert intent.origin is None
        assert intent.dispatch_options is None
        assert intent.local_policies == ()

    def test_args_list_becomes_tuple(self) -> None:
        intent = Intent(task=send_email, args=[1, 2], kwargs={})
        assert intent.args == (1, 2)
        assert type(intent.args) is tuple

    def test_args_from_enqueue_are_a_tuple(self) -> None:
        with airlock.scope(executor=lambda intent: None) as s:
            airlock.enqueue(send_email, 7, to="x")
        (intent,) = s.intents
        assert intent.args == (7,)
        assert intent.kwargs == {"to": "x"}

    def test_direct_construction_with_private_fields(self) -> None:
        local = airlock.DropAll()
        intent = Intent(task=send_email, args=(), kwargs={}, _local_policies=[local], _explicit_name="custom")
        assert intent.local_policies == (local,)
        assert intent._local_policies == (local,)
        assert intent._explicit_name == "custom"
        assert intent.name == "custom"


class TestName:
    def test_explicit_name_wins(self) -> None:
        task = CeleryLikeTask("app.tasks.other")
        assert Intent(task=task, args=(), kwargs={}, _explicit_name="mine").name == "mine"

    def test_explicit_name_from_enqueue(self) -> None:
        with airlock.scope(executor=lambda intent: None) as s:
            airlock.enqueue(send_email, 1, _name="welcome_mail")
        assert s.intents[0].name == "welcome_mail"

    def test_celery_like_name_uses_last_dotted_part(self) -> None:
        assert Intent(task=CeleryLikeTask("app.tasks.send_email"), args=(), kwargs={}).name == "send_email"

    def test_celery_like_name_without_dots(self) -> None:
        assert Intent(task=CeleryLikeTask("ping"), args=(), kwargs={}).name == "ping"

    def test_function_uses_dunder_name(self) -> None:
        assert Intent(task=send_email, args=(), kwargs={}).name == "send_email"

    def test_lambda(self) -> None:
        assert Intent(task=lambda: None, args=(), kwargs={}).name == "<lambda>"

    def test_falls_back_to_str(self) -> None:
        assert Intent(task=Nameless(), args=(), kwargs={}).name == "nameless-task"

    def test_wrapper_uses_the_wrapped_functions_name(self) -> None:
        # functools.partial and Huey tasks have no __name__ but keep the function as .func
        task = functools.partial(send_email, 1)
        assert Intent(task=task, args=(), kwargs={}).name == "send_email"


class ActorLike:
    """Like a Dramatiq actor: ``actor_name`` and ``fn``, but neither ``name`` nor ``__name__``."""

    actor_name = "tasks.reindex"

    def fn(self, product_id: int) -> None:
        """The actor's function."""

    def __call__(self, *args: object, **kwargs: object) -> None:
        """Runs the function inline."""

    def __str__(self) -> str:
        return "Actor(reindex)"


class TestRegisteredName:
    def test_a_dramatiq_actor_is_named_by_its_actor_name(self) -> None:
        intent = Intent(task=ActorLike(), args=(), kwargs={})
        assert intent.name == "reindex"  # not str(actor), "Actor(reindex)"
        assert intent.registered_name == "tasks.reindex"

    def test_a_function_wrapping_an_actor_keeps_its_actor_name(self) -> None:
        """functools.wraps copies the actor's __dict__ (Dramatiq keeps actor_name there) onto the wrapper."""
        actor = ActorLike()
        actor.actor_name = "tasks.reindex"  # type: ignore[misc]  # per instance, as Dramatiq sets it

        @functools.wraps(actor)
        def logged(*args: object) -> None:
            actor(*args)

        intent = Intent(task=logged, args=(), kwargs={})
        assert (intent.name, intent.registered_name) == ("reindex", "tasks.reindex")

    def test_a_celery_task_s_name_wins_and_a_plain_function_has_none(self) -> None:
        assert Intent(task=CeleryLikeTask("app.tasks.ping"), args=(), kwargs={}).registered_name == "app.tasks.ping"
        assert Intent(task=send_email, args=(), kwargs={}).registered_name is None
        assert Intent(task=functools.partial(send_email, 1), args=(), kwargs={}).registered_name is None

    def test_block_tasks_sees_the_actor_name(self) -> None:
        actor = ActorLike()
        with airlock.scope(airlock.BlockTasks({"reindex"}), executor=lambda intent: None) as s:
            airlock.enqueue(actor, 1)
        assert s.report is not None and s.report.dispatched == [] and [p for _, p in s.report.dropped] == [s.policy]


class TestText:
    def test_str_reads_like_a_call(self) -> None:
        intent = Intent(task=send_email, args=(1,), kwargs={"to": "a@b"})
        assert str(intent) == "send_email(1, to='a@b')"

    def test_str_without_arguments(self) -> None:
        assert str(Intent(task=send_email, args=(), kwargs={})) == "send_email()"

    def test_repr_minimal(self) -> None:
        intent = Intent(task=send_email, args=(1,), kwargs={"to": "a@b"})
        assert repr(intent) == "Intent('send_email', args=(1,), kwargs={'to': 'a@b'})"

    def test_repr_shows_origin_options_and_policy_count(self) -> None:
        intent = Intent(
            task=send_email,
            args=(),
            kwargs={},
            origin="view",
            dispatch_options={"countdown": 5},
            _local_policies=(airlock.AllowAll(), airlock.DropAll()),
        )
        assert repr(intent) == (
            "Intent('send_email', args=(), kwargs={}, origin='view', dispatch_options={'countdown': 5}, policies=2)"
        )


class TestValueSemantics:
    def test_not_hashable(self) -> None:
        intent = Intent(task=send_email, args=(), kwargs={"data": [1]})
        with pytest.raises(TypeError):
            hash(intent)
        with pytest.raises(TypeError):
            {intent}  # noqa: B018 - building the set is the test

    def test_equality_is_field_equality(self) -> None:
        a = Intent(task=send_email, args=[1], kwargs={"to": "x"})
        b = Intent(task=send_email, args=(1,), kwargs={"to": "x"})
        assert a == b
        assert not (a != b)

    @pytest.mark.parametrize(
        "change",
        [
            {"args": (2,)},
            {"kwargs": {"to": "y"}},
            {"origin": "elsewhere"},
            {"dispatch_options": {"queue": "q"}},
            {"_explicit_name": "other"},
            {"task": print},
        ],
        ids=lambda change: next(iter(change)),
    )
    def test_any_field_difference_makes_unequal(self, change: dict[str, object]) -> None:
        base = Intent(task=send_email, args=(1,), kwargs={"to": "x"})
        assert base != base.replace(**change)

    def test_never_equal_to_a_plain_tuple(self) -> None:
        # A record equals records, not sequences that happen to hold the same values
        # (airlock-py's Intent, a dataclass, compares equal only to Intents).
        intent = Intent(task=send_email, args=(1,), kwargs={})
        assert intent != tuple(intent)
        assert tuple(intent) != intent

    @pytest.mark.parametrize("field", ["task", "args", "kwargs", "origin", "dispatch_options", "name"])
    def test_immutable(self, field: str) -> None:
        intent = Intent(task=send_email, args=(1,), kwargs={})
        with pytest.raises(AttributeError):
            setattr(intent, field, None)
        assert intent.args == (1,)

    def test_new_attributes_cannot_be_added(self) -> None:
        intent = Intent(task=send_email, args=(), kwargs={})
        with pytest.raises(AttributeError):
            intent.extra = 1  # type: ignore[attr-defined]

    @pytest.mark.parametrize(
        "roundtrip",
        [lambda i: pickle.loads(pickle.dumps(i)), copy.copy, copy.deepcopy],
        ids=["pickle", "copy", "deepcopy"],
    )
    def test_roundtrip_keeps_every_field(self, roundtrip) -> None:  # type: ignore[no-untyped-def]
        intent = Intent(
            task=send_email,
            args=[1],
            kwargs={"to": "x"},
            origin="o",
            dispatch_options={"queue": "q"},
            _local_policies=(airlock.AllowAll(),),
            _explicit_name="n",
        )
        again = roundtrip(intent)
        assert type(again) is Intent
        assert (again.task, again.args, again.kwargs) == (send_email, (1,), {"to": "x"})
        assert (again.origin, again.dispatch_options, again.name) == ("o", {"queue": "q"}, "n")
        assert len(again.local_policies) == 1
        assert isinstance(again.local_policies[0], airlock.AllowAll)


class TestReplace:
    def test_returns_changed_copy(self) -> None:
        intent = Intent(task=send_email, args=(1,), kwargs={}, dispatch_options={"a": 1})
        changed = intent.replace(dispatch_options=None, args=[2])
        assert changed.dispatch_options is None
        assert changed.args == (2,)
        assert changed.task is send_email
        assert intent.dispatch_options == {"a": 1}
        assert intent.args == (1,)

    def test_keeps_private_fields(self) -> None:
        local = airlock.DropAll()
        intent = Intent(task=send_email, args=(), kwargs={}, _local_policies=(local,), _explicit_name="n")
        changed = intent.replace(origin="x")
        assert changed.local_policies == (local,)
        assert changed.name == "n"

    def test_unknown_field_is_an_error(self) -> None:
        intent = Intent(task=send_email, args=(), kwargs={})
        with pytest.raises(TypeError, match="colour"):
            intent.replace(colour="red")


class TestLocalPolicies:
    def test_captured_at_enqueue_outermost_first(self) -> None:
        outer, inner = airlock.AllowAll(), airlock.LogOnFlush()
        with airlock.scope(executor=lambda intent: None) as s:
            with airlock.policy(outer):
                with airlock.policy(inner):
                    airlock.enqueue(send_email, 1)
                airlock.enqueue(send_email, 2)
            airlock.enqueue(send_email, 3)
        assert [i.local_policies for i in s.intents] == [(outer, inner), (outer,), ()]

    def test_passes_local_policies_checks_innermost_first(self) -> None:
        log: list[str] = []
        intent = Intent(
            task=send_email,
            args=(),
            kwargs={},
            _local_policies=(RecordingPolicy("outer", log), RecordingPolicy("inner", log)),
        )
        assert intent.passes_local_policies() is True
        assert log == ["inner", "outer"]

    def test_passes_local_policies_stops_at_first_refusal(self) -> None:
        log: list[str] = []
        intent = Intent(
            task=send_email,
            args=(),
            kwargs={},
            _local_policies=(RecordingPolicy("outer", log), RecordingPolicy("inner", log, allow=False)),
        )
        assert intent.passes_local_policies() is False
        assert log == ["inner"]

    def test_no_local_policies_passes(self) -> None:
        assert Intent(task=send_email, args=(), kwargs={}).passes_local_policies() is True


def plain(n: int) -> tuple[object, ...]:
    """What ``enqueue()``'s fast path buffers for ``send_email(n)``."""
    return (send_email, (n,), {}, None, None)


class TestPromote:
    def test_every_plain_tuple_becomes_the_equal_intent_in_place(self) -> None:
        items = [plain(1), plain(2)]
        same_list = promote(items)
        assert same_list is items
        assert [type(i) for i in items] == [Intent, Intent]
        assert items == [Intent(send_email, (1,)), Intent(send_email, (2,))]

    def test_a_mixed_list_keeps_its_intents_and_promotes_the_rest(self) -> None:
        named = Intent(send_email, (2,), _explicit_name="named")
        items = [plain(1), named, plain(3)]
        promote(items)
        assert items[1] is named
        assert items == [Intent(send_email, (1,)), named, Intent(send_email, (3,))]

    @pytest.mark.parametrize("size", [1, 31, 32, 100])
    def test_short_and_long_lists_alike(self, size: int) -> None:
        items = [plain(n) for n in range(size)]
        promote(items)
        assert items == [Intent(send_email, (n,)) for n in range(size)]
        assert all(type(i) is Intent for i in items)
        mixed = [*(plain(n) for n in range(size)), Intent(send_email, (size,))]
        promote(mixed)
        assert mixed == [Intent(send_email, (n,)) for n in range(size + 1)]

    def test_a_list_of_intents_is_left_alone(self) -> None:
        intents = [Intent(send_email, (1,))]
        before = list(intents)
        promote(intents)
        assert intents[0] is before[0]


class TestBuffered:
    def test_builds_only_the_intents_taken_in_place_once(self) -> None:
        items = [plain(n) for n in range(5)]
        buffered = Buffered(items)
        kept = buffered.at([3, 1])
        assert kept == [Intent(send_email, (3,)), Intent(send_email, (1,))]
        assert [type(i) for i in items] == [tuple, Intent, tuple, Intent, tuple]
        assert kept[0] is items[3] and buffered[3] is kept[0] and buffered.at([1])[0] is kept[1]

    def test_indexes_and_slices_like_a_list_of_intents(self) -> None:
        buffered = Buffered([plain(n) for n in range(4)])
        assert len(buffered) == 4
        assert buffered[-1] == Intent(send_email, (3,))
        assert buffered[1:3] == [Intent(send_email, (1,)), Intent(send_email, (2,))]
        with pytest.raises(IndexError):
            buffered[4]

    def test_iterating_builds_every_intent(self) -> None:
        items = [plain(1), plain(2)]
        assert [i.args for i in Buffered(items)] == [(1,), (2,)]
        assert all(type(i) is Intent for i in items)
        assert list(reversed(Buffered(items))) == items[::-1]
