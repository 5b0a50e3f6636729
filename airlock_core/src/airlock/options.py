"""Options that the core and plugins declare through ``airlock_options``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import UnknownOptionError, UsageError

__all__ = ["Option", "OptionRegistry", "one_of", "positive_int", "non_negative_number", "boolean"]

WHERE_ALL = frozenset({"intent", "scope", "global"})


@dataclass(frozen=True)
class Option:
    """One option a plugin understands.

    :param name: unique across all plugins, e.g. ``"retry_attempts"``.
    :param default: the value when nobody sets it.
    :param doc: one sentence for ``airlock plugins`` and the docs.
    :param validate: called with a value when it is set; returns the value to
        store (possibly normalised) or raises ``ValueError``/``TypeError``
        with a message naming the valid choices.
    :param where: where it may be set: any of ``"intent"``
        (``_dispatch_options``), ``"scope"`` (``airlock.scope(...)``) and
        ``"global"`` (``airlock.configure(...)``).
    :param consumed: remove it from ``dispatch_options`` before the backend
        executor sees the intent (the backend would misread it).
    :param enables: the declaring plugin does nothing unless this option is
        set away from its default somewhere (globally, on the scope, or on an
        intent). While none of a plugin's enabling options is, the core skips
        its ``airlock_before_flush`` and ``airlock_execute`` implementations,
        so an installed but unused plugin costs nothing.
    """

    name: str
    default: Any
    doc: str
    validate: Callable[[Any], Any] = field(default=lambda value: value)
    where: frozenset[str] = WHERE_ALL
    consumed: bool = True
    enables: bool = False
    plugin: str = ""

    def __post_init__(self) -> None:
        where = self.where
        if isinstance(where, str) or not isinstance(where, (set, frozenset)) or not where or not where <= WHERE_ALL:
            raise ValueError(
                f"Option({self.name!r}, where={where!r}): where must be a non-empty set of "
                f"{', '.join(repr(w) for w in sorted(WHERE_ALL))}."
            )
        object.__setattr__(self, "where", frozenset(where))

    def check(self, value: Any, where: str) -> Any:
        """The validated value, or a ``UsageError`` naming the option."""
        try:
            return self.validate(value)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"Invalid value {value!r} for airlock option {self.name!r} ({where}): {exc}") from exc


class OptionRegistry:
    """The declared options, by name, and the consumed ones."""

    def __init__(self, options: Iterable[Option] = ()) -> None:
        self.by_name: dict[str, Option] = {}
        for option in options:
            if option.name in self.by_name:
                first = self.by_name[option.name]
                raise UsageError(
                    f"airlock option {option.name!r} is declared twice: by {first.plugin!r} and by "
                    f"{option.plugin!r}. Uninstall or rename one of them."
                )
            self.by_name[option.name] = option
        #: Names removed from ``dispatch_options`` before the backend sees them.
        self.consumed = frozenset(o.name for o in self.by_name.values() if o.consumed and "intent" in o.where)

    def validate(
        self, values: Mapping[str, Any], where: str, level: str, parameters_of: type | Sequence[str] = ()
    ) -> dict[str, Any]:
        """Validated copies of ``values`` set at ``level`` ("scope" or "global").

        ``parameters_of``: the names the caller takes besides options (or the
        Scope class whose constructor's they are), so that the error for a
        misspelt one (``executer=``) suggests it.
        """
        result = {}
        for name, value in values.items():
            option = self.by_name.get(name)
            if option is None:
                known = [n for n, o in self.by_name.items() if level in o.where]
                raise UnknownOptionError(name, known, where, _names(parameters_of))
            if level not in option.where:
                raise _not_settable(name, option, level, where)
            result[name] = option.check(value, where)
        return result

    def validate_intent(self, dispatch_options: Mapping[str, Any]) -> None:
        """Check one intent's ``dispatch_options``: a mapping whose declared
        options are allowed per intent and valid (the rest go to the backend)."""
        if not isinstance(dispatch_options, Mapping):
            raise TypeError(
                f"_dispatch_options must be a dict of options (e.g. {{'queue': 'mail'}}), "
                f"got {type(dispatch_options).__name__} {dispatch_options!r}."
            )
        for name, value in dispatch_options.items():
            option = self.by_name.get(name)
            if option is None:
                continue
            if "intent" not in option.where:
                raise _not_settable(name, option, "intent", "_dispatch_options")
            option.check(value, "_dispatch_options")


def _not_settable(name: str, option: Option, level: str, where: str) -> UsageError:
    """The error for an option set at a ``level`` it does not allow: it names
    the places it may be set, and only those."""
    places = {
        "intent": "per intent (_dispatch_options)",
        "scope": f"on a scope (airlock.scope({name}=...))",
        "global": f"in configure() (airlock.configure({name}=...))",
    }
    return UsageError(
        f"airlock option {name!r} ({option.plugin or 'airlock-core'}) cannot be set {places[level]}"
        f"{'' if level == 'intent' else f' ({where})'}; it may be set "
        f"{' or '.join(places[w] for w in sorted(option.where))}."
    )


# -- validators plugins can reuse ------------------------------------------
def one_of(*choices: Any) -> Callable[[Any], Any]:
    """A validator accepting only the given values."""

    def check(value: Any) -> Any:
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(map(repr, choices))}")
        return value

    return check


def positive_int(value: Any) -> int:
    """A validator accepting integers >= 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("expected an integer >= 1")
    return value


def non_negative_number(value: Any) -> float:
    """A validator accepting int or float >= 0 (not NaN)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError("expected a number >= 0")
    return float(value)


def boolean(value: Any) -> bool:
    """A validator accepting True or False only."""
    if not isinstance(value, bool):
        raise ValueError("expected True or False")
    return value


def _names(parameters_of: type | Sequence[str]) -> tuple[str, ...]:
    """The parameter names ``parameters_of`` stands for (a Scope class: its constructor's)."""
    if isinstance(parameters_of, type):
        from .config import scope_parameter_names

        return tuple(sorted(scope_parameter_names(parameters_of)))
    return tuple(parameters_of)
