"""Entry point of the action server: `python -m actions.server [--port N]`.

rasa_sdk's `rasa run actions` with what it lacks:
- only the Rasa server may call it: every request but GET /health must carry the shared secret
  ACTION_SERVER_SECRET in the X-Clonus-Action-Secret header (endpoints.yml sends it); without the
  secret in the environment the server does not start;
- it listens on loopback unless SANIC_HOST says otherwise;
- logs are redacted (rasa_ext/logsafe.py): the texts of the conversation it receives are
  remembered in memory and removed from every log line, with phone numbers;
- Rasa telemetry is off and the files it creates are readable by its owner only.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
from typing import List, Optional

SECRET_HEADER = "X-Clonus-Action-Secret"  # noqa: S105 - a header name, not a secret

logger = logging.getLogger(__name__)


def create_app(secret: str):
    from rasa_sdk.endpoint import create_app as sdk_create_app
    from sanic import response

    from rasa_ext import logsafe

    app = sdk_create_app("actions", cors_origins=None)

    @app.middleware("request")
    async def only_the_rasa_server(request):
        if request.path == "/health" and request.method in ("GET", "HEAD"):
            return None
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            logger.warning("refused a request without the action server secret")
            return response.json({"error": "forbidden"}, status=403)
        body = request.json if request.method == "POST" else None
        if isinstance(body, dict):
            tracker = body.get("tracker") or {}
            logsafe.remember(
                [e.get("text") for e in tracker.get("events") or [] if isinstance(e, dict) and e.get("event") == "user"]
                + [(tracker.get("latest_message") or {}).get("text")]
            )
        return None

    return app


def main(argv: Optional[List[str]] = None) -> None:
    os.umask(0o077)
    os.environ["RASA_TELEMETRY_ENABLED"] = "false"
    from rasa_ext import logsafe

    logsafe.install()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("ACTION_PORT", "5055")))
    parser.add_argument("--host", default=os.environ.get("SANIC_HOST", "127.0.0.1"))
    args = parser.parse_args(argv)
    secret = os.environ.get("ACTION_SERVER_SECRET", "")
    if len(secret) < 16:
        raise SystemExit("ACTION_SERVER_SECRET must be set (16 characters or more) in the environment")

    from rasa_sdk import utils

    utils.configure_colored_logging(os.environ.get("LOG_LEVEL", "INFO"))
    utils.update_sanic_log_level()
    app = create_app(secret)
    from bot.triage import warm_up

    logger.info("engine loaded in %.1f s (recall readers included)", warm_up())
    logger.info("action server on http://%s:%s (only the Rasa server may call it)", args.host, args.port)
    app.run(args.host, args.port, workers=utils.number_of_sanic_workers(), access_log=False)


if __name__ == "__main__":
    main()
