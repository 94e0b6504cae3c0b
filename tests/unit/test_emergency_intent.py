"""The `emergency` intent agrees with the triage engine, in both directions (issue 10).

Each row is a real rasa Message carrying the intent and ranking a classifier could give it (the WRONG
one: a confident `emergency` for everyday input, a confident other intent for a stated emergency), run
through EmergencyIntentReconciler.process as the NLU graph runs it.
"""

from __future__ import annotations

import subprocess
from typing import List, Optional, Tuple

import pytest
import yaml
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message

from bot.triage import assess, read_message, states_emergency
from rasa_ext.emergency_intent import (
    CLASSIFIER,
    CLASSIFIER_AND_SIGN,
    CRY_FOR_HELP,
    DECISION_KEY,
    ENGINE,
    ENGINE_OVERRULED,
    EmergencyIntentReconciler,
)
from tests.conftest import ROOT

Ranking = List[Tuple[str, float]]


@pytest.fixture
def component(tmp_path) -> EmergencyIntentReconciler:
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    mine = next(c for c in config["pipeline"] if c["name"].endswith("EmergencyIntentReconciler"))
    return EmergencyIntentReconciler.create(
        {**EmergencyIntentReconciler.get_default_config(), **{k: v for k, v in mine.items() if k != "name"}},
        LocalModelStorage(tmp_path),
        Resource("emergency_intent"),
        ExecutionContext(graph_schema=None),  # type: ignore[arg-type]
    )


def message(text: str, ranking: Ranking, intent: Optional[str] = None) -> Message:
    items = [{"name": n, "confidence": c} for n, c in ranking]
    top = {"name": intent, "confidence": 0.4} if intent else dict(items[0])
    return Message(data={"text": text, "intent": top, "intent_ranking": items})


def run(component: EmergencyIntentReconciler, msg: Message) -> Message:
    out = component.process([msg])
    assert len(out) == 1
    return out[0]


# --- stated emergencies: `emergency` whatever the classifier said -------------------------------------

STATED = [
    "ambulance",
    "we need an ambulance at my house",
    "call 911 for me",
    "pls someone dial 911",
    "husband collapsed and isnt moving",
    "my dad just collapsed in the kitchen and hes not responding",
    "passed out and barely breathing",
    "shes hardly breathing and wont wake up",
    "friend od'd and is unconscious",
    "my wife is unconscious on the floor",
    "hes out cold and i cant get him up",
    "my son fell over and is lying there limp",
    "omg she just went stiff and was shaking all over and now shes not answering me",
    "he is not breathing",
    "everyone would be better off without me",
    "yeah. i have a lot of my pills saved up",
]

WRONG_INTENTS: List[Ranking] = [
    [("goodbye", 0.81), ("emergency", 0.09), ("greet", 0.05), ("affirm", 0.05)],
    [("report_symptom", 0.7), ("emergency", 0.2), ("education", 0.1)],
    [("book_appointment", 0.93), ("report_symptom", 0.04), ("emergency", 0.03)],
]


@pytest.mark.parametrize("ranking", WRONG_INTENTS, ids=["goodbye", "report_symptom", "book_appointment"])
@pytest.mark.parametrize("text", STATED)
def test_a_stated_emergency_is_the_emergency_intent_whatever_the_classifier_said(component, text, ranking):
    out = run(component, message(text, ranking))
    assert out.get("intent")["name"] == "emergency"
    # the classifier's ranking is kept as it was, for debugging and for the policies that read it
    assert [(r["name"], r["confidence"]) for r in out.get("intent_ranking")] == ranking
    assert out.get(DECISION_KEY)["decided_by"] == ENGINE
    assert out.get(DECISION_KEY)["classifier_intent"] == ranking[0][0]


def test_a_stated_emergency_after_the_fallback_classifier_is_the_emergency_intent(component):
    # FallbackClassifier already made it nlu_fallback: the engine's emergency still wins
    out = run(component, message("my husband collapsed and isnt moving", [("nlu_fallback", 0.4), ("goodbye", 0.3),
                                                                         ("emergency", 0.25)]))
    assert out.get("intent")["name"] == "emergency"


@pytest.mark.parametrize("text", ["ambulance", "call 911 for me", "husband collapsed and isnt moving"])
def test_an_emergency_the_classifier_also_heard_stays_and_records_the_engine_rules(component, text):
    out = run(component, message(text, [("emergency", 0.9), ("report_symptom", 0.1)]))
    assert out.get("intent")["name"] == "emergency"
    record = out.get(DECISION_KEY)
    assert record["decided_by"] == ENGINE and record["engine_rules"]
    assert all(r.startswith(("RF-", "RX-", "SS-", "COMBO-", "CL-")) for r in record["engine_rules"])
    # the record is for debugging: rule ids and feature names, never the message's words
    assert text not in repr(record)


# --- everyday input: never `emergency` because the classifier said so --------------------------------

EVERYDAY = [
    "tuesday 9:30",
    "dec 8 10am",
    "friday 3:30pm",
    "november 20th at 11",
    "10 sec",
    "maybe 15 seconds or so",
    "lkjlkj 8888",
    "no wait wrong number its 312-555-0177",
    "my cell is 312 911 0000",
    "post stroke follow up",
    "is clonus the same as seizures?",
    "at what point do i call 911",
    "in what cases should someone get an ambulance for clonus",
    "i want to see someone about my legs",
    "I don't need an ambulance, just a question",
]


@pytest.mark.parametrize("text", EVERYDAY)
def test_everyday_input_the_classifier_called_an_emergency_gets_the_next_best_intent(component, text):
    ranking = [("emergency", 0.6), ("book_appointment", 0.3), ("report_symptom", 0.06), ("greet", 0.04)]
    out = run(component, message(text, ranking))
    # renormalised without emergency: book_appointment 0.75, ahead of report_symptom by 0.6
    assert out.get("intent")["name"] == "book_appointment"
    assert out.get(DECISION_KEY)["decided_by"] == ENGINE_OVERRULED
    assert out.get(DECISION_KEY)["classifier_intent"] == "emergency"


@pytest.mark.parametrize("text", EVERYDAY)
def test_everyday_input_without_a_clear_next_best_intent_is_nlu_fallback(component, text):
    # the next-best intents are close together (ambiguous) once emergency is set aside
    ranking = [("emergency", 0.9), ("education", 0.04), ("greet", 0.035), ("goodbye", 0.025)]
    out = run(component, message(text, ranking))
    assert out.get("intent")["name"] == "nlu_fallback"
    names = [r["name"] for r in out.get("intent_ranking")]
    assert names[0] == "nlu_fallback" and names.count("nlu_fallback") == 1 and "emergency" in names


def test_the_next_best_intent_must_pass_the_fallback_classifiers_threshold(component):
    # education is 0.2 / 0.5 = 0.4 of what is left, affirm 0.3 / 0.5 = 0.6: affirm, clear of education by 0.2
    out = run(component, message("10 sec", [("emergency", 0.5), ("affirm", 0.3), ("education", 0.2)]))
    assert out.get("intent")["name"] == "affirm"
    # three-way tie once emergency is set aside: below the threshold
    out = run(component, message("10 sec", [("emergency", 0.7), ("affirm", 0.1), ("education", 0.1), ("deny", 0.1)]))
    assert out.get("intent")["name"] == "nlu_fallback"


@pytest.mark.parametrize("text", EVERYDAY)
def test_everyday_input_with_another_intent_is_left_alone(component, text):
    ranking = [("book_appointment", 0.8), ("emergency", 0.15), ("greet", 0.05)]
    out = run(component, message(text, ranking))
    assert out.get("intent")["name"] == "book_appointment"
    assert out.get(DECISION_KEY)["decided_by"] == CLASSIFIER


# --- the judgement calls (docs/ARCHITECTURE.md, NLU pipeline) -----------------------------------------


@pytest.mark.parametrize("text", ["HELP", "help!!", "Help me", "pls help", "someone help us", "SOS"])
@pytest.mark.parametrize("said", ["emergency", "greet", "nlu_fallback"])
def test_a_bare_cry_for_help_is_the_emergency_intent_but_not_an_engine_emergency(component, text, said):
    # cautious: `emergency` whatever the classifier said, so action_triage answers it; the engine finds no
    # emergency, so that answer is utter_emergency_check (the number, no alarm), never the emergency reply
    out = run(component, message(text, [(said, 0.7), ("request_human", 0.3)]))
    assert out.get("intent")["name"] == "emergency"
    assert out.get(DECISION_KEY)["decided_by"] == CRY_FOR_HELP
    assert not states_emergency(text) and assess([text]).triage_level != "emergency"


@pytest.mark.parametrize("text", ["i need help booking", "help with my baclofen dose", "can you help me find the clinic number"])
def test_help_with_something_is_not_a_cry_for_help(component, text):
    out = run(component, message(text, [("emergency", 0.8), ("book_appointment", 0.15), ("greet", 0.05)]))
    assert out.get("intent")["name"] == "book_appointment"


def test_a_question_about_when_to_call_911_is_not_a_stated_emergency():
    # cautious choice: a general question about when to call is answered as a question (the engine has no
    # emergency in it); the same words with an emergency in them are one, and a bare "should i call 911?" is
    assert not states_emergency("at what point do i call 911")
    assert states_emergency("at what point do i call 911, hes not breathing")
    assert states_emergency("should i call 911?")


@pytest.mark.parametrize("text", ["she fainted", "hes suddenly really confused"])
def test_an_emergency_sign_keeps_the_classifiers_emergency(component, text):
    out = run(component, message(text, [("emergency", 0.8), ("report_symptom", 0.2)]))
    assert out.get("intent")["name"] == "emergency"
    assert out.get(DECISION_KEY)["decided_by"] == CLASSIFIER_AND_SIGN


@pytest.mark.parametrize(
    "text",
    [
        "my friend keeps saying he wants to kill himself",   # someone else's
        "i tried to kill myself years ago",                  # in the past
        "i want to talk to someone about my dark thoughts",  # the recall layer's reading, kept
    ],
)
def test_a_self_harm_disclosure_is_never_read_down(component, text):
    assert read_message(text).self_harm
    for ranking in ([("emergency", 0.9), ("report_symptom", 0.1)], [("request_human", 0.9), ("emergency", 0.1)]):
        out = run(component, message(text, ranking))
        assert out.get("intent")["name"] == "emergency"
        assert out.get(DECISION_KEY)["decided_by"] == ENGINE


def test_a_button_payload_is_left_as_it_is(component):
    out = run(component, message("/book_appointment", [("book_appointment", 1.0)]))
    assert out.get("intent")["name"] == "book_appointment"
    assert out.get(DECISION_KEY) is None


def test_the_decision_is_an_output_property_of_the_parse():
    msg = message("tuesday 9:30", [("emergency", 0.9), ("book_appointment", 0.1)])
    EmergencyIntentReconciler(EmergencyIntentReconciler.get_default_config()).process([msg])
    parsed = msg.as_dict(only_output_properties=True)
    assert parsed["intent"]["name"] == "book_appointment"
    assert parsed[DECISION_KEY]["decided_by"] == ENGINE_OVERRULED


# --- the pipeline ------------------------------------------------------------------------------------


def test_the_component_runs_last_in_the_nlu_pipeline_after_the_classifiers():
    names = [c["name"] for c in yaml.safe_load((ROOT / "config.yml").read_text())["pipeline"]]
    mine = names.index("rasa_ext.emergency_intent.EmergencyIntentReconciler")
    assert mine == len(names) - 1
    assert names.index("rasa_ext.minilm_classifier.MiniLMIntentClassifier") < mine and names.index("FallbackClassifier") < mine


def test_the_recipe_builds_the_graph_with_the_component():
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    graph = DefaultV1Recipe().graph_config_for_recipe(config, {}, is_finetuning=False)
    predict = graph.predict_schema.nodes
    uses = [node.uses for node in predict.values()]
    assert EmergencyIntentReconciler in uses
    node = next(n for n in predict.values() if n.uses is EmergencyIntentReconciler)
    fallback = next(c for c in config["pipeline"] if c["name"] == "FallbackClassifier")
    assert node.fn == "process"
    # the next-best intent is held to the FallbackClassifier's own thresholds
    assert (node.config["threshold"], node.config["ambiguity_threshold"]) == (fallback["threshold"], fallback["ambiguity_threshold"])


def test_the_component_is_in_the_model_fingerprint():
    # scripts/train.sh's components(): the project's components of config.yml, whose files the fingerprint reads
    body = (ROOT / "scripts" / "train.sh").read_text()
    function = body[body.index("components() {"):body.index("\n}\n", body.index("components() {")) + 3]
    out = subprocess.run(["bash", "-c", function + "components"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "rasa_ext/emergency_intent.py" in out.stdout.split()
