"""airlock-coalesce: merging within a flush, the report, options, inertness."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import pytest
from airlock_coalesce import coalesce, group, merge_counts

import airlock
from airlock.executors.threads import ThreadsExecutor


def notify(*args: Any, **kwargs: Any) -> None:
    """A task; the tests look at what was dispatched, not at what it does."""


class Recorder:
    """An executor that records the intents it receives."""

    def __init__(self) -> None:
        self.seen: list[airlock.Intent] = []

    def __call__(self, intent: airlock.Intent) -> None:
        self.seen.append(intent)


def test_a_bulk_loop_dispatches_one_intent_per_distinct_key() -> None:
    recorder = Recorder()
    with airlock.scope(executor=recorder, coalesce=True) as scope:
        for n in range(1000):
            airlock.enqueue(notify, n % 10, kind="order")
    assert [i.args for i in recorder.seen] == [(n,) for n in range(10)]
    counts = merge_counts(scope.report)
    assert [(into.args, n) for into, n in counts] == [((k,), 99) for k in range(10)]
    assert scope.report.summary() == "flushed: 10 dispatched, 990 merged"


def test_keep_last_keeps_each_groups_last_intent_at_its_place() -> None:
    recorder = Recorder()
    with airlock.scope(executor=recorder, coalesce=True, coalesce_keep="last") as scope:
        airlock.enqueue(notify, "a", _origin="1")
        airlock.enqueue(notify, "b", _origin="2")
        airlock.enqueue(notify, "a", _origin="3")
    assert [(i.args, i.origin) for i in recorder.seen] == [(("b",), "2"), (("a",), "3")]
    [(merged, into)] = scope.report.merged
    assert (merged.origin, into.origin) == ("1", "3")


def test_different_tasks_arguments_or_dispatch_options_never_merge() -> None:
    recorder = Recorder()
    with airlock.scope(executor=recorder, coalesce=True):
        airlock.enqueue(notify, 1)
        airlock.enqueue(print, 1)
        airlock.enqueue(notify, 2)
        airlock.enqueue(notify, 1, x=1)
        airlock.enqueue(notify, 1, _dispatch_options={"queue": "slow"})
        airlock.enqueue(notify, 1, x=1)  # merged: keyword order and all equal
    assert len(recorder.seen) == 5


def test_keyword_order_does_not_matter() -> None:
    recorder = Recorder()
    with airlock.scope(executor=recorder, coalesce=True):
        airlock.enqueue(notify, a=1, b=2)
        airlock.enqueue(notify, b=2, a=1)
    assert len(recorder.seen) == 1


def test_unhashable_arguments_merge_when_equal_and_only_then() -> None:
    recorder = Recorder()
    lock = threading.Lock()  # neither hashable in a list nor picklable
    with airlock.scope(executor=recorder, coalesce=True) as scope:
        airlock.enqueue(notify, [1, 2], {"a": [3]})
        airlock.enqueue(notify, [1, 2], {"a": [3]})
        airlock.enqueue(notify, [1, 2], {"a": [4]})
        airlock.enqueue(notify, [lock])
        airlock.enqueue(notify, [lock])
        airlock.enqueue(notify, [threading.Lock()])
    assert [i.args for i in recorder.seen[:3]] == [([1, 2], {"a": [3]}), ([1, 2], {"a": [4]}), ([lock],)]
    assert len(recorder.seen) == 4 and recorder.seen[3].args[0][0] is not lock  # another Lock: not equal
    assert len(scope.report.merged) == 2


def test_an_argument_whose_comparison_raises_is_never_merged() -> None:
    class Ambiguous:
        __hash__ = None  # type: ignore[assignment]

        def __eq__(self, other: object) -> bool:
            raise ValueError("truth value is ambiguous")

    recorder = Recorder()
    with airlock.scope(executor=recorder, coalesce=True):
        airlock.enqueue(notify, Ambiguous())
        airlock.enqueue(notify, Ambiguous())
    assert len(recorder.seen) == 2


def test_a_key_function_and_a_per_task_key() -> None:
    recorder = Recorder()
    by_first_arg = {"notify": lambda intent: intent.args[0]}
    with airlock.scope(executor=recorder, coalesce=True, coalesce_key=by_first_arg):
        airlock.enqueue(notify, 1, "first version")
        airlock.enqueue(notify, 1, "second version")
        airlock.enqueue(print, 1, "x")
        airlock.enqueue(print, 1, "y")  # print uses the default key: different arguments
    assert [i.args for i in recorder.seen] == [(1, "first version"), (1, "x"), (1, "y")]
    recorder.seen.clear()
    with airlock.scope(executor=recorder, coalesce=True, coalesce_key=lambda intent: len(intent.args)):
        airlock.enqueue(notify, 1)
        airlock.enqueue(notify, 2)
        airlock.enqueue(print, 3)  # same key value, other task: kept
    assert [i.args for i in recorder.seen] == [(1,), (3,)]


def test_per_intent_opt_in_and_opt_out() -> None:
    recorder = Recorder()
    on, off = {"coalesce": True}, {"coalesce": False}
    with airlock.scope(executor=recorder):
        airlock.enqueue(notify, 1, _dispatch_options=on)
        airlock.enqueue(notify, 1, _dispatch_options=on)
        airlock.enqueue(notify, 1)
    assert len(recorder.seen) == 2
    assert all(i.dispatch_options is None for i in recorder.seen)  # `coalesce` is consumed
    recorder.seen.clear()
    with airlock.scope(executor=recorder, coalesce=True):
        airlock.enqueue(notify, 2, _dispatch_options=off)
        airlock.enqueue(notify, 2, _dispatch_options=off)
        airlock.enqueue(notify, 2)
        airlock.enqueue(notify, 2)
    assert len(recorder.seen) == 3
    recorder.seen.clear()
    with airlock.scope(executor=recorder, coalesce=True):
        airlock.enqueue(notify, 3, _dispatch_options=on)
        airlock.enqueue(notify, 3)  # the `coalesce` option is not part of the key
    assert len(recorder.seen) == 1


def test_global_configuration_enables_it_with_a_real_threads_executor() -> None:
    done: list[int] = []
    executor = ThreadsExecutor(max_workers=2)
    airlock.configure(coalesce=True)
    try:
        with airlock.scope(executor=executor) as scope:
            for n in range(200):
                airlock.enqueue(done.append, n % 4)
    finally:
        executor.shutdown(wait=True)
    assert sorted(done) == [0, 1, 2, 3]
    assert len(scope.report.merged) == 196


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"coalesce": "yes"}, r"'coalesce'.*True or False"),
        ({"coalesce_keep": "latest"}, r"'coalesce_keep'.*'first', 'last'"),
        ({"coalesce_key": "order_id"}, r"'coalesce_key'.*None \(task and arguments\), a function"),
        ({"coalesce_key": {"notify": 1}}, r"'coalesce_key'.*mapping \{task name: function"),
    ],
)
def test_bad_values_fail_where_they_are_set(options: dict[str, Any], message: str) -> None:
    with pytest.raises(airlock.UsageError, match=message):
        airlock.configure(**options)
    with pytest.raises(airlock.UsageError, match=message):
        airlock.scope(**options)


def test_scope_only_options_are_refused_per_intent_and_typos_get_a_suggestion() -> None:
    with pytest.raises(airlock.UnknownOptionError, match="Did you mean 'coalesce'"):
        airlock.scope(coalesec=True)
    with pytest.raises(airlock.UsageError, match=r"'coalesce'.*True or False"), airlock.scope():
        airlock.enqueue(notify, _dispatch_options={"coalesce": "yes"})


def test_plugins_command_lists_the_plugin_and_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    from airlock.cli import main

    main(["plugins"])
    out = capsys.readouterr().out
    assert "airlock-coalesce" in out
    for line in ("option coalesce = False", "option coalesce_keep = 'first'", "option coalesce_key = None"):
        assert line in out


def _run_without_enabling() -> tuple[list[Any], str]:
    recorder = Recorder()
    with airlock.scope(executor=recorder) as scope:
        for n in (1, 1, 2, 1):
            airlock.enqueue(notify, n, _dispatch_options={"queue": "q"} if n == 2 else None)
    return [(i.args, i.dispatch_options) for i in recorder.seen], scope.report.summary()


def test_installed_but_not_enabled_changes_nothing(request: pytest.FixtureRequest) -> None:
    installed = _run_without_enabling()
    request.getfixturevalue("without_plugin")
    assert "coalesce" not in {info.name for info in airlock.plugins.plugin_infos()}
    assert _run_without_enabling() == installed
    assert installed == ([((1,), None), ((1,), None), ((2,), {"queue": "q"}), ((1,), None)], "flushed: 4 dispatched")


def test_the_function_rejects_an_unknown_keep() -> None:
    with pytest.raises(ValueError, match="'first' or 'last'"):
        coalesce([], keep="middle")


def test_the_bulk_path_keeps_tasks_apart_and_falls_back_for_unhashable_arguments() -> None:
    def other(*args: Any) -> None:
        """A second task with the same arguments."""

    intents = [airlock.Intent(task, (n % 2,)) for n in range(6) for task in (notify, other)]
    kept = coalesce(intents)
    assert [(i.task, i.args) for i in kept] == [(notify, (0,)), (other, (0,)), (notify, (1,)), (other, (1,))]
    mixed = [airlock.Intent(notify, (1,)), airlock.Intent(notify, ([1],)), airlock.Intent(notify, ([1],))]
    merged: list[tuple[airlock.Intent, airlock.Intent]] = []
    assert coalesce(mixed, on_merge=merged.extend) == mixed[:2]
    assert merged == [(mixed[2], mixed[1])] and merged[0][1] is mixed[1]


def test_group_gives_positions_kept_and_where_each_merged() -> None:
    intents = [airlock.Intent(notify, (n,)) for n in (1, 2, 1, 3, 2)]
    assert group(intents) == ([0, 1, 3], [0, 1, 0, 3, 1])
    assert group(intents, keep="last") == ([2, 3, 4], [2, 4, 2, 3, 4])
    only_ones = group(intents, enabled=lambda intent: intent.args == (1,))
    assert only_ones == ([0, 1, 3, 4], [0, 1, 0, 3, 4])
    unhashable = [airlock.Intent(notify, ([n],)) for n in (1, 1, 2)]
    assert group(unhashable) == ([0, 2], [0, 0, 2])
    with pytest.raises(ValueError, match="'first' or 'last'"):
        group(intents, keep="middle")


def test_the_report_pairs_the_scopes_own_intents() -> None:
    recorder = Recorder()
    with airlock.scope(executor=recorder, coalesce=True, coalesce_keep="last") as scope:
        for n in range(6):
            airlock.enqueue(notify, n % 2)
    position = {id(intent): p for p, intent in enumerate(scope.intents)}
    assert [position[id(i)] for i in recorder.seen] == [4, 5]
    pairs = [(position[id(i)], position[id(into)]) for i, into in scope.report.merged]
    assert pairs == [(0, 4), (1, 5), (2, 4), (3, 5)]
    assert [position[id(i)] for i in scope.report.dispatched] == [4, 5]


def test_the_flush_builds_an_intent_for_each_kept_one_only() -> None:
    from airlock.dispatch import run_before_flush

    scope = airlock.scope(executor=Recorder(), coalesce=True)
    report = scope._report = airlock.FlushReport(scope, "flushed")  # as a flush sets it up
    items = [(notify, (n % 3,), {}, None, None) for n in range(30)]  # as enqueue() buffers them
    kept = run_before_flush(scope, items, report)
    assert [i.args for i in kept] == [(0,), (1,), (2,)]
    assert [p for p, item in enumerate(items) if type(item) is airlock.Intent] == [0, 1, 2]
    assert report.summary() == "flushed: 27 merged"
    assert [type(item) for item in items] == [airlock.Intent] * 30  # reading the merges built the rest


def test_keyword_arguments_decide_when_arguments_are_equal() -> None:
    class Ambiguous:
        __hash__ = None  # type: ignore[assignment]

        def __eq__(self, other: object) -> bool:
            raise ValueError("truth value is ambiguous")

    intents = [
        airlock.Intent(notify, (1,), {"ids": [1, 2], "kind": "a"}),
        airlock.Intent(notify, (1,), {"kind": "a", "ids": [1, 2]}),  # equal: merged
        airlock.Intent(notify, (1,), {"ids": [1, 2], "kind": "b"}),
        airlock.Intent(notify, (1,), {"x": Ambiguous()}),
        airlock.Intent(notify, (1,), {"x": Ambiguous()}),  # cannot be compared: kept
        airlock.Intent(notify, (1,), {"ids": [1, 2], "kind": "b"}),  # merged
    ]
    assert group(intents) == ([0, 2, 3, 4], [0, 0, 2, 3, 4, 2])
    assert group(intents, keep="last") == ([1, 3, 4, 5], [1, 1, 5, 3, 4, 5])


def test_equal_unhashable_arguments_merge_whichever_path_the_flush_takes() -> None:
    """Sameness is ``==`` for the bulk path and the key path alike: an unrelated
    intent with a dispatch option (which sends the flush down the key path)
    changes nothing."""
    for unrelated in ([], [airlock.Intent(print, ("unrelated",), dispatch_options={"queue": "q"})]):
        intents = [
            airlock.Intent(notify, (1,), {"ids": [1, 2]}),
            airlock.Intent(notify, (1,), {"ids": [1.0, 2]}),
            airlock.Intent(notify, ({"a": 1, "b": 2},)),
            airlock.Intent(notify, ({"b": 2, "a": 1},)),
            *unrelated,
        ]
        assert coalesce(intents) == [intents[0], intents[2], *unrelated]


class Compared:
    """A hashable argument that counts how often it is compared with ``==``."""

    comparisons = 0

    def __init__(self, n: int) -> None:
        self.n = n

    def __hash__(self) -> int:
        return hash(self.n)

    def __eq__(self, other: object) -> bool:
        Compared.comparisons += 1
        return isinstance(other, Compared) and other.n == self.n


@dataclass
class Item:
    """Unhashable (a dataclass with eq=True), picklable (defined at module level)."""

    id: object


class UnpicklableTask:
    """A task object like a Huey task or Dramatiq actor: it holds a lock, so it cannot be pickled."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def __call__(self, *args: Any) -> None:
        """Does nothing."""


def test_unhashable_arguments_of_an_unpicklable_task_are_not_compared_pairwise() -> None:
    """Dict arguments of a task that cannot be pickled: each key is compared with
    the keys equal to it, not with every key before it (which was quadratic)."""
    task = UnpicklableTask()
    intents = [airlock.Intent(task, ({"id": Compared(n)},)) for n in range(400) for _ in range(2)]
    Compared.comparisons = 0
    kept = coalesce(intents)
    assert kept == intents[::2]
    assert Compared.comparisons < 2 * len(intents), Compared.comparisons


def test_a_per_task_key_also_matches_the_task_s_registered_name() -> None:
    class RegisteredTask:
        """Like a Celery task: its ``name`` is the dotted registered name."""

        name = "shop.tasks.reindex"

        def __call__(self, *args: Any) -> None:
            """Does nothing."""

    reindex = RegisteredTask()
    recorder = Recorder()
    for spec in ({"shop.tasks.reindex": lambda intent: intent.args[0]}, {"reindex": lambda intent: intent.args[0]}):
        recorder.seen.clear()
        with airlock.scope(executor=recorder, coalesce=True, coalesce_keep="last", coalesce_key=spec):
            for product, payload in [(1, "v1"), (2, "v1"), (1, "v2")]:
                airlock.enqueue(reindex, product, payload)
        assert [i.args for i in recorder.seen] == [(2, "v1"), (1, "v2")], spec


def test_a_per_task_key_matches_a_dramatiq_actor_by_its_actor_name() -> None:
    class ActorLike:
        """Like a Dramatiq actor: no ``name`` and no ``__name__``, an ``actor_name`` and its ``fn``."""

        actor_name = "reindex"

        def fn(self, *args: Any) -> None:
            """Does nothing."""

        def __call__(self, *args: Any) -> None:
            """Does nothing."""

    reindex, recorder = ActorLike(), Recorder()
    with airlock.scope(executor=recorder, coalesce=True, coalesce_key={"reindex": lambda intent: intent.args[0]}):
        for product, payload in [(1, "v1"), (2, "v1"), (1, "v2")]:
            airlock.enqueue(reindex, product, payload)
    assert [i.args for i in recorder.seen] == [(1, "v1"), (2, "v1")]


def test_other_unhashable_arguments_are_filed_by_their_pickle_and_a_cycle_is_survived() -> None:
    """Dataclasses (unhashable with eq=True) are not compared pairwise; a
    value that holds itself does not break the flush."""
    Compared.comparisons = 0
    intents = [airlock.Intent(notify, (Item(Compared(n)),)) for n in range(300) for _ in range(2)]
    assert coalesce(intents) == intents[::2]
    assert Compared.comparisons < 2 * len(intents), Compared.comparisons

    node: dict[str, Any] = {"name": "root"}
    node["children"] = [node]
    looped = [airlock.Intent(notify, (node,)), airlock.Intent(notify, (node,))]
    assert coalesce(looped) == looped[:1]
