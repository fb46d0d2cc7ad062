"""``python -m sim`` is ``gpusim``."""

import sys

from sim.cli import main

sys.exit(main())
