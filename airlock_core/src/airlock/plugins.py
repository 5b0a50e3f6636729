"""The plugin manager: hook plugins, loaded once on first need.

Hook plugins come from the entry-point group ``airlock`` and from
:func:`register`. ``AIRLOCK_DISABLE_PLUGIN_AUTOLOAD=1`` loads no entry-point
plugin; ``AIRLOCK_DISABLE_PLUGINS=a,b`` skips those entry-point names (hook
plugins and executors alike). Nothing here runs at ``import airlock``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from . import _state
from .errors import PluginLoadError, UsageError
from .executors import _autoload_disabled, _claims, _dist
from .options import Option, OptionRegistry

if TYPE_CHECKING:
    import pluggy

#: The pluggy project name, also the entry-point group of hook plugins.
PROJECT = "airlock"

__all__ = [
    "register",
    "unregister",
    "registered",
    "reload",
    "get_plugin_manager",
    "plugin_infos",
    "PluginInfo",
    "CORE_PLUGIN",
]

#: Name under which airlock-core registers its own hook implementations.
CORE_PLUGIN = "airlock-core"


@dataclass
class PluginInfo:
    """What ``airlock plugins`` shows for one hook plugin or executor."""

    name: str
    kind: str  # "hooks" or "executor"
    distribution: str = ""
    version: str = ""
    entry_point: str = ""
    hooks: list[str] = field(default_factory=list)
    options: list[Option] = field(default_factory=list)
    error: str = ""


class Hooks:
    """Cached callers for the hooks, rebuilt whenever plugins change.

    ``execute`` is None when only the core implements ``airlock_execute``,
    so the dispatch loop calls the executor directly. ``idle`` is the same
    without the plugins that declare enabling options (``Option.enables``),
    for flushes in which none of those options is set; ``gates`` maps those
    options to their defaults.
    """

    __slots__ = ("enqueue", "before_flush", "execute", "after_flush", "options", "gates", "idle")

    def __init__(
        self, pm: pluggy.PluginManager, options: OptionRegistry | None = None, skip: frozenset[str] = frozenset()
    ) -> None:
        from ._hookcall import call_order, positional

        if options is None:
            declared: list[Option] = []
            for impl in call_order(pm.hook.airlock_options.get_hookimpls()):
                declared.extend(_options_of(impl))
            options = OptionRegistry(declared)
        self.options = options
        self.enqueue = tuple(self._plain(pm, "airlock_enqueue", ("intent", "scope")))
        self.after_flush = tuple(self._plain(pm, "airlock_after_flush", ("scope", "report")))
        self.before_flush = tuple(
            (impl.plugin_name, positional(impl, ("scope", "intents", "buffered")), "intents" in impl.argnames)
            for impl in call_order(self._impls(pm, "airlock_before_flush"))
            if impl.plugin_name not in skip
        )
        self.execute = self._execute(pm, skip)
        gating = [o for o in options.by_name.values() if o.enables]
        self.gates = {} if skip else {o.name: o.default for o in gating}
        gated = frozenset(o.plugin for o in gating)
        self.idle = Hooks(pm, options, gated) if gated and not skip else self

    @staticmethod
    def _impls(pm: pluggy.PluginManager, name: str) -> list[pluggy.HookImpl]:
        impls = getattr(pm.hook, name).get_hookimpls()
        for impl in impls:
            _check_wrapping(impl, name)
        return impls

    def _plain(self, pm: pluggy.PluginManager, name: str, args: tuple[str, ...]) -> list[Any]:
        from ._hookcall import call_order, positional

        return [positional(impl, args) for impl in call_order(self._impls(pm, name))]

    def _execute(self, pm: pluggy.PluginManager, skip: frozenset[str]) -> Any:
        from ._hookcall import call_order, first_result, positional, wrap

        args = ("intent", "executor", "scope")
        impls = [i for i in call_order(self._impls(pm, "airlock_execute")) if i.plugin_name not in skip]
        plain = [i for i in impls if not i.wrapper]
        if len(impls) == 1 and impls[0].plugin_name == CORE_PLUGIN:
            return None
        call = first_result([positional(i, args) for i in plain])
        for impl in reversed([i for i in impls if i.wrapper]):
            call = wrap(positional(impl, args), call, f"{impl.plugin_name}.airlock_execute")
        return call


#: The hooks that take wrappers (``@airlock.hookimpl(wrapper=True)``).
_WRAPPABLE = frozenset({"airlock_execute"})


def _check_wrapping(impl: pluggy.HookImpl, hook: str) -> None:
    """``PluginLoadError`` naming the plugin if ``impl`` wraps ``hook`` the way it may not."""
    if impl.hookwrapper or (impl.wrapper and hook not in _WRAPPABLE):
        advice = (
            "use @airlock.hookimpl(wrapper=True), not the old hookwrapper=True."
            if hook in _WRAPPABLE
            else f"{hook} does not support hook wrappers; use a plain implementation."
        )
        raise PluginLoadError(f"airlock plugin {impl.plugin_name!r}: {advice}", entry_point=impl.plugin_name)


def _problems_of_registered(pm: pluggy.PluginManager) -> list[Exception]:
    """Every reason the registered plugins cannot be used together, each
    naming its plugin: a hook wrapped where it may not be, an
    ``airlock_options`` that fails, an option declared twice."""
    from ._hookcall import call_order

    problems: list[Exception] = []
    declared: list[Option] = []
    for impl in call_order(pm.hook.airlock_options.get_hookimpls()):
        try:
            declared.extend(_options_of(impl))
        except PluginLoadError as error:
            problems.append(error)
    declaring: dict[str, list[Option]] = {}
    for option in declared:
        declaring.setdefault(option.name, []).append(option)
    for same_name in declaring.values():
        if len(same_name) > 1:  # one problem per option declared twice, not only the first
            try:
                OptionRegistry(same_name)
            except UsageError as error:
                problems.append(error)
    for hook in ("airlock_enqueue", "airlock_before_flush", "airlock_execute", "airlock_after_flush"):
        for impl in getattr(pm.hook, hook).get_hookimpls():
            try:
                _check_wrapping(impl, hook)
            except PluginLoadError as error:
                problems.append(error)
    return problems


def _readable_name(pm: pluggy.PluginManager, plugin: Any) -> str:
    """A name for a plugin registered without one: its module's or class's
    name (pluggy's default is a number), made unique with ``#2``, ``#3``..."""
    base = getattr(plugin, "__name__", None) if isinstance(plugin, (type, ModuleType)) else None
    base = base or type(plugin).__name__
    name, n = base, 1
    while pm.has_plugin(name):
        n += 1
        name = f"{base}#{n}"
    return name


def _wrong_arguments(pm: pluggy.PluginManager, plugin: Any, name: str | None, hooks: list[str]) -> str | None:
    """Why pluggy refused ``plugin``, in one line, when one of its hooks names
    an argument the hook does not pass (as pluggy itself reads the arguments)."""
    import pluggy

    for attr in hooks:
        if not hasattr(plugin, attr):  # pluggy 1.5's parse_hookimpl_opts reads it without a default
            continue
        opts = pm.parse_hookimpl_opts(plugin, attr)
        spec = getattr(pm.hook, attr).spec
        if opts is None or spec is None:
            continue
        impl = pluggy.HookImpl(plugin, name or "", getattr(plugin, attr), opts)
        extra = [arg for arg in impl.argnames if arg not in spec.argnames]
        if extra:
            return (
                f"implements {attr}({', '.join(impl.argnames)}), but {attr} passes no {', '.join(map(repr, extra))}: "
                f"it passes {', '.join(spec.argnames)}; take any of them, by name."
            )
    return None


def _options_of(impl: pluggy.HookImpl) -> list[Option]:
    """The options one ``airlock_options`` implementation declares; PluginLoadError naming it if it fails."""
    try:
        declared = impl.function() or ()
    except Exception as exc:
        raise PluginLoadError(
            f"airlock plugin {impl.plugin_name!r}: airlock_options raised {type(exc).__name__}: {exc}",
            entry_point=impl.plugin_name,
        ) from exc
    if isinstance(declared, (str, bytes, Mapping, Option)) or not isinstance(declared, Iterable):
        # a str would be read letter by letter, an Option field by field
        raise PluginLoadError(
            f"airlock plugin {impl.plugin_name!r}: airlock_options must return a list of airlock.Option objects, "
            f"got {type(declared).__name__} {declared!r}",
            entry_point=impl.plugin_name,
        )
    return [_with_plugin(option, impl.plugin_name) for option in declared]


def _with_plugin(option: Any, plugin: str) -> Option:
    if not isinstance(option, Option):
        raise PluginLoadError(
            f"airlock plugin {plugin!r}: airlock_options must return airlock.Option objects, got {option!r}",
            entry_point=plugin,
        )
    if option.plugin:
        return option
    from dataclasses import replace

    return replace(option, plugin=plugin)


#: ``PluginInfo.entry_point`` of a plugin registered with :func:`register` (not from an entry point).
_RUN_TIME = "(registered at run time)"


class PluginHost:
    """A small facade over one pluggy ``PluginManager``; see the module doc."""

    def __init__(self) -> None:
        self._pm: pluggy.PluginManager | None = None
        self._infos: dict[str, PluginInfo] = {}
        self._errors: list[PluginLoadError] = []

    @property
    def _hooks(self) -> Hooks | None:
        return _state.hooks

    @_hooks.setter
    def _hooks(self, value: Hooks | None) -> None:
        _state.hooks = value

    # -- loading -----------------------------------------------------------
    @property
    def pm(self) -> pluggy.PluginManager:
        """The pluggy manager, with entry-point plugins loaded."""
        if self._pm is None:
            import pluggy

            from . import _builtin, hookspecs

            pm = pluggy.PluginManager(PROJECT)
            pm.add_hookspecs(hookspecs)
            from . import __version__

            pm.register(_builtin, name=CORE_PLUGIN)
            self._pm = pm
            self._infos = {CORE_PLUGIN: self._info(CORE_PLUGIN, _builtin, "airlock-core", __version__, "(built in)")}
            self._errors = []
            if _autoload_disabled():
                return pm
            self._autoload(pm)
        return self._pm

    def _autoload(self, pm: pluggy.PluginManager) -> None:
        for name, eps in _claims(PROJECT).items():
            if pm.has_plugin(name):  # already registered under that name
                continue
            if len(eps) > 1:
                self._refuse_clash(name, eps)
                continue
            [ep] = eps
            dist, version = _dist(ep)
            where = f"entry point {ep.name!r} ({ep.value}) of distribution {dist!r}"
            try:
                plugin = ep.load()
                self._register(pm, plugin, ep.name)
            except Exception as exc:
                error = PluginLoadError(
                    f"airlock plugin {where} failed to load: {type(exc).__name__}: {exc}",
                    entry_point=f"{PROJECT}:{ep.name}",
                    distribution=dist,
                )
                error.__cause__ = exc
                self._errors.append(error)
                self._infos[ep.name] = PluginInfo(ep.name, "hooks", dist, version, ep.value, error=str(error))
                continue
            self._infos[ep.name] = self._info(ep.name, plugin, dist, version, ep.value)

    def _refuse_clash(self, name: str, eps: list[Any]) -> None:
        """Several distributions provide hook plugin ``name``: load none of them, and say so."""
        dists = [_dist(ep)[0] for ep in eps]
        listed = ", ".join(f"{ep.value!r} of {dist!r}" for ep, dist in zip(eps, dists, strict=True))
        error = PluginLoadError(
            f"airlock plugin {name!r} is provided by more than one installed distribution ({listed}); "
            "airlock loads none of them: uninstall all but one.",
            entry_point=f"{PROJECT}:{name}",
            distribution=", ".join(dists),
        )
        self._errors.append(error)
        self._infos[name] = PluginInfo(name, "hooks", ", ".join(dists), "", eps[0].value, error=str(error))

    def _register(self, pm: pluggy.PluginManager, plugin: Any, name: str | None) -> str:
        import pluggy

        from . import hookspecs

        hook_names = [n for n in vars(hookspecs) if n.startswith("airlock_")]
        try:
            registered_name = pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            if pm.is_registered(plugin):  # older pluggy leaves a refused plugin registered
                pm.unregister(plugin)
            why = _wrong_arguments(pm, plugin, name, hook_names) or f"is invalid: {exc}"
            raise PluginLoadError(f"airlock plugin {name or plugin!r} {why}") from exc
        except ValueError as exc:  # already registered
            raise PluginLoadError(f"airlock plugin {name or plugin!r}: {exc}") from exc
        assert registered_name is not None
        marked = {attr for attr in dir(plugin) if pm.parse_hookimpl_opts(plugin, attr) is not None}
        unknown = sorted(marked - set(hook_names))
        unmarked = [attr for attr in hook_names if attr not in marked and callable(getattr(plugin, attr, None))]
        if unknown or unmarked:
            pm.unregister(plugin)
            if unknown:
                raise PluginLoadError(
                    f"airlock plugin {registered_name!r} marks unknown hook(s) {', '.join(unknown)} with "
                    f"@airlock.hookimpl; known hooks: {', '.join(hook_names)}."
                )
            raise PluginLoadError(
                f"airlock plugin {registered_name!r} defines {', '.join(unmarked)} without @airlock.hookimpl, "
                "so it would never be called: mark it."
            )
        self._hooks = None
        return registered_name

    def _info(self, name: str, plugin: Any, dist: str, version: str, ep: str = "") -> PluginInfo:
        hooks = sorted(h.name for h in self._pm_or_none_hookcallers(plugin))
        return PluginInfo(name, "hooks", dist, version, ep, hooks)

    def _pm_or_none_hookcallers(self, plugin: Any) -> list[Any]:
        pm = self._pm
        if pm is None:
            return []
        return pm.get_hookcallers(plugin) or []

    # -- the hot path's view --------------------------------------------------
    def hooks(self) -> Hooks:
        """The cached hook callers; raises, naming every plugin that cannot be used, if any."""
        hooks = self._hooks
        if hooks is None:
            pm = self.pm
            if self._errors:
                raise self._problem(pm)
            try:
                hooks = Hooks(pm)
            except (PluginLoadError, UsageError) as error:
                raise self._problem(pm, error)  # noqa: B904 (each problem keeps its own cause)
            self._hooks = hooks
            for info in self._infos.values():
                info.options = [o for o in hooks.options.by_name.values() if o.plugin == info.name]
        elif self._errors:
            raise self._problem(self.pm)
        return hooks

    def _problems(self, pm: pluggy.PluginManager) -> list[Exception]:
        """Why plugins cannot be used: those that failed to load, and the registered ones' problems."""
        return [*self._errors, *_problems_of_registered(pm)]

    def _problem(self, pm: pluggy.PluginManager, found: Exception | None = None) -> Exception:
        """One error for every problem there is (``found``, the one that
        surfaced first, if nothing else is found): itself if it is alone,
        else a ``PluginLoadError`` listing each on a line of its own."""
        problems = self._problems(pm) or ([found] if found is not None else [])
        if len(problems) == 1:
            return problems[0]
        listed = "\n".join(f"- {problem}" for problem in problems)
        first = problems[0]
        every = PluginLoadError(
            f"{len(problems)} problems with airlock plugins; fix or uninstall each, or skip it with "
            f"AIRLOCK_DISABLE_PLUGINS=name,...:\n{listed}",
            entry_point=getattr(first, "entry_point", ""),
            distribution=getattr(first, "distribution", ""),
        )
        every.__cause__ = first  # the others are in the message
        return every

    # -- registration for apps and tests ----------------------------------
    def register(self, plugin: Any, name: str | None = None) -> str:
        pm = self.pm
        if pm.is_registered(plugin):
            raise PluginLoadError(f"airlock plugin {pm.get_name(plugin)!r} is already registered (this very object).")
        if name is None:
            name = _readable_name(pm, plugin)
        healthy = not self._errors and not _problems_of_registered(pm)  # else the others' errors are raised anyway
        registered_name = self._register(pm, plugin, name)
        refused = _problems_of_registered(pm) if healthy else []
        if refused:  # it would make every later scope fail: unregistered again
            pm.unregister(plugin)
            self._hooks = None
            raise refused[0]
        self._infos[registered_name] = self._info(registered_name, plugin, "", "", _RUN_TIME)
        return registered_name

    def unregister(self, plugin: Any = None, name: str | None = None) -> None:
        pm = self.pm
        if name is None and plugin is not None:
            name = pm.get_name(plugin)
        pm.unregister(plugin=plugin, name=name)
        self._infos.pop(name or "", None)
        self._hooks = None

    def infos(self) -> list[PluginInfo]:
        try:
            self.hooks()
        except (PluginLoadError, UsageError) as error:
            # Shown per plugin; the healthy plugins' options are still worth listing.
            for problem in self._problems(self.pm) or [error]:
                self._blame(problem)
            infos = [info for info in self._infos.values() if not info.error]
            for info in infos:
                try:
                    info.options = self._declared_options(info.name)
                except PluginLoadError as exc:
                    info.error = str(exc)
            _note_options_declared_twice(infos)
        return list(self._infos.values())

    def _blame(self, error: Exception) -> None:
        """Show ``error`` on the plugin it names (``Hooks()`` names the plugin it refuses)."""
        blamed = self._infos.get(getattr(error, "entry_point", ""))
        if blamed is not None and not blamed.error:
            blamed.error = str(error)

    def _declared_options(self, name: str) -> list[Option]:
        """The options plugin ``name`` declares, read without building the hook cache."""
        impls = self.pm.hook.airlock_options.get_hookimpls()
        return [option for impl in impls if impl.plugin_name == name for option in _options_of(impl)]

    def reset(self) -> None:
        """Forget everything; entry points are read again on next use."""
        self._pm = None
        self._hooks = None
        self._infos = {}
        self._errors = []


def _note_options_declared_twice(infos: list[PluginInfo]) -> None:
    """Give each plugin that declares an option another one declares too an error saying so."""
    declaring: dict[str, list[PluginInfo]] = {}
    for info in infos:
        for option in info.options:
            declaring.setdefault(option.name, []).append(info)
    for name, owners in declaring.items():
        if len(owners) > 1:
            for info in owners:
                others = ", ".join(repr(other.name) for other in owners if other is not info)
                info.error = info.error or f"declares the option {name!r}, as {others} does: uninstall or rename one"


_host = PluginHost()


def register(plugin: Any, name: str | None = None) -> str:
    """Register a hook plugin (module, class or instance with hookimpls); returns its name:
    ``name``, else the module's or class's name (``Audit``, then ``Audit#2``).

    Takes effect for scopes opened afterwards. Raises
    :class:`~airlock.PluginLoadError` if it implements an unknown hook or a
    hook with wrong argument names.
    """
    return _host.register(plugin, name)


def unregister(plugin: Any = None, *, name: str | None = None) -> None:
    """Remove a plugin registered earlier, by object or by name."""
    _host.unregister(plugin, name)


@contextmanager
def registered(plugin: Any, name: str | None = None) -> Iterator[str]:
    """Register ``plugin`` for the duration of a ``with`` block (tests)."""
    registered_name = _host.register(plugin, name)
    try:
        yield registered_name
    finally:
        _host.unregister(name=registered_name)


def reload() -> None:
    """Forget loaded plugins and executors; entry points are read again on next use.

    For tests that install or block distributions (``AIRLOCK_DISABLE_PLUGINS``)
    at run time. Plugins registered with :func:`register` are dropped too.
    """
    from .executors import _forget_entry_points

    _host.reset()
    _forget_entry_points()


def get_plugin_manager() -> pluggy.PluginManager:
    """The underlying pluggy ``PluginManager`` (entry-point plugins loaded)."""
    return _host.pm


def plugin_infos() -> Sequence[PluginInfo]:
    """Every hook plugin: name, distribution, version, hooks, options, load error."""
    return _host.infos()
