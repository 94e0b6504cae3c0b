"""rasa_ext.minilm_classifier.MiniLMIntentClassifier trained, stored and loaded through Rasa's own
model storage, on a small real training set (intents and a retrieval intent with topics)."""

from __future__ import annotations

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from rasa_ext.minilm_classifier import MiniLMIntentClassifier

EXAMPLES = {
    "greet": ["hi", "hello there", "good morning", "hey"],
    "book_appointment": ["i want to book an appointment", "can i schedule a visit", "book me in for monday", "i need an appt"],
    "education/causes": ["what causes clonus", "why do my legs jerk after a stroke", "why does it happen", "what makes clonus worse"],
    "education/treatment": ["how is clonus treated", "does physio help", "what treatments are there", "can botox help clonus"],
}
RESPONSES = {"utter_education/causes": [{"text": "Causes ..."}], "utter_education/treatment": [{"text": "Treatment ..."}]}


def training_data() -> TrainingData:
    messages = []
    for label, texts in EXAMPLES.items():
        intent, _, topic = label.partition("/")
        for text in texts:
            data = {"text": text, "intent": intent}
            if topic:
                data["intent_response_key"] = label
            messages.append(Message(data=data))
    return TrainingData(training_examples=messages, responses=RESPONSES)


def trained(tmp_path, name="clf"):
    storage = LocalModelStorage.create(tmp_path / name)
    (tmp_path / name).mkdir(parents=True, exist_ok=True)
    resource = Resource("minilm")
    context = ExecutionContext(GraphSchema({}), "test")
    clf = MiniLMIntentClassifier.create(MiniLMIntentClassifier.get_default_config(), storage, resource, context)
    clf.train(training_data())
    return MiniLMIntentClassifier.load(MiniLMIntentClassifier.get_default_config(), storage, resource, context)


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    return trained(tmp_path_factory.mktemp("minilm"))


def parse(classifier, text):
    message = Message(data={"text": text})
    classifier.process([message])
    return message


def test_intents_and_topics_of_unseen_wording(classifier):
    assert parse(classifier, "good evening").get("intent")["name"] == "greet"
    assert parse(classifier, "could i set up a visit next week").get("intent")["name"] == "book_appointment"
    message = parse(classifier, "why would someone get clonus")
    assert message.get("intent")["name"] == "education"
    selected = message.get("response_selector")["education"]["response"]
    assert selected["intent_response_key"] == "education/causes"
    assert selected["utter_action"] == "utter_education/causes"
    assert selected["responses"] == RESPONSES["utter_education/causes"]
    assert message.get("response_selector")["all_retrieval_intents"] == ["education"]


def test_a_retrieval_intent_gets_the_sum_of_its_topics(classifier):
    message = parse(classifier, "what helps with clonus")
    ranking = {r["name"]: r["confidence"] for r in message.get("intent_ranking")}
    assert set(ranking) == {"greet", "book_appointment", "education"}
    assert sum(ranking.values()) == pytest.approx(1.0)
    topics = message.get("response_selector")["education"]["ranking"]
    assert [t["intent_response_key"] for t in topics][0] == message.get("response_selector")["education"]["response"]["intent_response_key"]
    assert sum(t["confidence"] for t in topics) == pytest.approx(1.0)
    assert "education/treatment" in {t["intent_response_key"] for t in topics}


def test_the_same_data_give_the_same_model(tmp_path, classifier):
    again = trained(tmp_path, "again")
    assert again.labels == classifier.labels
    np.testing.assert_array_equal(again.weights, classifier.weights)
    np.testing.assert_array_equal(again.bias, classifier.bias)


def test_a_message_without_text_is_left_alone(classifier):
    message = Message(data={})
    classifier.process([message])
    assert message.get("intent") is None


def test_the_project_pipeline_uses_it_and_no_diet():
    import yaml

    from tests.conftest import ROOT

    names = [c["name"] for c in yaml.safe_load((ROOT / "config.yml").read_text())["pipeline"]]
    assert "rasa_ext.minilm_classifier.MiniLMIntentClassifier" in names
    assert "DIETClassifier" not in names and "ResponseSelector" not in names
