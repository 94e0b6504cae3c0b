"""Shared test set-up: the project root on sys.path and the trained Rasa model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# The servers the tests start (they inherit this environment) answer a turn by the fail-safe path only
# after 120 s, not the production 25 s / 12 s (rasa_ext/admission.py): on a loaded 2-core CI machine a
# turn can take longer than that, and a test that checks what a turn answers must not depend on the
# machine's speed. The deadline itself is tested with its own settings (tests/channels/test_admission_busy.py).
os.environ.setdefault("CLONUS_TURN_DEADLINE_SECONDS", "120")
os.environ.setdefault("CLONUS_SMS_TURN_DEADLINE_SECONDS", "120")

# Database fixtures (db_url on SQLite and PostgreSQL, migrated) for every test folder.
pytest_plugins = ["tests.fixtures_db"]


def newest_model() -> Path:
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


@pytest.fixture(scope="session")
def rasa_stack(trained_model):
    """The real Rasa server (all channels of credentials.yml) and action server, started once per
    test session on a throwaway PostgreSQL database, and stopped at the end."""
    from tests.e2e.stack import drop_postgres_database, start_stack

    stack = start_stack(trained_model)
    try:
        yield stack
    finally:
        stack.stop()
        drop_postgres_database(stack.database_url)


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The model for the current data: `scripts/train.sh` retrains only when something changed."""
    subprocess.run([str(ROOT / "scripts" / "train.sh")], cwd=ROOT, check=True)
    model = newest_model()
    assert model is not None, "training produced no model"
    return model
