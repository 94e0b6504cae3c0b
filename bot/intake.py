"""What a message already answers of the symptom intake's questions, so that they are not asked again.

`answers(text)` reads one message and returns the intake slots it answers, in the person's words
("15-20 beats", "left", "when I stand up", "no fever", "sertraline"). `is_plain_answer(text)` says
whether a short reply ("nothing", "idk", "it's random", "nothing sets it off", "none") is an answer
to the question just asked, whatever intent the classifier gave it: such replies never cancel a form.
The triage engine reads every message itself; these values decide only which questions are left.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Dict, List, Optional, Tuple

from bot.medications import recognise
from bot.symptoms import extract
from bot.vocab import NUMBER_WORDS

#: The intake's slots that a message can answer besides the description (domain.yml, symptom_form).
INTAKE_SLOTS = ("symptom_duration", "symptom_side", "symptom_trigger", "other_symptoms", "current_medicines")

_WORD_NUM = rf"(?:{'|'.join(sorted(NUMBER_WORDS, key=len, reverse=True))}|a few|few|a couple(?: of)?|couple(?: of)?|several|one)"
_NUM = rf"(?:\d+(?:\.\d+)?\s*|{_WORD_NUM}\s+)"
_EPISODE_UNIT = r"(?:beats?|jerks?|bounces?|times|kicks?|twitch(?:es)?|secs?|seconds?|mins?|minutes?)"
_COUNTED = re.compile(
    rf"\b(?:like\s+|about\s+|around\s+|maybe\s+|~\s*)?{_NUM}(?:(?:-|to|or)\s*{_NUM})?(?:\w+\s+)?{_EPISODE_UNIT}\b", re.I
)
_ENDLESS = re.compile(
    r"\b(?:on and on|keeps? going for|non ?stop|all day|constant(?:ly)?|"
    r"just a (?:second|sec|moment)|a split second)\b",
    re.I,
)
# "for 3 days", "3 wks": how long the problem has been going on, not how long one episode lasts.
_NOT_EPISODE = re.compile(r"\b(?:days?|weeks?|wks?|months?|years?|yrs?)\b", re.I)

_BODY = r"(?:side|leg|legs|foot|feet|ankle|ankles|arm|arms|hand|hands|calf|calves|knee|knees|toes?|thigh|wrist|body)"
_SIDE_ONE = re.compile(rf"\b(left|right)\s+(?:\w+\s+)?{_BODY}\b|\b(?:on\s+(?:the|my|his|her)\s+|just\s+(?:the\s+)?|only\s+(?:the\s+)?)(left|right)\b", re.I)
_SIDE_BOTH = re.compile(rf"\bboth\s+(?:of\s+(?:my|his|her|the)\s+)?{_BODY}\b|\b(?:both|two)\s+sides\b|\bbilateral\b", re.I)
_SIDE_ONE_UNNAMED = re.compile(r"\b(?:one|1)\s+side\b", re.I)

_TRIGGER = re.compile(
    r"\b(?:when|whenever|if|after|as soon as|every time)\s+(?:i|he|she|they|you|we)\s+(?:\w+\s+){0,3}?"
    r"(?:stand|stood|get up|got up|walk|stretch|flex|push|press|touch|step|climb|go (?:down|up)|put|lie|lay|sit|move|bend|point)\w*"
    r"(?:\s+(?!and\b|but\b)\w+){0,5}"
    r"|\b(?:standing(?: up)?|stretching|walking|going (?:down|up) (?:the )?stairs|lying (?:down|in bed)|in bed at night|at night)\b"
    r"|\b(?:random(?:ly)?|out of nowhere|for no reason|by (?:it|them)sel(?:f|ves)|on (?:its|their) own|nothing sets? (?:it|them) off"
    r"|nothing (?:triggers|causes|starts) (?:it|them)|no trigger|no reason)\b",
    re.I,
)

# Symptom features that answer "any other symptoms, like fever, heavy sweating, confusion, ...?"
OTHER_SYMPTOM_FEATURES = (
    "fever", "diaphoresis", "confusion", "agitation", "tachycardia", "hallucinations", "one_sided_weakness",
    "speech_problem", "face_droop", "shivering", "gi_upset", "breathing_trouble", "severe_headache", "stiff_neck",
)
_PLAIN = {"diaphoresis": "heavy sweating", "tachycardia": "fast heartbeat", "gi_upset": "stomach upset"}
_NO_MEDICINES = re.compile(
    r"\b(?:no|not on any|don'?t take any|do not take any|not taking any|none of)\s+(?:meds|medicines?|medications?|pills|drugs)\b"
    r"|\b(?:meds|medicines?|medications?)\s*:?\s*(?:none|nothing)\b",
    re.I,
)

# Whole replies that answer the question asked ("nothing", "its random"), never a cancellation.
_PLAIN_ANSWER = re.compile(
    r"^(?:(?:it'?s|its|it is|they'?re|theyre|just|um+|uh+|honestly|well|hmm+)\s+)*"
    r"(?:nothing(?: at all| really| in particular| that i know of)?|none|nope|nah|no|not really|no idea|idk|i dunno|dunno|"
    r"i (?:don'?t|do not) know|not sure|unsure|random(?:ly)?|it'?s random|all (?:the )?time|both|one side|left|right|"
    r"nothing (?:sets?|triggers?|causes?|starts?) (?:it|them) off|nothing (?:sets?|triggers?|causes?|starts?) (?:it|them)|"
    r"no (?:trigger|reason)|for no reason|out of nowhere|on (?:its|their) own|by itself|skip|pass|n/?a)"
    r"(?:\s+(?:i think|i guess|really|tbh|lol|sorry))*[\s.!]*$",
    re.I,
)


def is_plain_answer(text: str) -> bool:
    """A short reply that answers a form question ("nothing sets it off", "idk", "its random")."""
    return bool(_PLAIN_ANSWER.match(" ".join((text or "").split())))


def duration(text: str) -> Optional[str]:
    for m in _COUNTED.finditer(text or ""):
        span = m.group(0).strip()
        if not _NOT_EPISODE.search(span):
            return span
    m = _ENDLESS.search(text or "")
    return m.group(0).strip() if m else None


def side(text: str) -> Optional[str]:
    text = text or ""
    if _SIDE_BOTH.search(text):
        return "both"
    m = _SIDE_ONE.search(text)
    if m:
        return (m.group(1) or m.group(2)).lower()
    if _SIDE_ONE_UNNAMED.search(text):
        return "one side"
    return None


def trigger(text: str) -> Optional[str]:
    m = _TRIGGER.search(text or "")
    return m.group(0).strip() if m else None


def other_symptoms(text: str) -> Optional[str]:
    """The other symptoms the message reports or denies, in plain words ("fever, no heavy sweating")."""
    report = extract(text or "")
    said: List[str] = []
    for feature in OTHER_SYMPTOM_FEATURES:
        words = _PLAIN.get(feature, feature.replace("_", " "))
        if feature in report.present:
            said.append(words)
        elif feature in report.negated:
            said.append(f"no {words}")
    return ", ".join(said) or None


def current_medicines(text: str) -> Optional[str]:
    names = list(dict.fromkeys(m.name for m in recognise(text or "") if m.status == "current"))
    if names:
        return ", ".join(names)
    if _NO_MEDICINES.search(text or ""):
        return "none"
    return None


_READERS = {
    "symptom_duration": duration,
    "symptom_side": side,
    "symptom_trigger": trigger,
    "other_symptoms": other_symptoms,
    "current_medicines": current_medicines,
}


def answers(text: str) -> Dict[str, str]:
    """The intake slots this message answers, with the words that answer them."""
    return dict(_answers(" ".join((text or "").split())))


@lru_cache(maxsize=1024)
def _answers(text: str) -> Tuple[Tuple[str, str], ...]:
    found: List[Tuple[str, str]] = []
    for slot, read in _READERS.items():
        value = read(text)
        if value:
            found.append((slot, value))
    return tuple(found)
