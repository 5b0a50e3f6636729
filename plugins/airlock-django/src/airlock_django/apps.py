"""The Django app ``"airlock.integrations.django"``: configures airlock at start-up."""

from __future__ import annotations

from django.apps import AppConfig

__all__ = ["AirlockConfig"]


class AirlockConfig(AppConfig):
    """Add ``"airlock.integrations.django"`` to ``INSTALLED_APPS``.

    At start-up (``ready()``) it validates ``settings.AIRLOCK`` and calls
    ``airlock.configure()`` with it, so ``airlock.scope()``,
    ``@airlock.scoped()`` and :class:`AirlockMiddleware` use ``DjangoScope``
    (or ``AIRLOCK["SCOPE"]``) and the configured policy, executor, scope
    arguments and options. A mistake is an ``ImproperlyConfigured`` at
    start-up that names the bad key or value and the valid ones.

    Its ``migrate``, ``flush`` and ``loaddata`` commands replace Django's:
    the same commands, with every side effect enqueued while they run dropped
    (see :mod:`airlock_django.management.dropping`). The reload of a test
    database's serialized contents (``serialized_rollback``) drops them too.
    """

    name = "airlock.integrations.django"
    label = "airlock"
    verbose_name = "airlock"
    default = True

    def ready(self) -> None:
        from django.core import checks

        from .checks import check_commands
        from .conf import configure_from_settings
        from .management.dropping import drop_during_serialized_rollback

        configure_from_settings()
        checks.register(check_commands)
        drop_during_serialized_rollback()
