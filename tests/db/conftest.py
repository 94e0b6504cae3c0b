"""Database fixtures (defined in tests/fixtures_db.py, shared with other test folders)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.fixtures_db import *
