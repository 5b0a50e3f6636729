"""Management commands of the ``airlock.integrations.django`` app, provided by airlock-django."""
