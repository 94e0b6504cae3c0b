"""The engine's shared tables, one of each: triage levels, number words, weekdays, serotonergic classes.

Every module reads these (bot.rules, bot.symptoms, bot.medications, bot.text_utils); none keeps its own
copy. Before issue 9 there were two or three that disagreed ("several" was 4 in one place, 6 in another).
"""

from __future__ import annotations

from typing import Dict, FrozenSet, Tuple

#: Triage levels in ascending severity (policy section 1).
LEVELS: Tuple[str, ...] = ("self_care", "routine", "urgent", "emergency")
RANK: Dict[str, int] = {level: i for i, level in enumerate(LEVELS)}

#: Number words people use for counts and durations. Vague words take a cautious middle value:
#: "a few" = 3; "several" = 6, the cautious reading for clonus beats (more than five is sustained,
#: CL-SUSTAINED, rather than brief self care); as days it only matters against 14-day windows.
NUMBER_WORDS: Dict[str, int] = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "few": 3, "couple": 2, "several": 6, "some": 3, "many": 10, "lots": 10,
}

#: Weekday names, Monday first.
WEEKDAYS: Tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

#: Classes of the medicine knowledge base that make a medicine serotonergic (policy section 3).
SEROTONERGIC_CLASSES: FrozenSet[str] = frozenset(
    {
        "ssri", "snri", "tca", "tca_strong", "maoi", "hidden_maoi", "serotonergic_opioid",
        "serotonergic_opioid_weak", "triptan", "antiemetic", "other_serotonergic", "herbal", "recreational",
    }
)
