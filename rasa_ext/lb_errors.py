"""`python -m rasa_ext.lb_errors DIR`: the answers the load balancer gives by itself when no Rasa
server answers (HAProxy `errorfile`, scripts/haproxy.cluster.cfg), rendered from the clinic profile
when the cluster starts (scripts/run_cluster.sh).

HAProxy answers 503 when no server is up or a request waited too long in its queue, 504 when a
server took longer than `timeout server`, 502 when a server broke the connection and no retry was
left. Its own pages are HTML for browsers; a person on the widget or SMS must read what the channels
say in a failure instead (rasa_ext.failsafe: the emergency number, the clinic's number, the crisis
line, whether the message was kept):

- widget: the channel's failure shape, `{"error": ..., "messages": [trouble message]}`, with the
  HTTP status (the widget shows the messages as a notice);
- SMS: **200** with TwiML holding the trouble text: Twilio delivers only a 2xx answer's messages, and
  would show the person nothing for a 5xx.

503 means the message was not processed (HAProxy never handed it to a server); after 502 or 504 a
server may have stored it, so the text says "may not have been saved". The trouble text does not
depend on the message, so no triage is possible here: every one names the emergency number.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Dict

STATUSES = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


def _http(status: int, reason: str, content_type: str, body: str) -> bytes:
    data = body.encode("utf-8")
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Length: {len(data)}\r\n"
        "Cache-Control: no-store\r\n"
        "Connection: close\r\n"
        "\r\n"
    )
    return head.encode("ascii") + data


def pages() -> Dict[str, bytes]:
    """File name -> raw HTTP response, for each channel and status."""
    from twilio.twiml.messaging_response import MessagingResponse

    from rasa_ext.failsafe import trouble_message

    out: Dict[str, bytes] = {}
    for status, reason in STATUSES.items():
        saved = False if status == 503 else None
        message = trouble_message(saved)
        widget = {"error": "the assistant could not answer", "messages": [message]}
        out[f"widget-{status}.http"] = _http(status, reason, "application/json", json.dumps(widget))
        twiml = MessagingResponse()
        twiml.message(message["text"])
        out[f"sms-{status}.http"] = _http(200, "OK", "application/xml; charset=utf-8", str(twiml))
    return out


def write(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in pages().items():
        (directory / name).write_bytes(data)


def main(argv: list) -> int:
    if len(argv) != 1:
        print("usage: python -m rasa_ext.lb_errors DIR", file=sys.stderr)
        return 2
    write(Path(argv[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
