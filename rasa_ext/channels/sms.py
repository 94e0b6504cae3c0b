"""Plain-Python helpers for the SMS channel: phone numbers, carrier keywords, numbered options,
message splitting and one bot turn as SMS text. No Rasa imports, so every rule here is
unit-testable. (Signatures and TwiML come from the `twilio` package: see twilio_sms.py.)"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Iterable, List, Mapping, Optional, Sequence

import phonenumbers

# Twilio refuses a message body longer than 1,600 characters.
SMS_MAX_CHARS = 1600


# --- phone numbers ---------------------------------------------------------------------------


def normalize_e164(raw: Optional[str], default_region: str = "US") -> Optional[str]:
    """The number in E.164 form (+15550100199), or None when it cannot be a phone number.

    "Possible" rather than "valid" on purpose: the validity tables lag behind numbering plans, and
    fictional 555 numbers used in tests and demos are possible but not valid.
    """
    if not raw or not isinstance(raw, str):
        return None
    text = raw.strip()
    if len(text) > 40:
        return None
    try:
        number = phonenumbers.parse(text, (default_region or "US").upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(number: Optional[str]) -> str:
    """A phone number safe for logs: country code and the last two digits only (+1********99)."""
    if not number:
        return "<none>"
    digits = re.sub(r"\D", "", str(number))
    if len(digits) < 6:
        return "***"
    country = ""
    try:
        parsed = phonenumbers.parse(str(number) if str(number).startswith("+") else "+" + digits, None)
        country = str(parsed.country_code)
    except phonenumbers.NumberParseException:
        country = ""
    rest = digits[len(country) :] if country and digits.startswith(country) else digits
    return "+" + country + "*" * max(len(rest) - 2, 0) + rest[-2:]


# --- carrier keywords ------------------------------------------------------------------------
# The keywords Twilio's default opt-out handling and US carriers (CTIA) act on, plus the FCC's
# 2025 additions. A keyword counts only as the whole message ("stop" yes, "stop the jerking" no).
STOP_KEYWORDS = frozenset(
    {"stop", "stopall", "stop all", "unsubscribe", "cancel", "end", "quit", "revoke", "optout", "opt out", "opt-out"}
)
START_KEYWORDS = frozenset({"start", "unstop", "yes", "subscribe"})
HELP_KEYWORDS = frozenset({"help", "info"})


def _normalise_reply(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").casefold().strip()
    text = re.sub(r"\s+", " ", text)
    # Drop punctuation and symbols around the words ("STOP.", "'yes!'", "1)"), keep inner hyphens.
    return text.strip(" \t\"'`.,;:!?()[]{}<>*#-_~/\\|")


def classify_keyword(text: Optional[str]) -> Optional[str]:
    """'stop', 'start' or 'help' when the whole message is a carrier keyword, else None."""
    word = _normalise_reply(text or "")
    if word in STOP_KEYWORDS:
        return "stop"
    if word in START_KEYWORDS:
        return "start"
    if word in HELP_KEYWORDS:
        return "help"
    return None


def help_message(clinic_name: str, clinic_phone: str, emergency_number: str) -> str:
    return (
        f"{clinic_name}: automated symptom assistant, not a doctor. "
        f"Call us at {clinic_phone}. In an emergency call {emergency_number} now. "
        "Reply STOP to opt out. Msg & data rates may apply."
    )


def stop_message(clinic_name: str, emergency_number: str) -> str:
    return (
        f"You are unsubscribed from {clinic_name} texts and will get no more messages. "
        f"Reply START to resubscribe. In an emergency call {emergency_number}."
    )


def start_message(clinic_name: str) -> str:
    return f"You are resubscribed to {clinic_name} texts. Reply HELP for help, STOP to opt out."


# --- buttons as numbered options -------------------------------------------------------------


def button_title(button: Mapping[str, Any]) -> str:
    return plain_text(str(button.get("title") or button.get("payload") or "")).strip()


def options_text(buttons: Sequence[Mapping[str, Any]], start: int = 1) -> str:
    """'Reply 1 for Yes' / 'Reply 2 for No', one line per button, numbered from `start`."""
    return "\n".join(f"Reply {start + i} for {button_title(b)}" for i, b in enumerate(buttons))


def select_option(reply: Optional[str], buttons: Sequence[Mapping[str, Any]]) -> Optional[str]:
    """The payload the reply picks: its number ("1", "#1", "option 1") or its title's words.

    None when the reply picks no option (it is then ordinary text).
    """
    if not buttons or not reply:
        return None
    word = _normalise_reply(reply)
    number = re.fullmatch(r"(?:option|reply|no\.?|number)?\s*#?\s*(\d{1,3})", word)
    if number:
        index = int(number.group(1)) - 1
        if 0 <= index < len(buttons):
            return str(buttons[index].get("payload") or button_title(buttons[index]))
        return None
    matches = [b for b in buttons if word and _normalise_reply(button_title(b)) == word]
    if len(matches) == 1:
        return str(matches[0].get("payload") or button_title(matches[0]))
    return None


# --- plain text and splitting ----------------------------------------------------------------
_MD_LINK = re.compile(r"\[([^\]\n]{1,200})\]\(((?:https?://|tel:|mailto:)[^\s)]{1,2000})\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
# Characters XML 1.0 (TwiML) cannot carry, and invisible controls a message has no use for.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def plain_text(text: Optional[str]) -> str:
    """Bot text as an SMS shows it: markdown links become 'label (url)', emphasis marks go."""
    if not text:
        return ""
    text = _MD_LINK.sub(
        lambda m: f"{m.group(1)} ({m.group(2)[4:] if m.group(2).startswith('tel:') else m.group(2)})", text
    )
    text = _MD_EMPHASIS.sub(r"\2", text)
    return _CONTROL.sub("", text).strip()


def sms_length(text: str) -> int:
    """Length as Twilio counts it for the 1,600 limit: UTF-16 code units (an emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _fit(text: str, limit: int) -> int:
    """The largest index i such that text[:i] is at most `limit` UTF-16 units."""
    units = 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return i
    return len(text)


def split_message(text: str, limit: int = SMS_MAX_CHARS) -> List[str]:
    """Split into messages of at most `limit` characters, at the best boundary available.

    Paragraph, then line, then sentence, then word; a single run longer than the limit is cut.
    A cut never falls inside a surrogate pair or right before a combining mark.
    """
    if limit < 10:
        raise ValueError("limit too small")
    text = (text or "").strip()
    pieces: List[str] = []
    while text:
        if sms_length(text) <= limit:
            pieces.append(text)
            break
        end = _fit(text, limit)
        window = text[:end]
        cut = -1
        for pattern in (r"\n\s*\n", r"\n", r"[.!?…](?=\s)", r"\s"):
            found = [m for m in re.finditer(pattern, window) if m.end() > limit // 3]
            if found:
                cut = found[-1].end()
                break
        if cut <= 0:
            cut = end
            # Keep a base character together with its combining marks / variation selectors / ZWJ.
            while cut > 1 and (
                unicodedata.combining(text[cut]) or text[cut] in "\u200d\ufe0e\ufe0f" or text[cut - 1] == "\u200d"
            ):
                cut -= 1
        piece = text[:cut].strip()
        if piece:
            pieces.append(piece)
        text = text[cut:].strip()
    return pieces


def join_turn(parts: Iterable[str]) -> str:
    """Several bot messages of one turn as one SMS text (Twilio does not keep the order of
    several messages, so one turn is one body, split only when it is too long)."""
    return "\n\n".join(p for p in (x.strip() for x in parts) if p)


# --- one bot turn as SMS text ----------------------------------------------------------------


def _custom(message: Mapping[str, Any]) -> Mapping[str, Any]:
    custom = message.get("custom")
    return custom if isinstance(custom, Mapping) else {}


def is_emergency(message: Mapping[str, Any]) -> bool:
    """A bot message marked as an emergency (`json_message={"emergency": true, ...}`)."""
    return _custom(message).get("emergency") is True


def message_buttons(message: Mapping[str, Any]) -> List[Mapping[str, Any]]:
    buttons = message.get("buttons") or message.get("quick_replies") or []
    return [b for b in buttons if isinstance(b, Mapping)] if isinstance(buttons, list) else []


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def _mark_emergency(text: str, call: str, label: str) -> str:
    if call and call not in text:
        text = f"{text}\n\nCall {call} now." if text else f"Call {call} now."
    if text and not text.upper().startswith(label.upper()):
        text = f"{label}: {text}"
    return text


def render_turn(messages: Iterable[Mapping[str, Any]], emergency_label: str = "EMERGENCY") -> str:
    """The bot messages of one turn as one SMS text.

    Buttons become "Reply N for ..." lines numbered across the whole turn (the numbering
    `turn_buttons` reproduces when the reply comes back). An emergency message keeps its text,
    starts with `emergency_label`, and always carries the number to call. Other custom JSON is
    never shown raw. Emergency messages come first in the text, before the welcome or anything else
    of the turn, so that the first SMS page (`paginate`) is the emergency itself.
    """
    parts: List[str] = []
    emergency_parts: set = set()
    number = 1
    for message in messages:
        text = plain_text(message.get("text"))
        custom = _custom(message)
        if is_emergency(message):
            extra = plain_text(str(custom.get("text") or ""))
            call = str(custom.get("call") or "").strip()
            earlier = [i for i, p in enumerate(parts) if extra and _squash(extra) in _squash(p)]
            if earlier and not text:
                # The same response already went out as text (Rasa sends text and JSON of one
                # response separately on some paths): mark that part instead of repeating it.
                parts[earlier[-1]] = _mark_emergency(parts[earlier[-1]], call, emergency_label)
                emergency_parts.add(earlier[-1])
            else:
                if extra and _squash(extra) not in _squash(text):
                    text = f"{text}\n\n{extra}" if text else extra
                text = _mark_emergency(text, call, emergency_label)
        elif not text and isinstance(custom.get("text"), str):
            text = plain_text(custom["text"])
        for key in ("image", "attachment"):
            url = message.get(key)
            if isinstance(url, str) and url.startswith(("https://", "http://")):
                text = f"{text}\n{url}" if text else url
        buttons = message_buttons(message)
        if buttons:
            options = options_text(buttons, start=number)
            number += len(buttons)
            text = f"{text}\n{options}" if text else options
        if text:
            if is_emergency(message):
                emergency_parts.add(len(parts))
            parts.append(text)
    first = [p for i, p in enumerate(parts) if i in emergency_parts]
    return join_turn(first + [p for i, p in enumerate(parts) if i not in emergency_parts])


def turn_buttons(messages: Iterable[Mapping[str, Any]]) -> List[Mapping[str, Any]]:
    """Every button of one turn, in the order `render_turn` numbers them."""
    return [b for m in messages for b in message_buttons(m)]


# --- short replies: at most 320 characters, the rest on "MORE" --------------------------------

#: An SMS reply is at most this long (two SMS segments) unless the person asks for more.
SMS_SHORT_CHARS = 320
MORE_HINT = "Reply MORE for the rest."
MORE_KEYWORDS = frozenset({"more", "more please", "more pls", "more plz", "tell me more", "read more", "continue"})
_OPTION_LINE = re.compile(r"^Reply \d+ for .+$")


def asks_for_more(text: Optional[str]) -> bool:
    """The whole message asks for the rest of a long answer ("MORE", "more pls")."""
    return _normalise_reply(text or "") in MORE_KEYWORDS


def paginate(text: str, limit: int = SMS_SHORT_CHARS, emergency_number: Optional[str] = None) -> List[str]:
    """A rendered turn as pages of at most `limit` characters: the first page keeps the numbered
    options ("Reply 1 for ...") so that they can be chosen at once; every page but the last ends with
    MORE_HINT. When the turn gives an emergency number, the first page gives it too."""
    text = (text or "").strip()
    if sms_length(text) <= limit:
        return [text] if text else []
    lines = text.split("\n")
    options = "\n".join(line for line in lines if _OPTION_LINE.match(line.strip()))
    body = "\n".join(line for line in lines if not _OPTION_LINE.match(line.strip())).strip()
    body = re.sub(r"\n{3,}", "\n\n", body)
    first_room = limit - sms_length(MORE_HINT) - 1 - (sms_length(options) + 1 if options else 0)
    if emergency_number and emergency_number in body:
        lead = f"Call {emergency_number} now. "
        if emergency_number not in split_message(body, max(first_room, 40))[0]:
            body = lead + body
    pieces = split_message(body, max(first_room, 40))
    first = pieces[0]
    rest = " ".join(pieces[1:]).strip()
    pages = [first + (f"\n{options}" if options else "")]
    room = limit - sms_length(MORE_HINT) - 1
    pages += split_message(rest, room) if rest else []
    return [page + (f"\n{MORE_HINT}" if i < len(pages) - 1 else "") for i, page in enumerate(pages)]
