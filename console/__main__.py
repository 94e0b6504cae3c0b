"""`python -m console`: migrate the database (retried in the background while it is unavailable:
every page answers 503 meanwhile), then serve the console with waitress on 127.0.0.1.

Environment: CONSOLE_PORT (8000), CONSOLE_HOST (127.0.0.1), CONSOLE_SECRET_KEY (required when
CONSOLE_ENV=production), CONSOLE_COOKIE_SECURE (1; 0 only for plain-http development),
CONSOLE_THREADS (8), DATABASE_URL; throttling: CONSOLE_TRUSTED_PROXIES (0), CONSOLE_RATELIMIT_STORAGE
(memory://), CONSOLE_RATELIMIT_ANONYMOUS / _SIGNIN / _USER (see console/README.md).
"""

from __future__ import annotations

import logging
import os
import threading

from waitress import serve

import bot.db
from console.app import DATABASE_UNAVAILABLE, create_app

log = logging.getLogger("console")


class SchemaReady:
    """Migrates the schema; while the database is locked or down it keeps trying in the
    background (every 2 s, then up to every 30 s) and the console answers 503 meanwhile, instead
    of exiting (supervisord would restart it in a loop)."""

    def __init__(self) -> None:
        self.ready = threading.Event()

    def __call__(self) -> bool:
        return self.ready.is_set()

    def try_once(self) -> bool:
        try:
            bot.db.migrate()
        except DATABASE_UNAVAILABLE as exc:
            log.error("database unavailable (%s): pages answer 503 until it is back", type(exc).__name__)
            return False
        self.ready.set()
        return True

    def start(self) -> "SchemaReady":
        if not self.try_once():
            threading.Thread(target=self._retry, name="schema-retry", daemon=True).start()
        return self

    def _retry(self) -> None:
        delay = 2.0
        while not self.ready.wait(delay):
            if self.try_once():
                log.info("database available again: the console serves pages")
                return
            delay = min(30.0, delay * 1.5)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(database_ready=SchemaReady().start())
    host = os.environ.get("CONSOLE_HOST", "127.0.0.1")
    port = int(os.environ.get("CONSOLE_PORT", "8000"))
    logging.getLogger("console").info("staff console on http://%s:%d", host, port)
    serve(app, host=host, port=port, threads=int(os.environ.get("CONSOLE_THREADS", "8")), ident="clonus")


if __name__ == "__main__":
    main()
