"""Global defaults for scopes: ``configure()``, ``reset_configuration()``, ``get_configuration()``."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .executors import ExecutorSpec
    from .policies import Policy
    from .scope import Scope

__all__ = ["configure", "reset_configuration", "get_configuration"]

#: Always holds the same five keys, so a reader in another thread never misses one.
_config: dict[str, Any] = {}
#: The resolved default executor (configure() > AIRLOCK_EXECUTOR > sync), cached
#: in one slot (None: resolve again), so a reader never indexes an emptied list.
_default: list[Any] = [None]
#: What ``airlock.scope()`` with no arguments makes: [None] while nothing but
#: options was configured (a plain ``Scope``), else the configured class bound
#: to the configured policy and arguments, so scope() merges them only once.
#: One slot, replaced in one step, so a scope made meanwhile sees the old or the new.
_configured_scope: list[Callable[[], Scope] | None] = [None]


def reset_configuration() -> None:
    """Forget everything ``configure()`` set (tests call this between tests).

    ``AIRLOCK_EXECUTOR`` is read again at the next scope.
    """
    _config.update(scope_cls=None, policy=None, executor=None, scope_kwargs={}, options={})
    _default[0] = None
    _configured_scope[0] = None


reset_configuration()


def configure(
    *,
    scope_cls: type[Scope] | None = None,
    policy: Policy | None = None,
    executor: ExecutorSpec | None = None,
    scope_kwargs: dict[str, Any] | None = None,
    **options: Any,
) -> None:
    """Set application-wide defaults for ``airlock.scope()`` and ``@airlock.scoped()``.

    Call once at start-up; explicit arguments to ``scope()`` win. Arguments
    left as None keep their current value. Values are taken as they are at
    the call: changing the ``scope_kwargs`` dict afterwards changes nothing.

    :param scope_cls: the Scope class (e.g. ``DjangoScope``).
    :param policy: the default policy.
    :param executor: an executor callable or an installed executor's name
        (``"celery"``); a name is checked now, so a typo fails at start-up.
    :param scope_kwargs: extra keyword arguments for the scope class: its
        parameters, or options. Checked against the scope class configured in
        this call or before, so give a class's own arguments with or after it.
    :param options: options declared by the core or installed plugins
        (``fail_fast=False``); unknown names raise ``UnknownOptionError``.
    """
    if executor is not None:
        from .executors import resolve_executor

        resolve_executor(executor)  # fail now on a typo, not at the first flush
    if options:
        from ._state import load_hooks

        options = load_hooks().options.validate(options, "airlock.configure()", "global", _CONFIGURE_PARAMETERS)
    _check_arguments(scope_cls, policy, scope_kwargs)
    if scope_cls is not None:
        _config["scope_cls"] = scope_cls
    if policy is not None:
        _config["policy"] = policy
    if executor is not None:
        _config["executor"] = executor
        _default[0] = None
    if scope_kwargs is not None:
        _config["scope_kwargs"] = dict(scope_kwargs)  # as it is now: later changes to the caller's dict do not count
    if options:
        _config["options"] = {**_config["options"], **options}
    _configured_scope[0] = _bind_configured_scope()


#: configure()'s own parameters, suggested when an option name is close to one.
_CONFIGURE_PARAMETERS = ("executor", "policy", "scope_cls", "scope_kwargs")


def _check_arguments(scope_cls: Any, policy: Any, scope_kwargs: Any) -> None:
    """Refuse at configure() what would make every later scope() fail."""
    from .policies import check_policy
    from .scope import Scope

    if scope_cls is not None and not (isinstance(scope_cls, type) and issubclass(scope_cls, Scope)):
        raise TypeError(f"airlock.configure(scope_cls=...) needs a subclass of airlock.Scope, got {scope_cls!r}.")
    if policy is not None:
        check_policy(policy, "airlock.configure(policy=...)")
    if scope_kwargs is not None and not isinstance(scope_kwargs, dict):
        raise TypeError(f"airlock.configure(scope_kwargs=...) needs a dict, got {type(scope_kwargs).__name__}.")
    # The scope arguments as they will be, for the class as it will be: either may change alone.
    kwargs = scope_kwargs if scope_kwargs is not None else _config["scope_kwargs"]
    if kwargs and (scope_kwargs is not None or scope_cls is not None):
        cls = scope_cls or _config["scope_cls"] or Scope
        where = "airlock.configure(scope_kwargs=...)"
        if scope_kwargs is None:
            where = f"airlock.configure(scope_cls={cls.__name__}) with the scope_kwargs configured before"
        _check_scope_kwargs(kwargs, cls, where)


def _check_scope_kwargs(kwargs: dict[str, Any], cls: type[Scope], where: str) -> None:
    """``kwargs`` must suit ``cls(policy=..., **kwargs)``: its parameters or declared options."""
    from ._state import load_hooks
    from .executors import resolve_executor

    if "policy" in kwargs:
        raise TypeError(f"{where}: 'policy' cannot be a scope argument here; give it as airlock.configure(policy=...).")
    if "executor" in kwargs:
        resolve_executor(kwargs["executor"])  # fail now on a typo, not at every scope()
    named = scope_parameter_names(cls)
    options = {name: value for name, value in kwargs.items() if name not in named}
    if options:  # the rest are options: declared ones only, with valid values
        suggested = tuple(sorted(named - {"policy"}))  # not 'policy': refused above
        load_hooks().options.validate(options, where, "scope", suggested)


def scope_parameter_names(cls: type[Scope]) -> set[str]:
    """The keyword parameters of ``cls``'s constructor, following ``**kwargs``
    passed on to the base classes' (the base ``Scope`` takes options there)."""
    from inspect import Parameter, signature

    from .scope import Scope

    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        parameters = signature(init).parameters.values()
        names.update(p.name for p in parameters if p.kind in (Parameter.POSITIONAL_OR_KEYWORD, Parameter.KEYWORD_ONLY))
        if klass is Scope or not any(p.kind is Parameter.VAR_KEYWORD for p in parameters):
            break
    return names


def _bind_configured_scope() -> Callable[[], Scope] | None:
    """The configured scope class with the configured policy and arguments
    bound; None when nothing but options is configured."""
    if not any(_config[k] for k in ("scope_cls", "policy", "executor", "scope_kwargs")):
        return None
    from .scope import _ALLOW_ALL, Scope

    cls = _config["scope_cls"] or Scope
    policy = _config["policy"] or _ALLOW_ALL
    kwargs = dict(_config["scope_kwargs"])
    if "executor" not in kwargs and _config["executor"] is not None:
        kwargs["executor"] = _config["executor"]
    return partial(cls, policy=policy, **kwargs)


def get_configuration() -> dict[str, Any]:
    """A copy of the current configuration (``scope_cls``, ``policy``, ``executor``,
    ``scope_kwargs``, ``options``)."""
    return {**_config, "scope_kwargs": dict(_config["scope_kwargs"]), "options": dict(_config["options"])}


def default_executor() -> Any:
    """The executor used when none is given: configure() > ``AIRLOCK_EXECUTOR`` > ``sync``."""
    executor = _default[0]
    if executor is not None:
        return executor
    from .executors import resolve_executor
    from .executors.sync import sync_executor

    configured = _config["executor"]
    spec = configured or os.environ.get("AIRLOCK_EXECUTOR") or None
    try:
        executor = sync_executor if spec is None else resolve_executor(spec)
    except Exception as error:
        if configured is None:
            from .errors import add_note

            add_note(error, f"The executor name comes from the environment: AIRLOCK_EXECUTOR={spec!r}.")
        raise
    _default[0] = executor
    return executor
