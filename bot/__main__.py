"""Command line for the triage engine: `python -m bot assess [--json] "message" ["message" ...]`.

The parser is built by `build_parser()` so that other commands can be added as subcommands.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Callable, Dict, List, Optional, Sequence


def _assess(args: argparse.Namespace) -> int:
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
    p.add_argument("messages", nargs="+", metavar="MESSAGE", help="a message of the person, oldest first")
    p.set_defaults(handler=_assess)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 with a message on bad usage
    handler = getattr(args, "handler", None) or HANDLERS[args.command]
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
