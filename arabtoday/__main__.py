"""``python -m arabtoday``: see :mod:`arabtoday.cli`."""

import sys

from arabtoday.cli import main

sys.exit(main())
