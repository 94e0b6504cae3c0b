"""Entry point of the Rasa server: `python -m rasa_ext.server [rasa run options]`.

What `rasa run` cannot do safely by itself:
- the HTTP API token is read from RASA_AUTH_TOKEN in the environment and handed to Rasa inside
  this process, never on a command line (/proc/<pid>/cmdline is readable by every local user);
  without it the server does not start;
- Rasa's telemetry is off (RASA_TELEMETRY_ENABLED=false, whatever the environment said);
- files this process creates are readable by its owner only (umask 077);
- logs are redacted (rasa_ext/logsafe.py) before Rasa configures its own logging;
- the fail-safe answers (rasa_ext/resilience.py) are installed before the model is loaded.
The action server's address and shared secret come from ACTION_PORT (default 5055) and
ACTION_SERVER_SECRET, which endpoints.yml reads (${...}); without the secret Rasa refuses to start.

Every other option is `rasa run`'s own (--model, --endpoints, --credentials, --port...);
--enable-api is always on, and --auth-token on the command line is refused.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import List, Optional


def prepare_environment() -> None:
    os.umask(0o077)
    os.environ["RASA_TELEMETRY_ENABLED"] = "false"
    os.environ.setdefault("ACTION_PORT", "5055")
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def rasa_argv(args: List[str], token: str) -> List[str]:
    if any(a == "--auth-token" or a.startswith("--auth-token=") for a in args):
        raise SystemExit("the API token is read from RASA_AUTH_TOKEN, never from the command line")
    argv = ["rasa", "run", *args]
    if "--enable-api" not in argv:
        argv.append("--enable-api")
    # One argument, so that a token starting with "-" is not taken for an option.
    return argv + [f"--auth-token={token}"]


def main(args: Optional[List[str]] = None) -> None:
    prepare_environment()
    token = os.environ.get("RASA_AUTH_TOKEN", "")
    if len(token) < 16:
        raise SystemExit("RASA_AUTH_TOKEN must be set (16 characters or more) in the environment")
    if not os.environ.get("ACTION_SERVER_SECRET"):
        raise SystemExit("ACTION_SERVER_SECRET must be set in the environment (see .env.example)")

    from rasa_ext import logsafe

    logsafe.install_rasa()
    from rasa_ext import resilience

    resilience.install()
    from bot.triage import warm_up

    logging.getLogger(__name__).info("engine loaded in %.1f s (recall readers included)", warm_up())
    import rasa.__main__

    # sys.argv is this process's own copy: /proc/<pid>/cmdline keeps the original command line.
    sys.argv = rasa_argv(list(sys.argv[1:] if args is None else args), token)
    rasa.__main__.main()


if __name__ == "__main__":
    main()
