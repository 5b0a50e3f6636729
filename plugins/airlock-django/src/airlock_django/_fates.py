"""Which transaction state each buffered intent of a ``DjangoScope`` was enqueued in.

An intent enqueued inside ``transaction.atomic()`` must not escape if that
transaction, or a savepoint open when it was enqueued, rolls back. Django
tells nobody about rollbacks, but it drops the ``on_commit`` callbacks
registered inside them: a :class:`Witness` is such a callback that only
records that it ran. Intents enqueued one after another in the same
savepoints share one witness, so a loop of enqueues inside one ``atomic()``
registers one callback, not one per intent.

:class:`Fates` records, per scope, where in the buffer the state changes
(a *mark*: buffer position and witness, None for "no transaction"), so the
enqueue fast path can keep appending plain tuples; intents captured from
nested scopes get an entry of their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["Fates", "Witness"]


class Witness:
    """An ``on_commit`` callback that records that its transaction committed.

    Registered on ``connection`` when made; remembers the savepoints open then.
    """

    __slots__ = ("committed", "savepoints", "connection")

    def __init__(self, connection: Any) -> None:
        self.committed = False
        #: The savepoints open when registered (``connection.savepoint_ids``).
        self.savepoints = list(connection.savepoint_ids)
        self.connection = connection
        connection.on_commit(self)

    def __call__(self) -> None:
        self.committed = True

    def pending(self) -> bool:
        """True while its transaction is still open: neither run nor dropped by Django yet."""
        connection = self.connection
        return (
            not self.committed
            and connection.in_atomic_block
            and any(entry[1] is self for entry in connection.run_on_commit)
        )

    def covers_now(self, connection: Any) -> bool:
        """True if an intent enqueued now shares this witness's fate: it is the
        newest ``on_commit`` callback and the same savepoints are open."""
        pending = connection.run_on_commit
        return bool(pending) and pending[-1][1] is self and connection.savepoint_ids == self.savepoints


class Fates:
    """The witnesses of one scope's buffer."""

    __slots__ = ("_marks", "_captured", "_newest")

    def __init__(self) -> None:
        # (buffer position, witness or None) wherever the state changes; before
        # the first mark, no transaction was open.
        self._marks: list[tuple[int, Witness | None]] = []
        # id(intent) -> (intent, witness) for intents captured from nested
        # scopes; the intent is kept so its id stays unique. Wins over marks.
        self._captured: dict[int, tuple[Any, Witness | None]] = {}
        self._newest: Witness | None = None

    def witness_now(self, connection: Any) -> Witness | None:
        """The witness for an intent enqueued now (None outside a transaction)."""
        if not connection.in_atomic_block:
            return None
        newest = self._newest
        if newest is None or not newest.covers_now(connection):
            newest = self._newest = Witness(connection)
        return newest

    def note(self, connection: Any, position: int) -> Witness | None:
        """Record the state that the intent about to be buffered at ``position``
        is enqueued in; returns its witness (None outside a transaction)."""
        marks = self._marks
        marked = marks[-1][1] if marks else None
        witness = self.witness_now(connection)
        if witness is not marked:
            marks.append((position, witness))
        return witness

    def capture(self, intents: list[Any], witnesses: dict[int, Witness | None] | Witness | None) -> None:
        """Record captured ``intents``: each its own witness (a dict by id), or one for all."""
        captured = self._captured
        if isinstance(witnesses, dict):
            for intent in intents:
                captured[id(intent)] = (intent, witnesses.get(id(intent)))
        else:
            for intent in intents:
                captured[id(intent)] = (intent, witnesses)

    def all_committed(self) -> bool:
        """True if no witness was dropped: nothing buffered was rolled back.

        Only meaningful once the transactions the witnesses belong to ended.
        """
        for _, witness in self._marks:  # a loop, not all() over a generator: this runs per flush
            if witness is not None and not witness.committed:
                return False
        for _, witness in self._captured.values():
            if witness is not None and not witness.committed:
                return False
        return True

    def waiting_for(self) -> Any:
        """The connection of a witness whose transaction is still open, or None.

        A dispatch that runs before that transaction ends (a nested scope's
        intents captured from another database, a ``schedule_dispatch`` that
        does not wait) cannot tell yet whether those intents commit.
        """
        for witness in self._witnesses():
            if witness.pending():
                return witness.connection
        return None

    def count_as_committed(self, connection: Any) -> None:
        """Run the witnesses still pending on ``connection``, whose ``on_commit``
        callbacks are being run as if its transaction committed, though it is
        still open (``captureOnCommitCallbacks(execute=True)`` runs only those
        registered inside its block). Those already dropped stay rolled back."""
        for witness in self._witnesses():
            if witness.connection is connection and witness.pending():
                witness()

    def _witnesses(self) -> Iterator[Witness]:
        """Every witness of the buffer, those of captured intents included; some more than once."""
        for _, witness in self._marks:
            if witness is not None:
                yield witness
        for _, witness in self._captured.values():
            if witness is not None:
                yield witness

    def of(self, buffer: list[Any]) -> dict[int, Witness | None]:
        """Each of ``buffer``'s items' witness, by id (``buffer`` is the scope's, promoted)."""
        found: dict[int, Witness | None] = {}
        marks = self._marks
        for n, (start, witness) in enumerate(marks):
            if witness is not None:
                end = marks[n + 1][0] if n + 1 < len(marks) else len(buffer)
                for item in buffer[start:end]:
                    found[id(item)] = witness
        for key, (_, witness) in self._captured.items():
            found[key] = witness
        return found

    def rolled_back(self, buffer: list[Any]) -> set[int]:
        """The ids of ``buffer``'s items whose witness was dropped."""
        return {key for key, witness in self.of(buffer).items() if witness is not None and not witness.committed}
