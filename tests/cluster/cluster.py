"""The cluster shape as `make run-cluster` starts it (scripts/run_cluster.sh under supervisord), on
free ports, a throwaway PostgreSQL database, a Redis key prefix, a RabbitMQ exchange and queue of its own, and
the model that exists (never trained here: CI's `make test` trains first)."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Dict, List, Optional

import requests
import sqlalchemy as sa
from twilio.request_validator import RequestValidator

from tests.e2e.stack import ROOT, VENV_BIN, create_postgres_database, drop_postgres_database, free_port

SMS_PATH = "/webhooks/twilio_sms/webhook"
WIDGET_PATH = "/webhooks/widget/webhook"
CONVERSATION_PATH = "/webhooks/widget/conversation"
PROGRAMS = ("haproxy", "actions1", "actions2", "rasa1", "rasa2", "console")


def newest_model() -> Optional[Path]:
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None


class Cluster:
    def __init__(self, model: Path) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="clonus-cluster-"))
        self.model = model
        self.database_url = create_postgres_database()
        self.ports = {name: free_port() for name in (
            "RASA_PORT", "RASA_PORT_1", "RASA_PORT_2", "ACTION_PORT", "ACTION_PORT_1", "ACTION_PORT_2", "CONSOLE_PORT")}
        self.auth_token = secrets.token_urlsafe(24)
        self.twilio_token = "test-" + secrets.token_hex(16)
        self.queue = f"clonus_test_events_{uuid.uuid4().hex[:10]}"
        # its own exchange (never Rasa's shared `rasa-exchange`): no other cluster's events reach it
        self.exchange = f"clonus_test_exchange_{uuid.uuid4().hex[:10]}"
        self.lock_prefix = "clonustest" + uuid.uuid4().hex[:10]
        self.proc: Optional[subprocess.Popen] = None
        self.log = self.workdir / "run_cluster.out"

    def env(self) -> Dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("TWILIO_WEBHOOK_URL", "CLONUS_DEV_CHANNEL_TOKEN")}
        env.update({k: str(v) for k, v in self.ports.items()})
        env.update(
            DATABASE_URL=self.database_url,
            CLONUS_DATA_DIR=str(self.workdir / "data"),
            CLONUS_MODEL=str(self.model),
            CLONUS_CLUSTER_TRAIN="0",
            CLONUS_EVENT_QUEUE=self.queue,
            CLONUS_EVENT_EXCHANGE=self.exchange,
            CLONUS_LOCK_KEY_PREFIX=self.lock_prefix,
            REDIS_DB=os.environ.get("CLONUS_TEST_REDIS_DB", "3"),
            RASA_AUTH_TOKEN=self.auth_token,
            TWILIO_AUTH_TOKEN=self.twilio_token,
        )
        return env

    # -- URLs ----------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """HAProxy: what clients talk to."""
        return f"http://127.0.0.1:{self.ports['RASA_PORT']}"

    def server_url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.ports[f'RASA_PORT_{n}']}"

    # -- life cycle ----------------------------------------------------------------------------
    def start(self, timeout: float = 1200) -> "Cluster":
        self.proc = subprocess.Popen(
            ["bash", str(ROOT / "scripts" / "run_cluster.sh")], cwd=ROOT, env=self.env(),
            stdout=self.log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        try:
            for n in (1, 2):
                self._wait(f"{self.server_url(n)}/status?token={self.auth_token}", deadline)
            self._wait(f"http://127.0.0.1:{self.ports['ACTION_PORT_1']}/health", deadline)
            self._wait(f"http://127.0.0.1:{self.ports['ACTION_PORT_2']}/health", deadline)
            # HAProxy has seen both Rasa servers up (rise 2 x 1 s)
            time.sleep(3)
            self._wait(f"{self.url}/", deadline)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait(self, url: str, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"run_cluster.sh exited:\n{self.logs()}")
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(1)
        raise TimeoutError(f"{url} did not come up:\n{self.logs()}")

    def supervisorctl(self, *args: str) -> str:
        result = subprocess.run(
            [str(VENV_BIN / "supervisorctl"), "-c", str(ROOT / "scripts" / "supervisord.cluster.conf"), *args],
            cwd=ROOT, env=self.env(), capture_output=True, text=True, timeout=30,
        )
        return result.stdout

    def pid(self, program: str) -> int:
        return int(self.supervisorctl("pid", program).strip())

    def pids(self) -> Dict[str, int]:
        return {p: self.pid(p) for p in PROGRAMS}

    def kill(self, program: str) -> int:
        pid = self.pid(program)
        os.kill(pid, signal.SIGKILL)
        return pid

    def stop(self) -> None:
        """Ctrl-C: SIGINT to supervisord (run_cluster.sh exec'd it)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def cleanup(self) -> None:
        self.stop()
        drop_postgres_database(self.database_url)
        try:
            import redis

            client = redis.StrictRedis(host=os.environ.get("REDIS_HOST", "127.0.0.1"),
                                       port=int(os.environ.get("REDIS_PORT", "6379")),
                                       db=int(self.env()["REDIS_DB"]))
            for key in client.scan_iter(match=f"{self.lock_prefix}:*"):
                client.delete(key)
        except Exception:  # noqa: BLE001, S110 - best effort
            pass
        asyncio.run(delete_queue(self.queue, self.exchange))

    def logs(self) -> str:
        parts = [f"--- run_cluster.out\n{self.log.read_text()[-3000:]}" if self.log.exists() else ""]
        for path in sorted((self.workdir / "data" / "log").glob("*.log")):
            parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-2500:]}")
        return "\n".join(parts)

    # -- channels ------------------------------------------------------------------------------
    def new_conversation(self, base: Optional[str] = None) -> str:
        resp = requests.post((base or self.url) + CONVERSATION_PATH, json={}, timeout=30)
        assert resp.status_code == 201, resp.text
        return resp.json()["conversation"]

    def widget(self, conversation: str, text: str, base: Optional[str] = None, timeout: float = 120,
               message_id: Optional[str] = None) -> requests.Response:
        """One widget message, with a message_id of its own as the widget sends (or `message_id`)."""
        body = {"conversation": conversation, "message": text, "message_id": message_id or str(uuid.uuid4())}
        return requests.post((base or self.url) + WIDGET_PATH, json=body, timeout=timeout)

    def sms(self, phone: str, text: str, base: Optional[str] = None, timeout: float = 120) -> requests.Response:
        url = (base or self.url) + SMS_PATH
        params = {"From": phone, "To": "+13125550100", "Body": text,
                  "MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC" + uuid.uuid4().hex, "NumMedia": "0"}
        signature = RequestValidator(self.twilio_token).compute_signature(url, params)
        return requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=timeout)

    # -- what is stored ------------------------------------------------------------------------
    def events(self, sender_id: str) -> List[dict]:
        engine = sa.create_engine(self.database_url, future=True)
        try:
            with engine.connect() as conn:
                rows = conn.execute(
                    sa.text("SELECT id, type_name, data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender_id}
                ).all()
        finally:
            engine.dispose()
        return [{"id": r.id, **json.loads(r.data)} for r in rows]


def sender_of(conversation: str) -> str:
    """The tracker's sender id of a signed widget id: the part before the timestamp and signature."""
    return conversation.rsplit(".", 2)[0]


_phones: set = set()


def new_phone() -> str:
    """A fictional US number (555 exchange), different for every call."""
    while True:
        number = f"+1{200 + secrets.randbelow(800)}555{secrets.randbelow(10_000):04d}"
        if number not in _phones:
            _phones.add(number)
            return number


async def delete_queue(name: str, exchange: Optional[str] = None) -> None:
    import aio_pika

    try:
        connection = await aio_pika.connect(**broker_kwargs())
    except Exception:  # noqa: BLE001
        return
    async with connection:
        channel = await connection.channel()
        try:
            await channel.queue_delete(name)
        except Exception:  # noqa: BLE001, S110 - gone already
            pass
        if exchange:
            try:
                await channel.exchange_delete(exchange)
            except Exception:  # noqa: BLE001, S110 - gone already
                pass


def broker_kwargs() -> dict:
    return dict(
        host=os.environ.get("RABBITMQ_HOST", "127.0.0.1"),
        port=int(os.environ.get("RABBITMQ_PORT", "5672")),
        login=os.environ.get("RABBITMQ_USERNAME", "guest"),
        password=os.environ.get("RABBITMQ_PASSWORD", "guest"),
    )
