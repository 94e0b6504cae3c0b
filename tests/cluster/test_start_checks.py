"""scripts/run_cluster.sh refuses to start when Redis or RabbitMQ cannot be used with the settings
given (found by an outside tester: with REDIS_PORT wrong the cluster started and answered every
message with 503; with a wrong RABBITMQ_PASSWORD both Rasa servers crash-looped after loading the
model). Real script, real PostgreSQL, Redis and RabbitMQ; nothing else starts."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.e2e.stack import ROOT, create_postgres_database, drop_postgres_database, free_port


@pytest.fixture
def start_env(tmp_path):
    url = create_postgres_database()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "REDIS_"))}
    env.update(DATABASE_URL=url, CLONUS_DATA_DIR=str(tmp_path / "data"), CLONUS_CLUSTER_TRAIN="0",
               CLONUS_EVENT_EXCHANGE="clonus_test_start_checks", RASA_PORT=str(free_port()))
    yield env
    drop_postgres_database(url)


def run(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ROOT / "scripts" / "run_cluster.sh")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)


def test_an_unreachable_redis_stops_the_start_with_a_clear_error(start_env):
    result = run({**start_env, "REDIS_PORT": str(free_port())})
    assert result.returncode != 0
    assert "error: Redis at 127.0.0.1" in result.stderr and "lock store" in result.stderr
    assert "Starting the cluster" not in result.stdout


def test_a_refused_rabbitmq_login_stops_the_start_with_a_clear_error(start_env):
    result = run({**start_env, "RABBITMQ_USERNAME": "guest", "RABBITMQ_PASSWORD": "not-the-password"})
    assert result.returncode != 0
    assert "error: RabbitMQ at 127.0.0.1" in result.stderr
    assert "not-the-password" not in result.stderr + result.stdout  # never echo a secret
    assert "Starting the cluster" not in result.stdout
