"""``python -m obskit`` runs the command line."""

import sys

from obskit.cli import main

sys.exit(main())
