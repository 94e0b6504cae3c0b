"""What a person reads when the assistant cannot answer normally: the action server is down or
slow, or the conversation cannot be stored.

Shared by the Rasa server (a failed custom action) and the channels (a turn that could not be
stored): it needs neither the action server nor the database, only the clinic profile and the
triage engine, so an emergency still gets the instructions with the number to call.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List

from bot.settings import clinic
from bot.triage import assess
from bot.triage_text import describe

logger = logging.getLogger(__name__)


def trouble_text() -> str:
    c = clinic()
    return (
        "The assistant is having trouble right now. "
        f"In an emergency call {c.emergency_number}. The clinic's number is {c.phone}."
    )


def failsafe_messages(text: str) -> List[Dict[str, Any]]:
    """Bot messages (Rasa's collector shape: text and custom) for a turn that failed.

    An emergency in `text` gets the full emergency message (with the number to call) first;
    every answer ends with the honest trouble notice and the numbers.
    """
    messages: List[Dict[str, Any]] = []
    c = clinic()
    try:
        assessment = assess([text or ""])
    except Exception:  # the fail-safe path must answer whatever the engine does
        logger.error("triage engine failed in the fail-safe path", exc_info=False)
        assessment = None
    if assessment is not None and assessment.triage_level == "emergency":
        messages.append(
            {
                "text": describe(assessment, c),
                "custom": {"emergency": True, "emergency_number": c.emergency_number},
            }
        )
    messages.append({"text": trouble_text(), "custom": {"failsafe": True, "emergency_number": c.emergency_number}})
    return messages
