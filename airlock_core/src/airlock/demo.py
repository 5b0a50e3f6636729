"""``airlock demo``: a short guided run on the built-in executors, no broker needed."""

from __future__ import annotations

import threading
import time

import airlock

_lock = threading.Lock()


def send_email(user_id: int, template: str = "welcome") -> None:
    """A stand-in side effect that prints which thread ran it."""
    with _lock:
        print(f"      -> send_email({user_id}, template={template!r}) ran on {threading.current_thread().name}")


def charge_card(order_id: int) -> None:
    """Another stand-in side effect."""
    with _lock:
        print(f"      -> charge_card({order_id}) ran on {threading.current_thread().name}")


def audit(event: str) -> None:
    """A third one, to show a policy dropping it."""
    with _lock:
        print(f"      -> audit({event!r})")


def _step(title: str) -> None:
    print(f"\n== {title}")


def _show(report: airlock.FlushReport | None) -> None:
    if report is None:
        return
    print(f"   report: {report.summary()}")
    for fate in report.fates():
        detail = f" ({fate.detail!r})" if fate.detail is not None else ""
        print(f"     {fate.status:<13} {fate.intent}{detail}")


def run() -> None:
    """Run every step of the demo, printing what happens.

    The steps name their executor (``sync``, except step 5), so what they
    print holds whatever ``AIRLOCK_EXECUTOR`` or ``configure()`` says.
    """
    print("airlock demo: side effects wait in a scope until its boundary decides.")

    _step("1. Intents wait in the scope until it ends")
    with airlock.scope(executor="sync") as s:
        airlock.enqueue(send_email, 1)
        airlock.enqueue(charge_card, 42)
        print(f"   inside the scope, buffered: {[str(i) for i in s.intents]}  (nothing ran yet)")
    print("   scope ended without error, so it flushed:")
    _show(s.report)

    _step("2. An error discards everything the scope buffered")
    try:
        with airlock.scope(executor="sync") as s:
            airlock.enqueue(send_email, 2)
            raise RuntimeError("the request failed")
    except RuntimeError as exc:
        print(f"   caught {exc!r}; send_email(2) never ran")
    _show(s.report)

    _step("3. A policy drops some intents (BlockTasks({'audit'}))")
    with airlock.scope(policy=airlock.BlockTasks({"audit"}), executor="sync") as s:
        airlock.enqueue(audit, "login")
        airlock.enqueue(send_email, 3)
    _show(s.report)

    _step("4. A nested scope is captured by its outer scope")
    with airlock.scope(executor="sync") as outer:
        with airlock.scope() as inner:
            airlock.enqueue(send_email, 4, template="nested")
        print(f"   inner scope ended; outer now holds {[str(i) for i in outer.captured_intents]}")
        _show(inner.report)
    print("   outer scope ended and dispatched what it captured:")
    _show(outer.report)

    _step("5. The 'threads' executor, chosen by name, runs work on a pool")
    with airlock.scope(executor="threads") as s:
        for user_id in (5, 6, 7):
            airlock.enqueue(send_email, user_id)
    deadline = time.monotonic() + 5
    while not s.report.complete and time.monotonic() < deadline:  # type: ignore[union-attr]
        time.sleep(0.01)
    _show(s.report)

    _step("6. A failing executor stops the flush and says what happened to the rest")

    def broken(user_id: int) -> None:
        raise ConnectionError("broker unreachable")

    try:
        with airlock.scope(executor="sync") as s:
            airlock.enqueue(send_email, 8)
            airlock.enqueue(broken, 9)
            airlock.enqueue(send_email, 10)
    except ConnectionError as exc:
        print(f"   caught {exc!r}, the executor's own exception, carrying the report:")
        _show(exc.airlock_report)  # type: ignore[attr-defined]

    print("\nNext: `airlock plugins` lists executors and plugins; see README.md for the docs.")
