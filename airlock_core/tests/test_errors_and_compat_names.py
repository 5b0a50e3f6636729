"""The exception hierarchy, names kept for airlock-py integrations, and the greenlet warning."""

from __future__ import annotations

import contextvars
import sys

import pytest

import airlock


@pytest.mark.parametrize(
    ("error", "base"),
    [
        (airlock.UsageError, airlock.AirlockError),
        (airlock.PolicyEnqueueError, airlock.UsageError),
        (airlock.NoScopeError, airlock.UsageError),
        (airlock.ScopeStateError, airlock.AirlockError),
        (airlock.PolicyViolation, airlock.AirlockError),
        (airlock.UnknownExecutorError, airlock.UsageError),
        (airlock.UnknownOptionError, airlock.UsageError),
        (airlock.PluginLoadError, airlock.AirlockError),
        (airlock.FlushFailed, airlock.AirlockError),
        (airlock.AirlockError, Exception),
    ],
)
def test_hierarchy(error: type[BaseException], base: type[BaseException]) -> None:
    assert issubclass(error, base)


@pytest.mark.parametrize("error", [airlock.ScopeStateError, airlock.PolicyViolation, airlock.PluginLoadError])
def test_state_and_policy_errors_are_not_usage_errors(error: type[BaseException]) -> None:
    assert not issubclass(error, airlock.UsageError)


def test_flush_failed_is_an_exception_group() -> None:
    if sys.version_info >= (3, 11):
        base = ExceptionGroup  # noqa: F821 - builtin on 3.11+
    else:  # pragma: no cover - 3.10 only
        import exceptiongroup

        base = exceptiongroup.ExceptionGroup
    assert issubclass(airlock.FlushFailed, base)


def test_every_public_name_is_importable() -> None:
    missing = [name for name in airlock.__all__ if not hasattr(airlock, name)]
    assert missing == []


class TestAirlockPyNames:
    def test_execute_is_the_default_executor(self, calls) -> None:  # type: ignore[no-untyped-def]
        airlock._execute(airlock.Intent(task=calls, args=(1,), kwargs={"k": 2}, dispatch_options={"ignored": 1}))
        assert calls.calls == [((1,), {"k": 2})]
        with airlock.scope() as s:
            pass
        assert s.executor is airlock._execute

    def test_current_scope_is_the_context_variable_of_the_active_scope(self) -> None:
        assert isinstance(airlock._current_scope, contextvars.ContextVar)
        assert airlock._current_scope.get() is None
        with airlock.scope() as s:
            assert airlock._current_scope.get() is s

    def test_in_policy_is_a_context_variable(self) -> None:
        assert isinstance(airlock._in_policy, contextvars.ContextVar)
        assert airlock._in_policy.get() is False

    def test_setting_in_policy_blocks_enqueue(self, calls) -> None:  # type: ignore[no-untyped-def]
        # Integrations set it around their own callbacks, as airlock-py allowed.
        with airlock.scope():
            token = airlock._in_policy.set(True)
            try:
                with pytest.raises(airlock.PolicyEnqueueError):
                    airlock.enqueue(calls)
            finally:
                airlock._in_policy.reset(token)


_FAKE_GREENLET = """
import sys, types, warnings
fake = types.ModuleType("greenlet")
fake.__version__ = "0.4.17"
{flag}
sys.modules["greenlet"] = fake
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import airlock
for w in caught:
    print(w.category.__name__, "|", w.message)
"""


def test_old_greenlet_warns_at_import(python) -> None:  # type: ignore[no-untyped-def]
    result = python(_FAKE_GREENLET.format(flag=""))
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("RuntimeWarning")]
    assert len(lines) == 1, result.stdout
    assert "pip install 'greenlet>=1.0'" in lines[0]


def test_greenlet_with_context_variables_does_not_warn(python) -> None:  # type: ignore[no-untyped-def]
    result = python(_FAKE_GREENLET.format(flag="fake.GREENLET_USE_CONTEXT_VARS = True"))
    assert result.returncode == 0, result.stderr
    assert "RuntimeWarning" not in result.stdout


def test_no_greenlet_does_not_warn(python) -> None:  # type: ignore[no-untyped-def]
    code = _FAKE_GREENLET.replace('sys.modules["greenlet"] = fake', 'sys.modules["greenlet"] = None')
    result = python(code.format(flag=""))
    assert result.returncode == 0, result.stderr
    assert "RuntimeWarning" not in result.stdout
