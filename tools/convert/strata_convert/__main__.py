"""`python -m strata_convert` runs the strata-convert command line."""
import sys

from .cli import main

sys.exit(main())
