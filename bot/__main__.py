"""Command line for the triage engine: `python -m bot assess [--json] "message" ["message" ...]`.

`python -m bot assess --jsonl` reads one conversation per line on standard input (a JSON list of
message strings, oldest first) and writes one JSON result per line, in the shape of `--json`; the
start-up cost is paid once. A line that is not a JSON list of strings, or that the engine fails on,
gives {"error": "..."} on its output line (the error's kind only, never the text), so that output
line N always answers input line N.

The parser is built by `build_parser()` so that other commands can be added as subcommands.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable, Dict, List, Optional, Sequence, TextIO


def _jsonl(stdin: TextIO, stdout: TextIO) -> int:
    import logging

    from bot.triage import assess

    log = logging.getLogger("bot.cli")
    failures = 0
    for number, line in enumerate(stdin, start=1):
        if not line.strip():
            continue
        try:
            messages = json.loads(line)
            if not isinstance(messages, list) or not all(isinstance(m, str) for m in messages):
                raise ValueError("expected a JSON list of message strings")
        except ValueError as exc:
            failures += 1
            out: Dict[str, Any] = {"error": f"line {number}: {'not JSON' if isinstance(exc, json.JSONDecodeError) else exc}"}
        else:
            try:
                out = assess(messages, strict=True).to_dict()
            except Exception as exc:  # noqa: BLE001 - the conversation boundary: one bad conversation must not stop the batch
                failures += 1
                log.error("assessment failed on input line %d (%s)", number, type(exc).__name__)
                out = {"error": f"line {number}: assessment failed ({type(exc).__name__})"}
        stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        stdout.flush()
    return 1 if failures else 0


def _assess(args: argparse.Namespace) -> int:
    if args.jsonl:
        return _jsonl(sys.stdin, sys.stdout)
    from bot.triage import assess

    assessment = assess(list(args.messages))
    if args.json:
        print(json.dumps(assessment.to_dict(), ensure_ascii=False))
        return 0
    from bot.settings import ConfigError, clinic
    from bot.triage_text import describe

    out: List[str] = [f"Triage level: {assessment.triage_level}"]
    if assessment.red_flags:
        out.append("Red flags:")
        out += [f"  {f.id} ({f.level}): {f.reason}" for f in assessment.red_flags]
    if assessment.medications:
        out.append("Medicines:")
        out += [
            f"  {m.name} ({m.status}; written as {m.mentioned_as!r}; {', '.join(m.classes)})"
            for m in assessment.medications
        ]
    if assessment.unrecognised:
        out.append("Not recognised: " + ", ".join(assessment.unrecognised))
    if assessment.symptoms:
        out.append("Symptoms: " + ", ".join(assessment.symptoms))
    try:
        out += ["", describe(assessment, clinic())]
    except ConfigError as exc:  # the assessment is still worth printing without the clinic text
        out += ["", f"(no message text: {exc})"]
    print("\n".join(out))
    return 0


#: Subcommand name -> handler; build_parser() registers the parsers, other modules may add more.
HANDLERS: Dict[str, Callable[[argparse.Namespace], int]] = {"assess": _assess}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; add another command with `parser._subparsers` via add_subcommands()."""
    parser = argparse.ArgumentParser(prog="python -m bot", description="Clonus triage assistant tools.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    p = sub.add_parser("assess", help="assess the messages of one conversation (oldest first)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--jsonl", action="store_true",
                   help="read one conversation per line (JSON list of messages) from stdin, write one JSON result per line")
    p.add_argument("messages", nargs="*", metavar="MESSAGE", help="a message of the person, oldest first")
    p.set_defaults(handler=_assess)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 with a message on bad usage
    if args.command == "assess" and args.jsonl == bool(args.messages):
        parser.error("assess: give MESSAGE arguments, or --jsonl and conversations on standard input")
    handler = getattr(args, "handler", None) or HANDLERS[args.command]
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
