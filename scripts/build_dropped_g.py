#!/usr/bin/env python
"""Write bot/knowledge/dropped_g.txt: the "-in" spellings of English "-ing" words that are not words
themselves ("shakin", "sweatin"), from bot/knowledge/english_words.txt (SCOWL, see its NOTICE).

bot.context writes them out with their g; a small file keeps the 73 000-word list out of start-up.
    .venv/bin/python scripts/build_dropped_g.py
"""

from pathlib import Path

KNOWLEDGE = Path(__file__).resolve().parents[1] / "bot" / "knowledge"
#: Dictionary words that in a message are nearly always a dropped g ("jerkin" the jacket is rare).
ALSO = {"jerkin"}


def main() -> None:
    lines = (KNOWLEDGE / "english_words.txt").read_text(encoding="utf-8").splitlines()
    words = {w.strip() for w in lines if w and not w.startswith("#")}
    dropped = sorted({w[:-1] for w in words if w.endswith("ing") and len(w) >= 6 and (w[:-1] not in words or w[:-1] in ALSO)})
    header = ("# '-in' spellings of English '-ing' words that are not words themselves (dropped g in text messages),\n"
              "# generated from english_words.txt (SCOWL via Debian wamerican, see english_words.NOTICE)\n"
              "# by scripts/build_dropped_g.py; do not edit by hand.\n")
    (KNOWLEDGE / "dropped_g.txt").write_text(header + "\n".join(dropped) + "\n", encoding="utf-8")
    print(f"{len(dropped)} words")


if __name__ == "__main__":
    main()
