"""airlock-huey: dispatch airlock intents through Huey.

Select it by name, ``airlock.scope(executor="huey")``, or pass
:func:`huey_executor` itself. It is also importable at the path airlock-py
used, ``airlock.integrations.executors.huey``.
"""

from ._executor import huey_executor

__all__ = ["huey_executor"]
