"""What the cluster's load balancer answers by itself (scripts/haproxy.cluster.cfg with the pages of
rasa_ext/lb_errors.py): the real HAProxy over real HTTP, in front of Rasa servers that are down, or
that pass their health check and then never answer. A person on either channel still reads the
numbers to call; an SMS answer is a 200 TwiML message (Twilio shows nothing for a 5xx)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from tests.e2e.stack import ROOT, free_port

CONFIG = ROOT / "scripts" / "haproxy.cluster.cfg"


def haproxy() -> str:
    found = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
    if found is None:
        subprocess.run(["bash", str(ROOT / "scripts" / "install_haproxy.sh")], check=True, cwd=ROOT)
        found = shutil.which("haproxy") or "/usr/sbin/haproxy"
    return found


class Hanging(BaseHTTPRequestHandler):
    """A server that is up (GET / answers) and never answers a message."""

    def do_GET(self):  # noqa: N802 - http.server's name
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def do_POST(self):  # noqa: N802
        time.sleep(30)

    def log_message(self, *args):  # no request lines on stderr
        pass


def wait_listening(port: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


@pytest.fixture
def balancer(tmp_path):
    """Start HAProxy with the cluster's config; yields (start(rasa_port_1, rasa_port_2) -> public URL)."""
    data = tmp_path / "data"
    subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-m", "rasa_ext.lb_errors", str(data / "lb-errors")],
                   check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    procs = []

    def start(port_1: int, port_2: int) -> str:
        public = free_port()
        env = {**os.environ, "CLONUS_DATA_DIR": str(data), "RASA_PORT": str(public), "RASA_PORT_1": str(port_1),
               "RASA_PORT_2": str(port_2), "ACTION_PORT": str(free_port()), "ACTION_PORT_1": str(free_port()),
               "ACTION_PORT_2": str(free_port())}
        binary = haproxy()
        subprocess.run([binary, "-c", "-q", "-f", str(CONFIG)], check=True, env=env)
        proc = subprocess.Popen([binary, "-db", "-f", str(CONFIG)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        wait_listening(public)
        return f"http://127.0.0.1:{public}"

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(10)


def assert_widget_notice(resp: requests.Response, status: int, saved) -> None:
    assert resp.status_code == status, resp.text
    body = json.loads(resp.text)
    [notice] = body["messages"]
    assert notice["custom"]["failsafe"] is True and notice["custom"]["saved"] is saved
    for number in ("911", "988", "(312) 555-0100"):
        assert number in notice["text"]


def sms_texts(resp: requests.Response) -> list:
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("application/xml")
    return [m.text or "" for m in ET.fromstring(resp.content).findall("Message")]  # noqa: S314 - our own page


def test_with_every_rasa_server_down_each_channel_gets_its_honest_notice(balancer):
    base = balancer(free_port(), free_port())  # nothing listens there
    widget = requests.post(base + "/webhooks/widget/webhook", json={"conversation": "x", "message": "help"}, timeout=30)
    assert_widget_notice(widget, 503, False)
    sms = requests.post(base + "/webhooks/twilio_sms/webhook", data={"Body": "help", "From": "+13125550111"}, timeout=30)
    [text] = sms_texts(sms)
    assert "911" in text and "988" in text and "could not be saved" in text
    assert len(text) <= 320  # one SMS reply, at most 320 characters
    # Rasa's own HTTP API keeps HAProxy's plain answer (a program reads its status)
    api = requests.get(base + "/status", timeout=30)
    assert api.status_code == 503 and "failsafe" not in api.text


def test_a_server_that_never_answers_gets_an_sms_answer_before_twilio_gives_up(balancer):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hanging)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        base = balancer(port, port)
        time.sleep(3)  # two health checks pass: the server is up
        sms = requests.post(base + "/webhooks/twilio_sms/webhook", data={"Body": "help", "From": "+13125550111"},
                            timeout=30)
        [text] = sms_texts(sms)
        assert "911" in text and "may not have been saved" in text
    finally:
        server.shutdown()
        server.server_close()


def test_the_sms_backend_answers_within_twilios_15_seconds():
    """Twilio waits 15 s for a webhook: the SMS backend's own deadline is shorter (a config check,
    not a timing: HAProxy keeps its timeouts)."""
    section, seconds = None, {}
    for line in CONFIG.read_text().splitlines():
        words = line.split()
        if words[:1] in (["backend"], ["frontend"], ["defaults"], ["global"]):
            section = " ".join(words)
        elif words[:2] in (["timeout", "server"], ["timeout", "queue"]):
            seconds[(section, words[1])] = float(words[2].rstrip("s"))
    assert seconds[("backend rasa_sms", "server")] < 15
    assert seconds[("backend rasa_sms", "queue")] + 8 < 15  # queue, then the server's own admission wait (8 s)
