"""The ``AIRLOCK`` Django setting: reading, validating, applying.

::

    AIRLOCK = {
        "POLICY": "airlock.AllowAll",   # dotted path, class, instance or factory
        "EXECUTOR": "celery",           # executor name, dotted path or callable; None: the core's default
        "SCOPE": "airlock.integrations.django.DjangoScope",  # dotted path or class
        "SCOPE_KWARGS": {"using": "default"},                # extra arguments for SCOPE
        "OPTIONS": {"fail_fast": True},  # options of airlock-core and installed plugins
    }

Every key is optional. :func:`configure_from_settings` (run by the app at
start-up) checks everything and raises ``ImproperlyConfigured`` naming the
bad key or value, the valid ones, and the closest match.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

import airlock
from airlock import AirlockError, Executor, Policy, Scope

__all__ = ["DEFAULTS", "get_setting", "get_policy", "get_executor", "get_scope_class", "configure_from_settings"]

#: Every key ``settings.AIRLOCK`` accepts, with its default.
DEFAULTS: dict[str, Any] = {
    "POLICY": "airlock.AllowAll",
    "EXECUTOR": None,
    "SCOPE": "airlock.integrations.django.DjangoScope",
    "SCOPE_KWARGS": {},
    "OPTIONS": {},
}

#: The parameters of ``airlock.configure()`` besides its options, each with the
#: key that sets it: ``OPTIONS`` holding one would pass it twice.
_CONFIGURE_PARAMETERS: dict[str, str] = {
    "policy": "POLICY",
    "executor": "EXECUTOR",
    "scope_cls": "SCOPE",
    "scope_kwargs": "SCOPE_KWARGS",
}


def _user_settings() -> Mapping[str, Any]:
    value = getattr(settings, "AIRLOCK", None)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ImproperlyConfigured(f"settings.AIRLOCK must be a dict, got {type(value).__name__}: {value!r}.")
    return value


def _suggest(name: str, choices: list[str]) -> str:
    """`` Did you mean 'X'?`` for the closest choice (case-insensitive), or ''."""
    by_upper = {c.upper(): c for c in choices}
    found = difflib.get_close_matches(name.upper(), list(by_upper), n=1, cutoff=0.6)
    return f" Did you mean {by_upper[found[0]]!r}?" if found else ""


def validate_settings() -> None:
    """Raise ``ImproperlyConfigured`` for a key of ``settings.AIRLOCK`` that airlock
    does not know, or an ``OPTIONS`` name that cannot be an option."""
    user_settings = _user_settings()
    if not hasattr(settings, "AIRLOCK"):
        _refuse_a_misspelt_setting_name()
    for key in user_settings:
        if key not in DEFAULTS:
            raise ImproperlyConfigured(
                f"Unknown key {key!r} in settings.AIRLOCK.{_suggest(str(key), list(DEFAULTS))} "
                f"Valid keys: {', '.join(DEFAULTS)}. Plugin options go inside AIRLOCK['OPTIONS']."
            )
    options = user_settings.get("OPTIONS")
    if isinstance(options, Mapping):  # not a dict: configure_from_settings says so
        _validate_option_names(options)
    scope_kwargs = user_settings.get("SCOPE_KWARGS")
    if isinstance(scope_kwargs, Mapping):
        _validate_scope_argument_names(scope_kwargs)


def _refuse_a_misspelt_setting_name() -> None:
    """With no ``AIRLOCK`` setting, a dict setting named nearly so (``AIRLOK``,
    within two typing mistakes; not ``AIRLOCK_...``) is a typo that would
    leave every default in force (the ``sync`` executor runs tasks in the
    request): an ``ImproperlyConfigured`` names it."""
    found = [
        name
        for name in dir(settings)
        if name.isupper()
        and not name.startswith("AIRLOCK_")  # AIRLOCK_DB: another setting of the project
        and _edits("AIRLOCK", name) <= 2
        and isinstance(getattr(settings, name, None), Mapping)  # what AIRLOCK holds
    ]
    if found:
        raise ImproperlyConfigured(
            f"settings.{found[0]} looks like a misspelt settings.AIRLOCK, and there is no AIRLOCK setting: "
            "airlock would run with every default (the sync executor calls tasks inside the request). "
            "Rename it to AIRLOCK."
        )


def _edits(a: str, b: str) -> int:
    """How many single-character insertions, deletions or substitutions turn ``a`` into ``b``."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def _validate_option_names(options: Mapping[Any, Any]) -> None:
    """Refuse the names ``airlock.configure(**options)`` would fail on with a
    ``TypeError`` (not a string; one of its own parameters), pointing to the
    key that sets such a parameter. Whether a name is a known option,
    ``airlock.configure()`` checks."""
    for name in options:
        if not isinstance(name, str):
            raise ImproperlyConfigured(f"settings.AIRLOCK['OPTIONS'] has the key {name!r}: option names are strings.")
        if name in _CONFIGURE_PARAMETERS:
            raise ImproperlyConfigured(
                f"{name!r} in settings.AIRLOCK['OPTIONS'] is not an option: "
                f"set it as settings.AIRLOCK[{_CONFIGURE_PARAMETERS[name]!r}]."
            )


#: The scope arguments that have their own key: in ``SCOPE_KWARGS`` one would
#: silently win over that key (``executor``) or clash with it (``policy``).
_SCOPE_ARGUMENT_KEYS = {name: _CONFIGURE_PARAMETERS[name] for name in ("executor", "policy")}


def _validate_scope_argument_names(scope_kwargs: Mapping[Any, Any]) -> None:
    """Refuse ``SCOPE_KWARGS`` naming ``executor`` or ``policy``, pointing to their own keys."""
    for name, key in _SCOPE_ARGUMENT_KEYS.items():
        if name in scope_kwargs:
            raise ImproperlyConfigured(
                f"{name!r} in settings.AIRLOCK['SCOPE_KWARGS'] would bypass settings.AIRLOCK[{key!r}]: "
                f"set it as settings.AIRLOCK[{key!r}]."
            )


def get_setting(name: str) -> Any:
    """The value of ``settings.AIRLOCK[name]``, or its default.

    Raises ``KeyError`` for a name airlock does not define.
    """
    if name not in DEFAULTS:
        raise KeyError(f"{name!r} is not an airlock setting; valid: {', '.join(DEFAULTS)}")
    return _user_settings().get(name, DEFAULTS[name])


def _import(key: str, path: str) -> Any:
    try:
        return import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"settings.AIRLOCK[{key!r}] = {path!r} cannot be imported: {exc}") from exc


def get_policy() -> Policy:
    """The policy ``AIRLOCK["POLICY"]`` names.

    A dotted path is imported first. A class is instantiated, a policy
    instance (with ``allows`` and ``on_enqueue``) is used as it is, any other
    callable is called to build one; None means ``AllowAll()``.
    """
    value = get_setting("POLICY")
    if value is None:
        return airlock.AllowAll()
    if isinstance(value, str):
        value = _import("POLICY", value)
    if not isinstance(value, type) and hasattr(value, "allows") and hasattr(value, "on_enqueue"):
        return value
    if callable(value):
        value = value()
    if not (hasattr(value, "allows") and hasattr(value, "on_enqueue")):
        raise ImproperlyConfigured(
            f"settings.AIRLOCK['POLICY'] must give a policy (an object with allows() and on_enqueue()), got {value!r}."
        )
    return value


def get_executor() -> Executor:
    """The executor ``AIRLOCK["EXECUTOR"]`` selects.

    A callable is itself; a string with a dot is a dotted import path
    (``"myapp.executors.custom"``); any other string is an installed
    executor's name (``"celery"``, ``"threads"``). None means the core's
    default: ``AIRLOCK_EXECUTOR`` from the environment, else ``sync``.
    """
    value = get_setting("EXECUTOR")
    if value is None:
        value = os.environ.get("AIRLOCK_EXECUTOR") or "sync"
    if isinstance(value, str) and "." in value:
        value = _import("EXECUTOR", value)
    try:
        return airlock.resolve_executor(value)
    except (AirlockError, TypeError) as exc:
        raise ImproperlyConfigured(f"settings.AIRLOCK['EXECUTOR']: {exc}") from exc


def get_scope_class() -> type[Scope]:
    """The scope class ``AIRLOCK["SCOPE"]`` names (default ``DjangoScope``)."""
    value = get_setting("SCOPE")
    if isinstance(value, str):
        value = _import("SCOPE", value)
    if not (isinstance(value, type) and issubclass(value, Scope)):
        raise ImproperlyConfigured(f"settings.AIRLOCK['SCOPE'] must be a subclass of airlock.Scope, got {value!r}.")
    return value


def _mapping(key: str) -> dict[str, Any]:
    value = get_setting(key)
    if not isinstance(value, Mapping):
        raise ImproperlyConfigured(f"settings.AIRLOCK[{key!r}] must be a dict, got {type(value).__name__}.")
    return dict(value)


def configure_from_settings() -> None:
    """Check ``settings.AIRLOCK`` and pass it to ``airlock.configure()``.

    Called by the app's ``ready()``. Raises ``ImproperlyConfigured`` for an
    unknown key, an unknown executor name, an unimportable path, an unknown
    or invalid option (``OPTIONS`` naming ``executor``, say, which has its
    own key), or scope arguments the scope class rejects.
    """
    validate_settings()
    policy = get_policy()
    executor = get_executor() if get_setting("EXECUTOR") is not None else None
    scope_cls = get_scope_class()
    scope_kwargs = _mapping("SCOPE_KWARGS")
    options = _mapping("OPTIONS")
    try:  # a trial scope: wrong SCOPE_KWARGS fail now, not at the first request
        trial_kwargs = {"executor": executor, **scope_kwargs} if executor is not None else scope_kwargs
        scope_cls(policy=policy, **trial_kwargs)
    except (AirlockError, TypeError) as exc:
        raise ImproperlyConfigured(
            f"settings.AIRLOCK['SCOPE_KWARGS'] = {scope_kwargs!r} is not accepted by {scope_cls.__name__}: {exc}"
        ) from exc
    try:
        airlock.configure(scope_cls=scope_cls, policy=policy, executor=executor, scope_kwargs=scope_kwargs, **options)
    except AirlockError as exc:
        raise ImproperlyConfigured(f"settings.AIRLOCK['OPTIONS']: {exc}") from exc
