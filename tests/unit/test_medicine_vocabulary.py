"""The knowledge base built from open vocabularies (scripts/build_medicines.py): the curated
classification survives the build, street names and spelling variants are recognised, and the
medicines no rule uses are recognised without a risk class."""

from __future__ import annotations

import pytest
import yaml

from bot.medications import SEROTONERGIC_CLASSES, knowledge, recognise
from bot.text_utils import KNOWLEDGE_DIR


def _names(text: str):
    return [m.name for m in recognise(text)]


def test_curated_classification_is_kept_as_written():
    curated = yaml.safe_load((KNOWLEDGE_DIR / "medicines.curated.yml").read_text(encoding="utf-8"))
    kb = knowledge()
    for entry in curated["medicines"]:
        med = kb.get(entry["name"])
        assert med is not None, entry["name"]
        assert med.classes == frozenset(entry["classes"]), entry["name"]
        assert med.source == entry["source"], entry["name"]
        for field in ("synonyms", "brands", "street", "misspellings"):
            for alias in entry.get(field) or []:
                assert kb.lookup(alias) is med, alias


def test_vocabulary_medicines_carry_no_risk_class():
    kb = knowledge()
    vocab = [m for m in kb.medicines.values() if m.source == "vocabulary"]
    assert len(vocab) >= 500
    assert all(m.classes == frozenset({"other"}) for m in vocab)
    assert len(kb.medicines) >= 1000


@pytest.mark.parametrize(
    "text, name",
    [
        ("my son takes Keppra 500mg twice a day", "levetiracetam"),
        ("she gets ocrevus infusions", "ocrelizumab"),
        ("he is on sinemet for parkinsons", "carbidopa-levodopa"),
        ("finished my paxlovid", "nirmatrelvir-ritonavir"),
        ("I take vitamin d and b12", "vitamin b12"),
        ("he is on plavix", "clopidogrel"),
        ("I take lamictal and topamax", "lamotrigine"),
        ("on eliquis since my stroke", "apixaban"),
        ("tecfidera for my MS", "dimethyl fumarate"),
    ],
)
def test_common_neurology_medicines_are_recognised(text, name):
    assert name in _names(text)


@pytest.mark.parametrize(
    "text, name, classes",
    [
        ("I take oxazepam at night", "oxazepam", {"benzodiazepine"}),
        ("they gave me levorphanol for pain", "levorphanol", {"opioid"}),
        ("I'm on safinamide", "safinamide", {"maoi"}),
        ("taking methocarbamol for back spasms", "methocarbamol", {"muscle_relaxant"}),
    ],
)
def test_class_members_from_the_vocabulary_are_classified(text, name, classes):
    found = [m for m in recognise(text) if m.name == name]
    assert found and classes <= set(found[0].classes)


@pytest.mark.parametrize(
    "text",
    [
        "took molly at a party",
        "I did some E last night",
        "we took X on saturday",
        "took some mandy at the festival",
        "rolling on ecstasy",
        "rolling on x right now",
    ],
)
def test_mdma_street_names(text):
    assert "mdma" in _names(text)


@pytest.mark.parametrize(
    "text, name",
    [
        ("did some acid last weekend", "lsd"),
        ("I did a line of coke", "cocaine"),
        ("smoked some crack", "cocaine"),
        ("I was on speed", "amphetamine"),
        ("I've been smoking meth", "methamphetamine"),
        ("took some bath salts", "cathinones"),
        ("did flakka", "cathinones"),
    ],
)
def test_other_street_names(text, name):
    assert name in _names(text)


@pytest.mark.parametrize(
    "text",
    [
        "my molly cat is sick",
        "I had an X-ray of my leg",
        "the acid reflux is bad",
        "there was ice on the road",
        "I got a speed camera ticket",
        "vitamin E and fish oil",
    ],
)
def test_street_names_need_a_drug_context(text):
    names = _names(text)
    assert not ({"mdma", "lsd", "cocaine", "methamphetamine", "amphetamine"} & set(names)), names


@pytest.mark.parametrize(
    "text",
    [
        "I take St John's wort",
        "I take st johns wort",
        "I take St. John\u2019s Wort",
        "I take st. johns wort",
        "I take Saint John's wort",
        "I take St John's-wort",
        "I take SJW capsules",
        "I take st johns wart",
    ],
)
def test_st_johns_wort_variants(text):
    assert "st john's wort" in _names(text)


def test_words_the_vocabulary_could_confuse_stay_unknown():
    # Made-up names are said back, not matched to some rare brand; ordinary words are not medicines.
    from bot.medications import analyse

    result = analyse("I started on zelvorin 20mg last week")
    assert not result.mentions and result.unrecognised == ["zelvorin"]
    assert not recognise("I feel fine today, my legs shake and I sweat a lot at night")
    assert all(m.name not in SEROTONERGIC_CLASSES for m in recognise("choice justice amanda sonata"))
    assert not recognise("choice justice amanda sonata")
