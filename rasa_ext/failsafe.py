"""What a person reads when the assistant cannot answer normally: the action server is down or
slow, or the conversation cannot be stored.

Shared by the Rasa server (a failed or slow custom action, rasa_ext/resilience.py) and the
channels (a turn that could not be stored): it needs neither the action server nor the database,
only the clinic profile and the triage engine, so an emergency still gets the instructions with
the number to call.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Sequence, Tuple

from bot.settings import clinic
from bot.triage import Assessment, assess
from bot.triage_text import describe

logger = logging.getLogger(__name__)


# What the person is told about their message when the turn failed as a whole: True (it was
# stored; nothing to say), False (it could not be stored: the database is down), None (unknown).
SAVED_NOTE = {
    True: "",
    False: " Your message could not be saved, so please send it again in a few minutes.",
    None: " Your message may not have been saved; if it matters, please send it again in a few minutes.",
}


def trouble_text(saved: Optional[bool] = True) -> str:
    c = clinic()
    return (
        "The assistant is having trouble right now. "
        f"In an emergency call {c.emergency_number}. The clinic's number is {c.phone}."
        # Without the conversation (the database may be down) nobody knows whether it is in crisis
        # mode: the crisis line is in every trouble notice, so a crisis conversation never loses it.
        f" If you are thinking about hurting yourself, call or text {c.crisis_line}."
        + SAVED_NOTE[saved]
    )


def generic_emergency_text() -> str:
    """The emergency message when the person says it is an emergency but names no red flag."""
    c = clinic()
    return (
        f"If you think this is an emergency, call {c.emergency_number} now or go to the nearest "
        "emergency department. Don't wait for an appointment. "
        f"If you are thinking about hurting yourself, you can also call or text {c.crisis_line}."
    )


def emergency_custom(text: str) -> Dict[str, Any]:
    """Custom data sent with every emergency message, so channels can make it unmistakable."""
    number = clinic().emergency_number
    return {"emergency": True, "call": number, "tel": f"tel:{number}", "emergency_number": number, "text": text}


def emergency_message(
    texts: Sequence[str], stated_emergency: bool = False, assessment: Optional[Assessment] = None
) -> Optional[Dict[str, Any]]:
    return _emergency(texts, stated_emergency, assessment)[0]


def _emergency(
    texts: Sequence[str], stated_emergency: bool = False, assessment: Optional[Assessment] = None
) -> Tuple[Optional[Dict[str, Any]], Optional[Assessment]]:
    """The emergency message for a conversation whose user texts are `texts`, or None.

    `assessment`: the turn's assessment when the caller has it (rasa_ext.turn); otherwise the engine
    reads `texts`. `stated_emergency`: the caller knows the person states an emergency even though no
    red flag can be named (the engine failed): the more cautious level, the generic message.
    """
    if assessment is None:
        try:
            assessment = assess([t for t in texts if t])
        except Exception:  # noqa: BLE001 - the fail-safe path must answer whatever the engine does
            logger.error("triage engine failed in the fail-safe path")
            assessment = None
    if assessment is not None and assessment.triage_level == "emergency":
        text = describe(assessment, clinic())
    elif stated_emergency:
        text = generic_emergency_text()
    else:
        return None, None
    return {"text": text, "custom": emergency_custom(text)}, assessment


def trouble_message(saved: Optional[bool] = True) -> Dict[str, Any]:
    c = clinic()
    custom = {"failsafe": True, "emergency_number": c.emergency_number, "phone": c.phone}
    if saved is not True:
        custom["saved"] = saved
    return {"text": trouble_text(saved), "custom": custom}


def failsafe_messages(text: str, history: Sequence[str] = (), saved: Optional[bool] = None) -> List[Dict[str, Any]]:
    """Bot messages (Rasa's collector shape: text and custom) for a turn that failed.

    An emergency in `text` (or in the earlier messages `history`, when the caller has them) gets
    the full emergency message (with the number to call) first; every answer ends with the honest
    trouble notice and the numbers, and says whether the message was kept (`saved`: False when it
    could not be stored, None when that is unknown), so nobody believes the assistant remembers it.
    """
    return failsafe_outcome(text, history, saved)[0]


def failsafe_outcome(
    text: str, history: Sequence[str] = (), saved: Optional[bool] = None
) -> Tuple[List[Dict[str, Any]], Optional[Assessment]]:
    """failsafe_messages, and the assessment behind its emergency message (None when it has none,
    or the emergency is only stated): what a decision record of the turn is made of."""
    messages: List[Dict[str, Any]] = []
    emergency, assessment = _emergency([*history, text or ""])
    if emergency is not None:
        messages.append(emergency)
    messages.append(trouble_message(saved))
    return messages, assessment
