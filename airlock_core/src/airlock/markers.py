"""The pluggy markers for airlock hooks: ``hookspec`` and ``hookimpl``.

Plugins write ``@airlock.hookimpl`` on functions named after the hooks in
:mod:`airlock.hookspecs`.
"""

import pluggy

from .plugins import PROJECT

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
