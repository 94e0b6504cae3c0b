"""The real Rasa server and action server, started once per test session on PostgreSQL."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.e2e.stack import Stack, drop_postgres_database, start_stack


@pytest.fixture(scope="session")
def rasa_stack(trained_model) -> Iterator[Stack]:
    stack = start_stack(trained_model)
    try:
        yield stack
    finally:
        stack.stop()
        drop_postgres_database(stack.database_url)
