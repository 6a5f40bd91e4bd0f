"""``python -m sketchbox``: the ``sketchbox`` command."""

import sys

from .cli import main

sys.exit(main())
