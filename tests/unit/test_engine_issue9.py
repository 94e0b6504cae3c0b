"""Issue 9 behaviour of the engine: C-SSRS self-harm screen, unknown names said back, wording that
follows the experiencer, asked-about combinations, the rule registry, the incremental Assessor, the
--jsonl command line and the compiled knowledge cache."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot import rules
from bot.medications import analyse, build_index
from bot.triage import Assessor, assess, assess_incremental

ROOT = Path(__file__).resolve().parents[2]

# ------------------------------------------------------------------------------ self-harm (C-SSRS)
AFFIRMED = [
    "I wish I could go to sleep and not wake up",  # 1 wish to be dead
    "honestly everyone would be better off without me",
    "I keep thinking about killing myself",  # 2 active thoughts
    "I know how I'd do it",  # 3-5 method, intent, plan
    "I've been saving up my pills",  # 6 preparation
    "ive thought about taking all my gabapentin at once",
    "how many baclofen is enough to not wake up",
    "sometimes I want to die",
]
DENIED = [
    "no thoughts of hurting myself",
    "I have zero thoughts of suicide",
    "I'm not suicidal, I just have ankle clonus",
    "I would never kill myself",
    "my friend was suicidal last year",
]


@pytest.mark.parametrize("text", AFFIRMED)
def test_self_harm_affirmed_is_an_emergency(text):
    a = assess([text], strict=True)
    assert "RF-SELF-HARM" in a.rule_ids and a.triage_level == "emergency"


@pytest.mark.parametrize("text", DENIED)
def test_self_harm_denied_does_not_fire(text):
    assert "RF-SELF-HARM" not in assess([text], strict=True).rule_ids


# ------------------------------------------------------------------------------ unknown names
@pytest.mark.parametrize(
    "text, word",
    [("I'm on zelvorin 20mg", "zelvorin"), ("she's on Quarnexa infusions", "Quarnexa"), ("nothing except zelvorin", "zelvorin"),
     ("they gave him plorexafen at the ER", "plorexafen"), ("a biologic called vartexa", "vartexa"),
     ("plonterase 500 twice daily", "plonterase"), ("zelvorin 20mg and Plutravex", "Plutravex")],
)
def test_medicine_like_words_are_said_back(text, word):
    assert word in analyse(text).unrecognised
    assert word in assess([text], strict=True).unrecognised


# ------------------------------------------------------------------------------ wording
def test_a_caregiver_never_reads_you_take():
    a = assess(["My mother takes sertraline and tramadol"], strict=True)
    reasons = " ".join(f.reason for f in a.red_flags)
    assert "COMBO-HIGH-OPIOID" in a.rule_ids
    assert "Your mother takes" in reasons and "You take" not in reasons


def test_a_pronoun_caregiver_reads_she_takes():
    a = assess(["she is on phenelzine and they gave her tramadol"], strict=True)
    assert a.red_flags and all("You take" not in f.reason for f in a.red_flags)
    assert any(f.reason.startswith("She takes") for f in a.red_flags)


def test_the_mom_on_zyvox_and_cymbalta_gets_the_check():
    a = assess(["they gave my mom zyvox in the hospital… she's on cymbalta… should i worry"], strict=True)
    assert "COMBO-MAOI" in a.rule_ids
    assert {"linezolid", "duloxetine"} <= {m.name for m in a.medications if m.status == "current"}
    assert all("You take" not in f.reason for f in a.red_flags)


def test_an_asked_about_combination_is_told_not_triaged():
    a = assess(["hypothetically, if I took tramadol with my Effexor"], strict=True)
    assert a.triage_level == "self_care" and not a.red_flags  # policy section 4: only current medicines
    assert [f.id for f in a.asked] == ["COMBO-HIGH-OPIOID"]
    assert a.asked[0].reason.startswith("Taking tramadol with venlafaxine could")
    assert {"name": "tramadol", "classes": ["opioid", "serotonergic_opioid"], "status": "hypothetical",
            "mentioned_as": "tramadol"} in a.to_dict()["medications"]


def test_self_reads_you():
    a = assess(["I take sertraline and tramadol"], strict=True)
    assert a.red_flags[0].reason.startswith("You take sertraline and tramadol")


# ------------------------------------------------------------------------------ the registry
def test_every_rule_is_registered_once_with_its_levels():
    # 29 policy rules, the two issue 10 added where the policy is silent (RF-STATED-EMERGENCY, RF-UNRESPONSIVE),
    # SEIZURE-HISTORY (issue 9: a known history of seizures, none now; the policy is silent), and RF-OVERDOSE
    # (an overdose taken; the policy is silent)
    assert len(rules.RULE_IDS) == len(set(rules.RULE_IDS)) == 33
    assert rules.RULE_IDS[0] == "SS-HUNTER" and rules.RULE_IDS[-1] == "CL-BRIEF"
    assert rules.RULES["COMBO-MAOI"].levels == ("urgent",)
    assert rules.RULES["RX-TIZANIDINE-CYP1A2"].escalation.startswith("fainting")
    assert {r.id for r in rules.RULES.values() if r.section6} == {"CL-SUSTAINED", "CL-KNOWN-CONDITION", "CL-BRIEF"}


def test_a_new_rule_is_one_decorated_function(monkeypatch):
    monkeypatch.setattr(rules, "RULES", dict(rules.RULES))

    @rules.rule("COMBO-TEST", level="routine", escalation="a test sign")
    def combo_test(s):
        return rules.fire("routine", "test reason") if s.has("fever") else None

    flags = rules.evaluate(rules.ConversationState(features={"fever"}))
    assert any(f.id == "COMBO-TEST" and f.level == "routine" for f in flags)
    with pytest.raises(ValueError):
        rules.rule("COMBO-TEST", level="routine")(combo_test)


def test_a_rule_cannot_give_a_level_it_did_not_declare(monkeypatch):
    monkeypatch.setattr(rules, "RULES", {})
    rules.rule("X-BAD", level="routine")(lambda s: rules.fire("emergency", "x"))
    with pytest.raises(ValueError, match="X-BAD gave level 'emergency'"):
        rules.evaluate(rules.ConversationState())


# ------------------------------------------------------------------------------ incremental
CONVERSATIONS = [
    ["hi", "I take zoloft", "my doctor added tramadol 3 days ago", "now my legs keep jerking on their own"],
    ["i'm on lexapro and tramadol", "actually I'm not on tramadol, that was my husband's prescription. just lexapro"],
    ["hello", "it's for my mom", "she takes phenelzine", "and the dentist gave her tramadol"],
    ["I have a fever", "sorry, I meant I do NOT have a fever", "I take sertraline"],
    ["zelvorin 20mg", "my ankle does 3 beats and stops"],
]


@pytest.mark.parametrize("conversation", CONVERSATIONS)
def test_incremental_equals_whole(conversation):
    state = None
    for i, message in enumerate(conversation, start=1):
        state = assess_incremental(state, message)
        assert state.assessment.to_dict() == assess(conversation[:i], strict=True).to_dict()


def test_an_assessor_reads_each_message_once(monkeypatch):
    import bot.triage as triage

    calls = []
    real = triage._read
    monkeypatch.setattr(triage, "_read", lambda text, patient: calls.append(text) or real(text, patient))
    a = Assessor(strict=True)
    for text in ["I take zoloft", "what is clonus?", "thanks", "my legs are fine"]:
        a.add(text)
    assert calls == ["I take zoloft", "what is clonus?", "thanks", "my legs are fine"]


# ------------------------------------------------------------------------------ command line
def test_jsonl_one_result_per_line_in_the_json_shape():
    lines = [json.dumps(["I take zoloft and tramadol"]), json.dumps(["hello", "my face is drooping"]), "not json",
             json.dumps({"a": 1})]
    proc = subprocess.run([sys.executable, "-m", "bot", "assess", "--jsonl"], input="\n".join(lines) + "\n",
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(out) == 4
    assert out[0] == assess(["I take zoloft and tramadol"]).to_dict()
    assert out[1]["triage_level"] == "emergency"
    assert set(out[2]) == {"error"} and set(out[3]) == {"error"}
    assert proc.returncode == 1  # some lines failed
    assert "zoloft" not in proc.stderr


# ------------------------------------------------------------------------------ compiled cache
def test_the_compiled_index_is_cached_and_rebuilt_when_the_file_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("CLONUS_CACHE_DIR", str(tmp_path / "cache"))
    source = ROOT / "bot" / "knowledge" / "medicines.yml"
    kb = tmp_path / "medicines.yml"
    kb.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    first = build_index(kb)
    files = list((tmp_path / "cache").glob("medicines-*.pickle"))
    assert len(files) == 1
    assert build_index(kb).phrases == first.phrases  # read back from the cache
    kb.write_text(kb.read_text(encoding="utf-8").replace("Zoloft", "Zolofty", 1), encoding="utf-8")
    changed = build_index(kb)
    assert len(list((tmp_path / "cache").glob("medicines-*.pickle"))) == 2
    assert changed.phrases != first.phrases


# ------------------------------------------------------------------------------ the recall seam
def test_the_recall_layer_adds_what_the_lexicon_misses():
    from bot.symptoms import extract
    from bot.triage import proposed_features, readers

    assert [name for name, _, _ in readers()] == ["ngram", "embed"], "both readers are on by default"
    text = "she suddenly dropped to the floor and was out cold, her arms were jerking"
    assert "loss_of_consciousness" not in extract(text).present  # the lexicon alone misses it
    assert "loss_of_consciousness" in proposed_features(text, extract(text), None)
    assert "RF-SEIZURE" in assess([text], strict=True).rule_ids


def test_the_recall_layer_reads_only_asserted_words(monkeypatch):
    import bot.triage as triage
    from bot.symptoms import extract

    seen = []
    monkeypatch.setattr(triage, "_PROPOSE", [[("ngram", lambda text: seen.append(text) or {"seizure": 1.0}, 0.8)]])
    text = "no seizure and no thoughts of hurting myself"
    assert triage.proposed_features(text, extract(text), None) == []  # the lexicon found seizure (denied): it decides
    assert "seizure" not in seen[0] and "hurting" not in seen[0]


def test_every_reader_reads_only_asserted_words_and_the_lexicons_denial_decides(monkeypatch):
    import bot.triage as triage
    from bot.symptoms import extract

    seen = []
    ngram = ("ngram", lambda text: seen.append(("ngram", text)) or {"seizure": 1.0}, 0.8)
    embed = ("embed", lambda text: seen.append(("embed", text)) or {"seizure": 1.0, "self_harm": 1.0}, 0.9)
    monkeypatch.setattr(triage, "_PROPOSE", [[ngram, embed]])
    text = "no seizure, and she ate her lunch. my uncle had a stroke"
    out = triage.proposed_features(text, extract(text), None)
    assert [name for name, _ in seen] == ["ngram", "embed"]
    assert seen[0][1] == seen[1][1] and "uncle" not in seen[1][1] and "stroke" not in seen[1][1]
    assert "seizure" not in out  # denied by the lexicon in this message: the lexicon decides
    assert "self_harm" in out  # the lexicon found nothing of it: the reader adds it
