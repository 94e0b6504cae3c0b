"""Fixtures shared by the unit tests of the Rasa-side code (emergency policy, per-turn assessment)."""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain

from rasa_ext.emergency_policy import EmergencyPolicy
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


@pytest.fixture
def policy(tmp_path) -> EmergencyPolicy:
    return EmergencyPolicy.create(
        {**EmergencyPolicy.get_default_config()},
        LocalModelStorage(tmp_path),
        Resource("emergency_policy"),
        ExecutionContext(graph_schema=None),  # type: ignore[arg-type]
    )
