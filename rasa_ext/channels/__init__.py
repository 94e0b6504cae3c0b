"""Input channels of the assistant: the website widget (`widget.WidgetInput`) and the signed
Twilio SMS webhook (`twilio_sms.TwilioSmsInput`), plus what they share."""

from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Sequence

from sanic.request import Request

logger = logging.getLogger(__name__)

# Longest user message handed to the assistant; longer text is cut (nobody types more in a chat,
# and the NLU pipeline and the triage engine should not be fed megabytes).
DEFAULT_MAX_MESSAGE_CHARS = 2000


async def last_bot_turn(request: Request, sender_id: str) -> List[Dict[str, Any]]:
    """The bot messages sent after the conversation's last user message (oldest first), as the
    `data` of their BotUttered events; [] for a new conversation or without a tracker store."""
    agent = getattr(request.app.ctx, "agent", None)
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return []
    try:
        tracker = await store.retrieve(sender_id)
    except Exception:  # a broken store must not break the channel; the message still goes through
        logger.exception("could not read the conversation to resolve a reply")
        return []
    if tracker is None:
        return []
    turn: List[Dict[str, Any]] = []
    for event in reversed(tracker.events):
        name = type(event).__name__
        if name == "UserUttered":
            break
        if name == "BotUttered":
            turn.append(dict(getattr(event, "data", None) or {}, text=getattr(event, "text", None)))
    return list(reversed(turn))


def button_payloads(messages: Sequence[Dict[str, Any]]) -> List[str]:
    out = []
    for message in messages:
        for button in message.get("buttons") or message.get("quick_replies") or []:
            if isinstance(button, dict) and isinstance(button.get("payload"), str):
                out.append(button["payload"])
    return out


_INTENT_PREFIX = re.compile(r"^\s*/+")


def neutralise_payload(text: str, allowed: Sequence[str]) -> str:
    """Typed text that looks like a Rasa payload ("/intent{...}") unless it is one of `allowed`.

    Rasa parses "/intent{"slot": "value"}" from any channel without NLU, so a user could set
    entities (and slots) or jump to any intent by typing one. Only the payloads of the buttons the
    bot just showed (and the widget's opening payload) may pass; other text loses its leading
    slash and goes through NLU like any sentence.
    """
    if not _INTENT_PREFIX.match(text or ""):
        return text
    if text.strip() in allowed:
        return text.strip()
    return _INTENT_PREFIX.sub("", text)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit]
