"""Issue 8 items 4 and 8 (server side), the way `make run` starts the assistant (scripts/run.sh):

- supervised processes: a process that dies is restarted with a log line and the others keep
  running; Ctrl-C (SIGINT to the terminal's process group) stops them all;
- the HTTP API token and the action server secret are on no command line (/proc/<pid>/cmdline);
- Rasa telemetry is off in every process;
- the token files, the data directory and the SQLite database are readable by their owner only.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Dict, List

import pytest
import requests

from tests.e2e.stack import ROOT, free_port
from tests.security.server_helpers import wait_until

pytestmark = pytest.mark.e2e

PROGRAMS = {"actions": "actions.server", "rasa": "rasa_ext.server", "console": "console"}


def proc_children(pid: int) -> List[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            kids.append(int(entry.name))
    return kids


def cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def environ(pid: int) -> Dict[str, str]:
    raw = (Path("/proc") / str(pid) / "environ").read_bytes().split(b"\0")
    return dict(item.decode(errors="replace").split("=", 1) for item in raw if b"=" in item)


def programs(supervisor: int) -> Dict[str, int]:
    found = {}
    for pid in proc_children(supervisor):
        line = cmdline(pid)
        for name, marker in PROGRAMS.items():
            if f" -m {marker} " in line + " " or line.endswith(f" {marker}"):
                found[name] = pid
    return found


def descendants(pid: int) -> List[int]:
    out, todo = [], [pid]
    while todo:
        kids = proc_children(todo.pop())
        out += kids
        todo += kids
    return out


@pytest.fixture(scope="module")
def make_run(trained_model, tmp_path_factory):
    data = tmp_path_factory.mktemp("make-run")
    env = {k: v for k, v in os.environ.items() if k not in ("RASA_AUTH_TOKEN", "ACTION_SERVER_SECRET", "DATABASE_URL")}
    ports = {"RASA_PORT": free_port(), "ACTION_PORT": free_port(), "CONSOLE_PORT": free_port()}
    env.update({k: str(v) for k, v in ports.items()}, CLONUS_DATA_DIR=str(data))
    env.pop("RASA_TELEMETRY_ENABLED", None)
    out = (data / "run.out").open("w")
    proc = subprocess.Popen(
        [str(ROOT / "scripts" / "run.sh")], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    info = {"proc": proc, "data": data, "ports": ports}
    try:
        def up() -> bool:
            assert proc.poll() is None, (data / "run.out").read_text()[-3000:]
            token_file = data / "rasa_auth_token"
            if not token_file.exists():
                return False
            try:
                token = token_file.read_text().strip()
                rasa = requests.get(f"http://127.0.0.1:{ports['RASA_PORT']}/status", params={"token": token}, timeout=2)
                actions = requests.get(f"http://127.0.0.1:{ports['ACTION_PORT']}/health", timeout=2)
                return rasa.status_code == 200 and actions.status_code == 200
            except requests.RequestException:
                return False

        assert wait_until(up, 600, 2), (data / "run.out").read_text()[-3000:]
        yield info
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_secrets_are_on_no_command_line(make_run):
    data = make_run["data"]
    token = (data / "rasa_auth_token").read_text().strip()
    secret = (data / "action_server_secret").read_text().strip()
    pids = [make_run["proc"].pid] + descendants(make_run["proc"].pid)
    assert len(programs(make_run["proc"].pid)) == 3, [cmdline(p) for p in pids]
    for pid in pids:
        line = cmdline(pid)
        assert token not in line and secret not in line, f"a secret is on the command line of {pid}"


def test_telemetry_is_off_in_every_process(make_run):
    for name, pid in programs(make_run["proc"].pid).items():
        assert environ(pid).get("RASA_TELEMETRY_ENABLED") == "false", name


def test_secret_and_database_files_are_owner_only(make_run):
    data = make_run["data"]
    assert data.stat().st_mode & 0o077 == 0, oct(data.stat().st_mode)
    for path in [data / "rasa_auth_token", data / "action_server_secret", data / "clonus.sqlite3"]:
        assert path.exists(), path
        assert path.stat().st_mode & 0o077 == 0, (path, oct(path.stat().st_mode))


def test_a_dead_process_is_restarted_and_the_others_keep_running(make_run):
    supervisor = make_run["proc"].pid
    before = programs(supervisor)
    os.kill(before["actions"], signal.SIGKILL)
    assert wait_until(lambda: programs(supervisor).get("actions") not in (None, before["actions"]), 60), programs(supervisor)
    after = programs(supervisor)
    assert after["rasa"] == before["rasa"] and after["console"] == before["console"]
    port = make_run["ports"]["ACTION_PORT"]

    def healthy() -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    assert wait_until(healthy, 120), "the action server did not come back"
    log = (make_run["data"] / "log" / "supervisord.log").read_text()
    assert "exited: actions" in log and "spawned: 'actions'" in log, log[-2000:]


def test_ctrl_c_stops_everything(make_run):
    proc = make_run["proc"]
    everyone = [proc.pid] + descendants(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
    proc.wait(timeout=60)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in everyone):
        time.sleep(0.5)
    alive = [p for p in everyone if Path(f"/proc/{p}").exists() and "zombie" not in (Path(f"/proc/{p}/status").read_text())]
    assert alive == [], [cmdline(p) for p in alive]
