"""The command line: `python -m bot assess [--json] MESSAGE...` as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.__main__ import build_parser, main

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CLINIC_PROFILE"}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)


def test_json_output_has_exactly_the_contract_keys():
    proc = run("assess", "--json", "I take phenelzine", "and my dentist gave me tramadol")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) == {"triage_level", "red_flags", "medications", "unrecognised", "symptoms"}
    assert data["triage_level"] == "urgent"
    assert {"id": "COMBO-MAOI", "level": "urgent",
            "reason": "You take phenelzine and tramadol together; this combination can cause serotonin syndrome."} in data["red_flags"]
    assert data["medications"][0] == {"name": "phenelzine", "classes": ["maoi"], "status": "current", "mentioned_as": "phenelzine"}
    assert proc.stdout.count("\n") == 1  # one JSON object on one line


def test_human_output():
    proc = run("assess", "I want to end it all")
    assert proc.returncode == 0
    assert "emergency" in proc.stdout and "RF-SELF-HARM" in proc.stdout
    assert "911" in proc.stdout and "988" in proc.stdout


@pytest.mark.parametrize("args", [[], ["assess"], ["assess", "--json"], ["frobnicate", "x"], ["assess", "--bogus", "x"]])
def test_bad_usage_exits_2_with_a_message(args):
    proc = run(*args)
    assert proc.returncode == 2
    assert "usage:" in proc.stderr and "Traceback" not in proc.stderr


ODD = ["", " ", "😀🔥💊", "\x01\x02\x1b[31m", "a" * 100_000, "zoloft " * 5000, "\u202e\u200b", "((((", "%s %d {}",
       "\ud800 broken surrogate", "I take " + "baclofen, " * 2000]


@pytest.mark.parametrize("text", ODD[:5], ids=["empty", "space", "emoji", "control", "100k"])
def test_any_text_gives_an_answer(text):
    proc = run("assess", "--json", text)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert json.loads(proc.stdout)["triage_level"] in ("self_care", "routine", "urgent", "emergency")


@pytest.mark.parametrize("text", ODD, ids=[f"odd{i}" for i in range(len(ODD))])
def test_any_text_gives_an_answer_in_process(text, capsys):
    assert main(["assess", "--json", text]) == 0
    assert json.loads(capsys.readouterr().out)["triage_level"] in ("self_care", "routine", "urgent", "emergency")
    assert main(["assess", text]) == 0
    assert "Triage level:" in capsys.readouterr().out


def test_null_bytes_in_process(capsys):
    # argv cannot carry NUL; the same text through main() in process.
    assert main(["assess", "--json", "zoloft\x00tramadol\x00"]) == 0
    assert json.loads(capsys.readouterr().out)["triage_level"] in ("self_care", "routine")


def test_main_in_process(capsys):
    assert main(["assess", "--json", "I take sertraline and sumatriptan"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["triage_level"] == "self_care"
    assert [f["id"] for f in data["red_flags"]] == ["COMBO-WEAK"]


def test_parser_leaves_room_for_other_subcommands():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    extra = sub.add_parser("hello")
    extra.set_defaults(handler=lambda args: 0)
    assert parser.parse_args(["hello"]).handler(None) == 0
