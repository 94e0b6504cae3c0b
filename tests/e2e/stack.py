"""Starts the real action server and Rasa server on free ports against a throwaway database."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
# The action server's own venv (requirements/actions.txt: no Rasa, no TensorFlow), as under supervisord.
ACTIONS_VENV_BIN = ROOT / ".venv-actions" / "bin"
PG_ADMIN_URL = os.environ.get("CLONUS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
# The tests talk to the assistant through the dev channel (rasa_ext.channels.dev): on only when
# the Rasa server's environment has this token, which the stacks inherit from this process.
DEV_TOKEN_ENV = "CLONUS_DEV_CHANNEL_TOKEN"
os.environ.setdefault(DEV_TOKEN_ENV, secrets.token_urlsafe(24))
DEV_PATH = "/webhooks/dev/webhook"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout: float, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text()[-4000:]}")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not come up in {timeout}s:\n{log.read_text()[-4000:]}")


def create_postgres_database() -> str:
    name = f"clonus_e2e_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return str(sa.engine.make_url(PG_ADMIN_URL).set(database=name))


def drop_postgres_database(url: str) -> None:
    name = sa.engine.make_url(url).database
    admin = sa.create_engine(PG_ADMIN_URL, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@dataclass
class Stack:
    model: Path
    database_url: str
    env_extra: Dict[str, str] = field(default_factory=dict)
    rasa_port: int = field(default_factory=free_port)
    action_port: int = field(default_factory=free_port)
    auth_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    action_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="clonus-stack-")))
    procs: List[subprocess.Popen] = field(default_factory=list)
    named: Dict[str, subprocess.Popen] = field(default_factory=dict)
    start_timeout: float = 300  # seconds for the Rasa server to load the model (longer on a busy machine)

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}"

    def env(self) -> Dict[str, str]:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=self.database_url,
            PYTHONPATH=str(ROOT),
            SQLALCHEMY_SILENCE_UBER_WARNING="1",
            TF_CPP_MIN_LOG_LEVEL="3",
            CLONUS_DATA_DIR=str(self.workdir),
            SANIC_HOST="127.0.0.1",
            RASA_TELEMETRY_ENABLED="false",
            # Secrets reach the servers through the environment only (never a command line).
            RASA_AUTH_TOKEN=self.auth_token,
            ACTION_SERVER_SECRET=self.action_secret,
            ACTION_PORT=str(self.action_port),
        )
        env.update(self.env_extra)
        return env

    def credentials(self) -> Path:
        """The credentials file the Rasa server runs with (the repository's by default)."""
        return ROOT / "credentials.yml"

    def action_server_command(self) -> List[str]:
        return [str(ACTIONS_VENV_BIN / "python"), "-m", "actions.server", "--port", str(self.action_port)]

    def rasa_server_command(self) -> List[str]:
        return [
            str(VENV_BIN / "python"), "-m", "rasa_ext.server", "--model", str(self.model),
            "--endpoints", str(ROOT / "endpoints.yml"), "--credentials", str(self.credentials()),
            "--interface", "127.0.0.1", "--port", str(self.rasa_port),
        ]

    def start_action_server(self, wait: bool = True) -> subprocess.Popen:
        log = self.workdir / "actions.log"
        proc = subprocess.Popen(
            self.action_server_command(), cwd=ROOT, env=self.env(), stdout=log.open("a"), stderr=subprocess.STDOUT
        )
        self.named["actions"] = proc
        self.procs.append(proc)
        if wait:
            wait_for(f"{self.action_url}/health", 120, proc, log)
        return proc

    def stop_action_server(self, sig: int = signal.SIGTERM) -> None:
        proc = self.named.pop("actions", None)
        if proc is None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        self.procs.remove(proc)

    def start(self) -> "Stack":
        from bot.db import migrate

        migrate(self.database_url)
        action = self.start_action_server(wait=False)
        rasa_log = self.workdir / "rasa.log"
        rasa = subprocess.Popen(
            self.rasa_server_command(), cwd=ROOT, env=self.env(), stdout=rasa_log.open("a"), stderr=subprocess.STDOUT
        )
        self.named["rasa"] = rasa
        self.procs.append(rasa)
        try:
            wait_for(f"{self.action_url}/health", 120, action, self.workdir / "actions.log")
            wait_for(f"{self.rasa_url}/status?token={self.auth_token}", self.start_timeout, rasa, rasa_log)
        except BaseException:
            self.stop()  # a stack that did not come up leaves no server running
            raise
        return self

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()
        self.named.clear()

    def say(self, sender: str, message: str, timeout: float = 60) -> List[dict]:
        """One turn over the dev channel (a chosen sender id, loopback and token only); returns
        the bot's messages (the widget's shape: text, buttons and custom of a response together)."""
        reply = dev_post(self.rasa_url, sender, message, timeout=timeout)
        reply.raise_for_status()
        return reply.json()

    def tracker(self, sender: str) -> dict:
        reply = requests.get(
            f"{self.rasa_url}/conversations/{sender}/tracker", params={"token": self.auth_token}, timeout=30
        )
        reply.raise_for_status()
        return reply.json()

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text()[-3000:]}" for p in (self.workdir / "actions.log", self.workdir / "rasa.log") if p.exists()
        )

    def log_files(self) -> List[Path]:
        """Every log file the stack's processes wrote."""
        return sorted(self.workdir.glob("*.log"))


def dev_post(rasa_url: str, sender: str, message: str, timeout: float = 60) -> requests.Response:
    """POST one message to the dev channel of the server at `rasa_url`."""
    return requests.post(
        rasa_url.rstrip("/") + DEV_PATH,
        json={"sender": sender, "message": message},
        headers={"Authorization": f"Bearer {os.environ[DEV_TOKEN_ENV]}"},
        timeout=timeout,
    )


def texts(messages: List[dict]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def start_stack(model: Path, database_url: Optional[str] = None, **env: str) -> Stack:
    return Stack(model=model, database_url=database_url or create_postgres_database(), env_extra=env).start()
