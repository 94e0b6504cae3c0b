"""Issue 9, medicines by kind of miss (own wording; never copied from a blind set)."""

from bot.medications import analyse


def _status(text):
    return {m.name: m.status for m in analyse(text).mentions}


def test_someone_elses_medicine_when_the_writer_says_their_own():
    # experiencer: two people in one message, the writer states what they take
    assert _status("my husband takes paxil, i only take metformin") == {"paroxetine": "other", "metformin": "current"}
    assert _status("dad on coumadin; me on lexapro") == {"warfarin": "other", "escitalopram": "current"}
    assert _status("her doctor started her on nardil. i use ibuprofen") == {"phenelzine": "other", "ibuprofen": "current"}


def test_caregiver_alone_still_speaks_for_the_patient():
    assert _status("my daughter is 9 and on keppra")["levetiracetam"] == "current"


def test_unknown_name_one_letter_from_a_foreign_brand_is_said_back():
    # fuzzy matching skips brands only the open vocabulary brings (no rule uses them)
    rec = analyse("ultrean 10mg every night")  # one letter from Ultreon
    assert not rec.mentions and [u.lower() for u in rec.unrecognised] == ["ultrean"]
    assert {m.name for m in analyse("spasmolyt 20mg").mentions} == {"trospium"}  # written exactly it still counts


def test_vocabulary_coverage_short_names_kits_and_acids():
    assert {m.name for m in analyse("onfi 5 at night").mentions} == {"clobazam"}
    assert {m.name for m in analyse("hctz in the morning").mentions} == {"hydrochlorothiazide"}
    assert {m.name for m in analyse("they did a rocephin injection").mentions} == {"ceftriaxone"}  # not a kit's lidocaine
    assert {m.name for m in analyse("depakene 250 twice a day").mentions} == {"valproic acid"}  # "acid" is a street name only


def test_a_near_english_brand_counts_in_lowercase():
    assert {m.name for m in analyse("catapres 0.1 at bedtime").mentions} == {"clonidine"}


def test_unknown_names_said_back_in_a_list_with_a_form_or_a_count():
    for text in ("dorvalex and lisinopril every morning", "dorvalex 10 with my lisinopril",
                 "dorvalex eye drops at night", "Dorvalex, 3 tabs a day"):
        assert [u.lower() for u in analyse(text).unrecognised] == ["dorvalex"], text
    assert analyse("walked home and took lisinopril").unrecognised == []
    assert analyse("takes it for narcolepsy and lisinopril for pressure").unrecognised == []
