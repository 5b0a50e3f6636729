"""Test a retry configuration against a real outage, not a function that raises.

:class:`OutageProxy` is ``airlock.testing.OutageProxy``, kept importable
here: a TCP proxy on 127.0.0.1 in front of a real service that refuses
connections until ``up()`` and cuts them all at ``down()``.
"""

from __future__ import annotations

from airlock.testing import OutageProxy

__all__ = ["OutageProxy"]
