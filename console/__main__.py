"""`python -m console`: migrate the database, then serve the console with waitress on 127.0.0.1.

Environment: CONSOLE_PORT (8000), CONSOLE_HOST (127.0.0.1), CONSOLE_SECRET_KEY (required when
CONSOLE_ENV=production), CONSOLE_COOKIE_SECURE (1; 0 only for plain-http development),
CONSOLE_THREADS (8), DATABASE_URL; throttling: CONSOLE_TRUSTED_PROXIES (0), CONSOLE_RATELIMIT_STORAGE
(memory://), CONSOLE_RATELIMIT_ANONYMOUS / _SIGNIN / _USER (see console/README.md).
"""

from __future__ import annotations

import logging
import os

from waitress import serve

import bot.db
from console.app import create_app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    bot.db.migrate()
    app = create_app()
    host = os.environ.get("CONSOLE_HOST", "127.0.0.1")
    port = int(os.environ.get("CONSOLE_PORT", "8000"))
    logging.getLogger("console").info("staff console on http://%s:%d", host, port)
    serve(app, host=host, port=port, threads=int(os.environ.get("CONSOLE_THREADS", "8")), ident="clonus")


if __name__ == "__main__":
    main()
