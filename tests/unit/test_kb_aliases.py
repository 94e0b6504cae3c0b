"""Knowledge base (issue 9): names the open vocabularies hold without linking them to their medicine, or
do not hold, added through the curated `aliases` table (scripts/build_medicines.py). Phrasings are mine."""

from __future__ import annotations

import pytest
import yaml

from bot.medications import analyse, knowledge
from bot.text_utils import KNOWLEDGE_DIR


@pytest.mark.parametrize("text,name", [
    ("my neurologist has me on Depakote ER 500", "valproic acid"),
    ("she takes divalproex for her migraines", "valproic acid"),
    ("im on sodium valproate twice a day", "valproic acid"),
    ("the urgent care gave me a Z-Pak", "azithromycin"),
    ("started a zpack yesterday for bronchitis", "azithromycin"),
    ("fioricet when the headaches get bad", "butalbital"),
    ("i take phrenilin for tension headaches", "butalbital"),
    ("day 2 of augmentin for an ear infection", "amoxicillin-clavulanic acid"),
    ("on amoxicillin/clavulanate since monday", "amoxicillin-clavulanic acid"),
    ("tomo té de hierba de san juan todas las noches", "st john's wort"),
    ("my friend gave me some flakka and i took it", "cathinones"),
    ("i smoked bath salts last night", "cathinones"),
    ("he snorted some synthetic cathinones", "cathinones"),
])
def test_named_medicine_is_recognised(text, name):
    r = analyse(text)
    assert name in {m.name for m in r.mentions}
    assert not r.unrecognised


def test_cathinones_are_the_policys_recreational_agent():
    assert "recreational" in knowledge().medicines["cathinones"].classes


def test_hierba_de_san_juan_with_an_ssri_is_a_serotonergic_pair():
    from bot.triage import assess

    a = assess(["tomo hierba de san juan y sertralina"], strict=True)
    assert "COMBO-SEROTONERGIC" in a.rule_ids


def test_every_alias_row_names_a_known_source_and_is_in_the_built_base():
    curated = yaml.safe_load((KNOWLEDGE_DIR / "medicines.curated.yml").read_text(encoding="utf-8"))
    kb = knowledge()
    for row in curated["aliases"]:
        assert row["source"] in curated["sources"], row
        med = kb.lookup(row["alias"])
        assert med is not None and med.name == row["medicine"], row
