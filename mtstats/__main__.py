"""``python -m mtstats``: the ``mtstats`` command line."""

import sys

from .cli import main

if __name__ == "__main__":  # not on import (e.g. by pkgutil.walk_packages)
    sys.exit(main())
