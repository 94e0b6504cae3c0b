"""Logging that never writes a message text or a phone number, Rasa's own logs included.

`install()` is called first thing by every process's entry point (rasa_ext/server.py,
actions/server.py, `python -m rasa_ext.logsafe MODULE` for the console). It works below every
handler and formatter, so whatever configures logging later (Rasa's basicConfig, structlog, Sanic,
a --logging-config-file) cannot undo it:

- a LogRecord factory rewrites every record as it is created: the message is formatted and
  redacted (phone numbers, and the texts of the messages this process has received: channels build
  a `UserMessage`, the action server receives a tracker), the arguments are dropped, and an
  exception is reduced to its type and the file/line/function of each frame (no exception message,
  no stack-frame locals: an exception message or a local can hold the text);
- DEBUG records of other libraries (Rasa, Sanic, SQLAlchemy...) are withheld: Rasa's debug lines
  carry the message, the entities and the slot values (names, phone numbers);
- structlog (Rasa's structured logs) renders exceptions without locals, and Rasa's keys that carry
  conversation content are replaced (`text`, `user_message`, `rasa_events`, `slot_values`...).
"""

from __future__ import annotations

import collections
import logging
import re
import sys
import threading
import traceback
from typing import Any, Iterable, Optional

OUR_PACKAGES = ("bot", "actions", "rasa_ext", "console", "scripts", "benchmarks", "__main__")
REDACTED = "[redacted]"
WITHHELD = "[debug detail withheld: may carry conversation content]"

# A run of 10+ digits, allowing the separators people and libraries write (+1 (312) 555-0144),
# not part of a time (12:30), or a local number (555-0144). Dates (2026-12-01) stay readable.
# A Rasa model's file name (<yyyymmdd>-<hhmmss>-<word>-<word>) is not a phone number.
_MODEL_NAME = r"(?!\d{8}-\d{6}-[a-z]+-[a-z])"
PHONE = re.compile(r"(?<![\d:])" + _MODEL_NAME + r"\+?\(?\d(?:[\s().\-/]{0,3}\d){9,}(?![\d:])|(?<![\d\-])\d{3}[\-.\s]\d{4}(?![\d\-:])")

# Keys of Rasa's structlog events that carry conversation content (rasa/utils/log_utils.py
# _anonymizer, and more).
CONTENT_KEYS = {
    "text", "response_text", "user_text", "slot_values", "parse_data_text", "parse_data_entities",
    "prediction_events", "tracker_latest_message", "prefilled_slots", "message", "response",
    "slot_candidates", "rasa_event", "rasa_events", "tracker_states", "current_states", "old_states",
    "successes", "current_entity", "next_entity", "states", "entity", "token_text", "user_message",
    "json_message", "events", "slots", "tracker", "value", "values", "filled_slots", "entities",
    "placeholder_key", "parse_data", "bot_message", "msg",
}

_MIN_TEXT = 5
_seen: "collections.OrderedDict[str, None]" = collections.OrderedDict()
_seen_lock = threading.Lock()
_MAX_SEEN = 500


def remember(texts: Iterable[Optional[str]]) -> None:
    """Texts this process has received, redacted from every later log line (kept in memory only)."""
    with _seen_lock:
        for text in texts:
            if not text or not isinstance(text, str):
                continue
            for part in {text, text.strip()}:
                if len(part) >= _MIN_TEXT:
                    _seen.pop(part, None)
                    _seen[part] = None
        while len(_seen) > _MAX_SEEN:
            _seen.popitem(last=False)


def redact(text: str) -> str:
    if not text:
        return text
    with _seen_lock:
        seen = sorted(_seen, key=len, reverse=True)
    for known in seen:
        if known in text:
            text = text.replace(known, REDACTED)
    return PHONE.sub("[phone]", text)


def safe_traceback(exc_info: Any) -> str:
    """An exception's type and frames (file, line, function), without its message or locals."""
    try:
        etype, value, tb = exc_info
    except (TypeError, ValueError):
        return ""
    lines = ["Traceback (frames only; the message and locals are not logged):"]
    for frame in traceback.extract_tb(tb)[-30:]:
        lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
    chain = value.__cause__ or value.__context__ if value is not None else None
    name = getattr(etype, "__qualname__", str(etype))
    module = getattr(etype, "__module__", "")
    lines.append(f"{module + '.' if module not in ('builtins', '') else ''}{name}")
    if chain is not None:
        lines.append(f"(caused by {type(chain).__module__}.{type(chain).__qualname__})")
    return "\n".join(lines)


def _ours(name: str) -> bool:
    return name.split(".", 1)[0] in OUR_PACKAGES


def _clean(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a bad format string must not break logging
        message = str(record.msg)
    if record.levelno < logging.INFO and not _ours(record.name):
        message = WITHHELD
    record.msg = redact(message)
    record.args = ()
    if record.exc_info:
        text = safe_traceback(record.exc_info)
        record.exc_info = None
        record.exc_text = redact(text) if text else None
    elif record.exc_text:
        record.exc_text = REDACTED
    if record.stack_info:
        record.stack_info = None
    return record


def _sanitize_event(_logger: Any, _name: str, event_dict: dict) -> dict:
    """structlog processor: no content keys, no locals, redacted strings."""
    exc_info = event_dict.pop("exc_info", None)
    if exc_info:
        if exc_info is True:
            exc_info = sys.exc_info()
        elif isinstance(exc_info, BaseException):
            exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
        event_dict["exception"] = safe_traceback(exc_info)
    for key in list(event_dict):
        if key in CONTENT_KEYS:
            event_dict[key] = REDACTED
        elif isinstance(event_dict[key], str):
            event_dict[key] = redact(event_dict[key])
        elif key not in ("event", "level", "event_key", "exception", "timestamp", "logger"):
            event_dict[key] = redact(repr(event_dict[key]))[:500]
    event_dict.pop("stack", None)
    return event_dict


def _wrap_structlog() -> None:
    try:
        import structlog
    except ImportError:
        return
    if getattr(structlog.configure, "_clonus_safe", False):
        return
    original = structlog.configure

    def configure(*args: Any, processors: Any = None, **kwargs: Any) -> None:
        if processors is not None:
            unsafe = {structlog.processors.dict_tracebacks, structlog.processors.format_exc_info}
            kept = [p for p in processors if p not in unsafe and not isinstance(p, structlog.processors.ExceptionRenderer)]
            renderer = kept[-1:] if kept else []
            processors = kept[:-1] + [_sanitize_event] + renderer
            for p in processors:
                # ConsoleRenderer prints pretty tracebacks with locals when it gets exc_info;
                # _sanitize_event has already replaced it, this is only belt and braces.
                if isinstance(p, structlog.dev.ConsoleRenderer):
                    p._exception_formatter = structlog.dev.plain_traceback
        original(*args, processors=processors, **kwargs)

    configure._clonus_safe = True  # type: ignore[attr-defined]
    structlog.configure = configure
    if structlog.is_configured():
        configure(processors=structlog.get_config()["processors"])
    else:
        configure(processors=[*structlog.get_config()["processors"]])


def _remember_user_messages() -> None:
    """Every channel builds a rasa UserMessage for each message: remember its text."""
    try:
        from rasa.core.channels import channel
    except ImportError:
        return
    cls = channel.UserMessage
    if getattr(cls.__init__, "_clonus_safe", False):
        return
    original = cls.__init__

    def __init__(self: Any, text: Optional[str] = None, *args: Any, **kwargs: Any) -> None:
        remember([text])
        original(self, text, *args, **kwargs)

    __init__._clonus_safe = True  # type: ignore[attr-defined]
    cls.__init__ = __init__


_installed = False


def install() -> None:
    """Install the redaction in this process (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return _clean(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    # Python's last-resort handler and warnings go through records too; uncaught exceptions do not.
    logging.captureWarnings(True)
    sys.excepthook = _excepthook
    _wrap_structlog()


def install_rasa() -> None:
    """install() plus the hooks that need Rasa imported (the Rasa server only)."""
    install()
    _remember_user_messages()


def _excepthook(etype: Any, value: Any, tb: Any) -> None:
    sys.stderr.write(redact(safe_traceback((etype, value, tb))) + "\n")


def main(argv: Optional[list] = None) -> None:
    """`python -m rasa_ext.logsafe MODULE [ARGS...]`: run a module (`python -m MODULE`) with the redaction."""
    import runpy

    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        raise SystemExit("usage: python -m rasa_ext.logsafe MODULE [ARGS...]")
    install()
    sys.argv = argv
    runpy.run_module(argv[0], run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
