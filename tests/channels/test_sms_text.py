"""rasa_ext.channels.sms: E.164, masking, carrier keywords, numbered options, splitting, one turn as
SMS text. (Signatures are the `twilio` package's: see test_sms_webhook.py.)"""

from __future__ import annotations

import pytest

from rasa_ext.channels import sms


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("+15550100199", "+15550100199"),
        ("(555) 010-0199", "+15550100199"),
        ("555.010.0199", "+15550100199"),
        ("+1 555 010 0199", "+15550100199"),
        ("+44 7700 900123", "+447700900123"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("12345", None),  # short code
        ("+1555", None),
        ("not a number", None),
        ("", None),
        (None, None),
        ("+1" + "5" * 60, None),
    ],
)
def test_normalize_e164(raw, expected):
    assert sms.normalize_e164(raw) == expected


def test_normalize_e164_uses_default_region():
    assert sms.normalize_e164("07700 900123", "GB") == "+447700900123"


@pytest.mark.parametrize(
    "number,masked",
    [
        ("+15550100199", "+1********99"),
        ("+447700900123", "+44********23"),
        ("", "<none>"),
        (None, "<none>"),
        ("123", "***"),
    ],
)
def test_mask_phone(number, masked):
    assert sms.mask_phone(number) == masked
    if number and len(number) > 6:
        assert number[3:-2] not in sms.mask_phone(number)


@pytest.mark.parametrize(
    "text,keyword",
    [
        ("STOP", "stop"),
        ("stop", "stop"),
        (" Stop. ", "stop"),
        ("STOP!", "stop"),
        ("stopall", "stop"),
        ("Stop all", "stop"),
        ("UNSUBSCRIBE", "stop"),
        ("cancel", "stop"),
        ("END", "stop"),
        ("quit", "stop"),
        ("REVOKE", "stop"),
        ("opt out", "stop"),
        ("OPTOUT", "stop"),
        ("ＳＴＯＰ", "stop"),  # full-width letters (NFKC)
        ("START", "start"),
        ("unstop", "start"),
        ("Yes", "start"),
        ("HELP", "help"),
        ("help?", "help"),
        ("info", "help"),
        ("stop the jerking", None),
        ("please help me my legs are jerking", None),
        ("I can't stop shaking", None),
        ("1", None),
        ("", None),
        (None, None),
    ],
)
def test_classify_keyword(text, keyword):
    assert sms.classify_keyword(text) == keyword


def test_help_message_names_clinic_phone_and_emergency_number():
    text = sms.help_message("Riverside Neurology Clinic", "+1 555 010 0199", "911")
    assert "Riverside Neurology Clinic" in text and "+1 555 010 0199" in text and "911" in text
    assert "STOP" in text
    assert sms.sms_length(text) <= 160 * 2


def test_stop_and_start_messages_tell_how_to_come_back():
    assert "START" in sms.stop_message("Clinic", "911") and "911" in sms.stop_message("Clinic", "911")
    assert "STOP" in sms.start_message("Clinic")


BUTTONS = [
    {"title": "Book an appointment", "payload": "/book_appointment"},
    {"title": "Ask a question", "payload": "/education"},
    {"title": "**Yes**", "payload": '/affirm{"x": "y"}'},
]


def test_options_text_numbers_buttons():
    assert sms.options_text(BUTTONS) == ("Reply 1 for Book an appointment\nReply 2 for Ask a question\nReply 3 for Yes")
    assert sms.options_text(BUTTONS[:1], start=4) == "Reply 4 for Book an appointment"


@pytest.mark.parametrize(
    "reply,payload",
    [
        ("1", "/book_appointment"),
        (" 2 ", "/education"),
        ("3.", '/affirm{"x": "y"}'),
        ("#1", "/book_appointment"),
        ("Option 2", "/education"),
        ("１", "/book_appointment"),  # full-width digit
        ("book an appointment", "/book_appointment"),
        ("Book an appointment!", "/book_appointment"),
        ("ASK A QUESTION", "/education"),
        ("yes", '/affirm{"x": "y"}'),
        ("4", None),
        ("0", None),
        ("12", None),
        ("book", None),
        ("I want to book an appointment tomorrow", None),
        ("", None),
    ],
)
def test_select_option(reply, payload):
    assert sms.select_option(reply, BUTTONS) == payload


def test_select_option_without_buttons():
    assert sms.select_option("1", []) is None


def test_select_option_falls_back_to_title_without_payload():
    assert sms.select_option("1", [{"title": "Monday 9 AM"}]) == "Monday 9 AM"


def test_plain_text_turns_markdown_into_sms_text():
    assert sms.plain_text("Call [911](tel:911) now. See [our page](https://example.org/a).") == (
        "Call 911 (911) now. See our page (https://example.org/a)."
    )
    assert sms.plain_text("**Call 911 now**") == "Call 911 now"
    assert sms.plain_text("a\x00b\x1fc") == "abc"
    # A link to another scheme stays as it was (nothing to click in an SMS anyway).
    assert sms.plain_text("[x](javascript:alert(1))") == "[x](javascript:alert(1))"


def test_sms_length_counts_utf16_units():
    assert sms.sms_length("abc") == 3
    assert sms.sms_length("é") == 1
    assert sms.sms_length("👋") == 2


def test_short_text_is_one_message():
    assert sms.split_message("Hello") == ["Hello"]
    assert sms.split_message("") == []
    assert sms.split_message("x" * 1600) == ["x" * 1600]


def _assert_split(text, pieces, limit=sms.SMS_MAX_CHARS):
    assert pieces
    assert all(0 < sms.sms_length(p) <= limit for p in pieces)
    # Nothing lost or reordered: only the whitespace at the cuts differs.
    assert "".join("".join(p.split()) for p in pieces) == "".join(text.split())


def test_long_text_splits_at_words():
    text = " ".join(f"word{i}" for i in range(2000))
    pieces = sms.split_message(text)
    _assert_split(text, pieces)
    assert len(pieces) >= 8
    assert all(not p.endswith("wor") for p in pieces)
    assert all(p.split()[-1].startswith("word") and p.split()[-1][4:].isdigit() for p in pieces)


def test_split_prefers_paragraphs_then_sentences():
    para = "First sentence here. " * 50  # ~1050 chars
    text = para.strip() + "\n\n" + para.strip()
    pieces = sms.split_message(text)
    assert pieces == [para.strip(), para.strip()]
    sentences = "This is one sentence. " * 120  # ~2640 chars, no paragraphs
    pieces = sms.split_message(sentences)
    _assert_split(sentences, pieces)
    assert all(p.endswith(".") for p in pieces)


def test_split_hard_cuts_a_run_without_spaces():
    text = "x" * 10_000
    pieces = sms.split_message(text)
    assert pieces == ["x" * 1600] * 6 + ["x" * 400]


def test_split_never_breaks_an_emoji():
    text = "😀" * 2000  # 4000 UTF-16 units
    pieces = sms.split_message(text)
    _assert_split(text, pieces)
    assert all(sms.sms_length(p) <= 1600 for p in pieces)
    assert "".join(pieces) == text
    family = "👨\u200d👩\u200d👧" * 600
    pieces = sms.split_message(family)
    assert "".join(pieces) == family
    assert all(not p.endswith("\u200d") and not p.startswith("\u200d") for p in pieces)


def test_split_rejects_silly_limit():
    with pytest.raises(ValueError):
        sms.split_message("abc", limit=3)


def test_join_turn_keeps_order_and_drops_empties():
    assert sms.join_turn(["one", " ", "two ", ""]) == "one\n\ntwo"


def test_render_turn_numbers_buttons_across_the_turn():
    turn = [
        {"text": "Hello! I am an automated assistant, not a doctor."},
        {"text": "What would you like to do?", "buttons": BUTTONS[:2]},
        {"text": "Or:", "quick_replies": [{"title": "Talk to a person", "payload": "/request_human"}]},
    ]
    assert sms.render_turn(turn) == (
        "Hello! I am an automated assistant, not a doctor.\n\n"
        "What would you like to do?\nReply 1 for Book an appointment\nReply 2 for Ask a question\n\n"
        "Or:\nReply 3 for Talk to a person"
    )
    assert [b["payload"] for b in sms.turn_buttons(turn)] == ["/book_appointment", "/education", "/request_human"]
    assert sms.select_option("3", sms.turn_buttons(turn)) == "/request_human"


def test_render_turn_emergency_text_and_json_is_sent_once_with_the_number():
    text = "Call 911 now. Do not wait for an appointment."
    both = [{"text": text, "custom": {"emergency": True, "text": text, "call": "911"}}]
    assert sms.render_turn(both) == "EMERGENCY: " + text
    # Rasa sends text and custom of one response as one message; a second message with the
    # same JSON must not repeat the text either.
    split = [{"text": text}, {"custom": {"emergency": True, "text": text, "call": "911"}}]
    assert sms.render_turn(split) == "EMERGENCY: " + text
    only_json = [{"custom": {"emergency": True, "text": "Go to the emergency department now.", "call": "911"}}]
    assert sms.render_turn(only_json) == "EMERGENCY: Go to the emergency department now.\n\nCall 911 now."
    assert sms.is_emergency(only_json[0]) and not sms.is_emergency({"text": "hi"})


def test_render_turn_never_shows_raw_json():
    assert sms.render_turn([{"custom": {"some": "widget data"}}]) == ""
    assert sms.render_turn([{"custom": {"text": "plain"}}]) == "plain"
    assert sms.render_turn([{"text": "See", "image": "https://example.org/a.png"}]) == "See\nhttps://example.org/a.png"
