"""What counts as an answer to the question a form just asked.

Rasa's `from_text` mappings refuse an answer when the classifier gave it an intent that means
"the person changed the subject" (a question, cancel, ...). Answers to form questions are often
short and unusual ("Jane Testperson", "when I stand up"), and the classifier can put them under
such an intent with low confidence. These helpers take the typed text as the answer unless the
classifier is confident that it is an interruption, or the text plainly fits the slot.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from rasa_sdk import Tracker

from bot.intake import is_plain_answer

INTERRUPTIONS = frozenset(
    {"cancel", "education", "emergency", "ask_why", "request_human", "bot_challenge", "goodbye", "thankyou", "book_appointment"}
)
CONFIDENT = 0.9


def typed_answer(
    tracker: Tracker,
    slot: str,
    fits: Optional[Callable[[str], bool]] = None,
    always_if_fits: bool = False,
    plain_answers: bool = False,
) -> Optional[str]:
    """The latest message as the answer for `slot`, or None when it is not one.

    With `plain_answers`, a short reply that answers any question ("nothing", "its random",
    "nothing sets it off") is taken whatever the classifier made of it: it never cancels the form.
    """
    if tracker.get_slot("requested_slot") != slot:
        return None
    message = tracker.latest_message or {}
    text = latest_text(tracker)
    if not text:
        return None
    intent = message.get("intent") or {}
    if intent.get("name") == "dont_know" and not fits:
        return None  # the slot mapping already records "not sure"
    if plain_answers and is_plain_answer(text):
        return text
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


#: The key of a user message's metadata under which a channel records the button a typed reply
#: chose (the message keeps the person's own words as its text: rasa_ext.channels.button_message).
BUTTON_METADATA_KEY = "button"


def is_button_choice(message: Dict[str, Any]) -> bool:
    """A button press: a payload ("/intent") or a button's title typed out. Either is a choice, not an
    answer or a description."""
    text = (message.get("text") or "").strip()
    return text.startswith("/") or bool((message.get("metadata") or {}).get(BUTTON_METADATA_KEY))


def latest_text(tracker: Tracker) -> str:
    """The person's latest message as typed; "" for a button choice, which is no answer."""
    message = tracker.latest_message or {}
    return "" if is_button_choice(message) else (message.get("text") or "").strip()


def session_user_texts(tracker: Tracker) -> List[str]:
    """What the person typed in this session (not button payloads), oldest first."""
    texts: List[str] = []
    for event in tracker.events:
        if event.get("event") == "session_started":
            texts = []
        elif event.get("event") == "user":
            text = (event.get("text") or "").strip()
            if text and not is_button_choice(event):
                texts.append(text)
    return texts


def unfilled(tracker: Tracker, slots: Any) -> List[str]:
    return [slot for slot in slots if tracker.get_slot(slot) in (None, "")]


def first_answers(found: Dict[str, str], tracker: Tracker, slots: Any) -> Dict[str, str]:
    """`found` restricted to the slots that are still empty."""
    empty = set(unfilled(tracker, slots))
    return {slot: value for slot, value in found.items() if slot in empty}
