"""Management commands of the ``airlock.integrations.django`` app."""
