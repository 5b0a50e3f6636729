"""``huey_executor``: dispatch through Huey, provided by the ``airlock-huey`` distribution."""

from airlock.integrations._compat import load

huey_executor = load("airlock_huey", "airlock-huey", "huey_executor")

__all__ = ["huey_executor"]
