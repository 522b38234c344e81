"""Makes `strata_convert` importable without installing (tools/convert on sys.path)."""
import os
import sys

CONVERT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if CONVERT_DIR not in sys.path:
    sys.path.insert(0, CONVERT_DIR)
