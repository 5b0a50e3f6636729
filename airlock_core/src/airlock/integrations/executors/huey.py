"""``huey_executor``: dispatch through Huey, provided by the ``airlock-huey`` distribution."""

from airlock.integrations._compat import load

globals().update(load("airlock_huey", "airlock-huey", ("huey_executor",)))

__all__ = ["huey_executor"]
