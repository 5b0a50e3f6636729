"""``python -m airlock ...`` is the ``airlock`` command."""

import sys

from .cli import main

sys.exit(main())
