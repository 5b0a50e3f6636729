"""``dramatiq_executor``: dispatch through Dramatiq, provided by the ``airlock-dramatiq`` distribution."""

from airlock.integrations._compat import load

dramatiq_executor = load("airlock_dramatiq", "airlock-dramatiq", "dramatiq_executor")

__all__ = ["dramatiq_executor"]
