"""``<!-- test: with django-settings -->``: the block is a ``settings.py`` fragment.

It is executed as the project's settings module, over the rest of a minimal
project (an in-memory SQLite database and a secret key, unless the fragment
sets them), and Django is started with it. Start-up runs the airlock app's
validation of ``settings.AIRLOCK``, so a wrong key, value or path fails here
as it would in the reader's project. Then every ``MIDDLEWARE`` entry must
import, Django's system checks must pass, and ``airlock.scope()`` must build
the scope class the settings select.
"""

from __future__ import annotations

import os
import sys
import types

import django
from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

import airlock

from . import execute

MODULE = "docs_example_settings"


def run(code: str, path: str, line: int) -> None:
    module = types.ModuleType(MODULE)
    module.DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
    module.SECRET_KEY = "docs-example"
    execute(code, path, line, vars(module))
    sys.modules[MODULE] = module
    os.environ["DJANGO_SETTINGS_MODULE"] = MODULE
    django.setup()  # the airlock app validates settings.AIRLOCK and configures airlock

    for entry in settings.MIDDLEWARE:
        import_string(entry)
    errors = [message for message in checks.run_checks() if message.is_serious()]
    assert not errors, errors

    from airlock.integrations.django import get_scope_class

    with airlock.scope() as scope:
        pass
    assert type(scope) is get_scope_class(), f"airlock.scope() built a {type(scope).__name__}"
