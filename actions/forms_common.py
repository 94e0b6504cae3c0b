"""What counts as an answer to the question a form just asked.

Rasa's `from_text` mappings refuse an answer when the classifier gave it an intent that means
"the person changed the subject" (a question, cancel, ...). Answers to form questions are often
short and unusual ("Jane Testperson", "when I stand up"), and the classifier can put them under
such an intent with low confidence. These helpers take the typed text as the answer unless the
classifier is confident that it is an interruption, or the text plainly fits the slot.
"""

from __future__ import annotations

from typing import Callable, Optional

from rasa_sdk import Tracker

INTERRUPTIONS = frozenset(
    {"cancel", "education", "emergency", "ask_why", "request_human", "bot_challenge", "goodbye", "thankyou", "book_appointment"}
)
CONFIDENT = 0.9


def typed_answer(
    tracker: Tracker,
    slot: str,
    fits: Optional[Callable[[str], bool]] = None,
    always_if_fits: bool = False,
) -> Optional[str]:
    """The latest message as the answer for `slot`, or None when it is not one."""
    if tracker.get_slot("requested_slot") != slot:
        return None
    message = tracker.latest_message or {}
    text = (message.get("text") or "").strip()
    if not text or text.startswith("/"):
        return None  # button payloads are intents, not answers
    intent = message.get("intent") or {}
    if intent.get("name") == "dont_know" and not fits:
        return None  # the slot mapping already records "not sure"
    fitting = fits(text) if fits else True
    if not fitting:
        return None
    if always_if_fits and fits:
        return text
    if intent.get("name") in INTERRUPTIONS and (intent.get("confidence") or 0) >= CONFIDENT:
        return None
    if "?" in text and intent.get("name") in INTERRUPTIONS:
        return None
    return text
