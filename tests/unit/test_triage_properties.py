"""Properties of assess() over arbitrary text (hypothesis): it never raises, a red-flag message never
lowers the level, and the order of unrelated messages does not change the level."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.rules import RANK
from bot.triage import LEVELS, assess

# Messages that fire a red flag on their own or together with others.
RED_FLAG_MESSAGES = [
    "I want to end it all",
    "my face is drooping and my speech is slurred",
    "I take phenelzine and tramadol",
    "I take sertraline and my legs keep jerking on their own",
    "I can't breathe",
    "gabapentin and oxycodone",
    "my ankle clonus goes for 10 beats",
    "I stopped clonazepam suddenly yesterday",
    "baclofen pump alarm is beeping",
    "zoloft, lithium and trazodone",
]
# Ordinary messages (no corrections: only an explicit correction may lower the level).
ORDINARY = [
    "hello", "what is clonus?", "I take sertraline", "my ankle bounces when I stand", "I have MS",
    "I feel a bit drowsy", "I take baclofen", "sumatriptan for migraines", "thanks", "can I book an appointment",
    "I have a fever", "my reflexes are jumpy", "I'm sweating a lot", "I take tramadol",
]
words = st.sampled_from(
    ["I", "take", "zoloft", "no", "fever", "molly", "acid", "sorry", "not", "jerking", "on", "their", "own",
     "stopped", "2", "days", "ago", "baclofen", "pump", "blue", "lips", "seizure", "😀", "\x00", "mg", "10", ",", "."]
)
garbage = st.one_of(st.text(max_size=300), st.lists(words, max_size=30).map(" ".join))
ordinary = st.sampled_from(ORDINARY)
settings.register_profile("engine", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("engine")


@given(st.lists(garbage, max_size=4))
def test_assess_never_raises(messages):
    # strict=True: an error inside the engine raises here instead of being logged and skipped at the
    # conversation boundary, so this test sees every crash.
    a = assess(messages, strict=True)
    assert a.triage_level in LEVELS
    d = a.to_dict()
    assert set(d) == {"triage_level", "red_flags", "medications", "unrecognised", "symptoms"}
    assert all(m["status"] in ("current", "past", "hypothetical") for m in d["medications"])


def test_the_boundary_logs_an_engine_error_at_error_without_the_text(monkeypatch, caplog):
    import bot.triage as triage

    def broken(text, patient=None):
        raise RuntimeError("boom")

    monkeypatch.setattr(triage, "analyse", broken)
    secret = "my legs keep jerking, my phone is 312 555 0199"
    with caplog.at_level("ERROR", logger="bot.triage"):
        a = assess([secret])
    assert a.triage_level == "self_care"  # the message counts as unread, the conversation still answers
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert errors and all(secret not in r.getMessage() and "555" not in r.getMessage() for r in errors)
    import pytest

    with pytest.raises(RuntimeError):
        assess([secret], strict=True)


@given(st.lists(ordinary, max_size=4), st.sampled_from(RED_FLAG_MESSAGES))
def test_a_red_flag_message_never_lowers_the_level(before, red):
    start = assess(before).triage_level if before else "self_care"
    after = assess(before + [red])
    assert RANK[after.triage_level] >= RANK[start]
    assert after.red_flags, "the red-flag message fired nothing"


@given(st.lists(ordinary, max_size=4), st.lists(garbage, max_size=2))
def test_adding_any_non_correction_message_never_lowers_the_level(before, extra):
    extra = [e for e in extra if not any(w in e.lower() for w in ("sorry", "actually", "mean", "oops", "wrong", "mistake", "clarif", "scratch", "ignore", "true", "misspoke"))]
    start = assess(before).triage_level
    assert RANK[assess(before + extra).triage_level] >= RANK[start]


@given(st.permutations(["I take sertraline", "hello", "my legs keep jerking on their own", "what is clonus?", "thanks"]))
def test_order_of_messages_does_not_change_the_level(messages):
    assert assess(messages).triage_level == "emergency"


@given(st.lists(ordinary, min_size=2, max_size=5, unique=True), st.randoms())
def test_order_of_ordinary_messages_does_not_change_the_level(messages, rnd):
    shuffled = list(messages)
    rnd.shuffle(shuffled)
    assert assess(messages).triage_level == assess(shuffled).triage_level
