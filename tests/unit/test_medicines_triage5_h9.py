"""Medicine recognition mechanisms from the misses of the triage5 dev half (issue 9), each in phrasings
written for this file (not the set's texts): sound-alike spellings of vocabulary brands, self-corrections,
unknown names before "for ..."/"cuando ...", questions whether one medicine is ok with another, strangers
named with "the", arrivals and placements planned for later, tapers, a relation named as the patient,
medicines given to the writer, a street name listed before a plain name, a dose after a brand that is
also a word, and a vocabulary name that is also a gland."""

from __future__ import annotations

from bot.context import patient_of
from bot.medications import analyse


def _status(text: str) -> dict:
    return {m.name: m.status for m in analyse(text).mentions}


def test_vocabulary_brand_spelt_as_it_sounds_is_that_medicine():
    assert _status("seroquol 100 at bedtime") == {"quetiapine": "current"}  # one vowel for another
    assert _status("welbutrin 150 every morning") == {"bupropion": "current"}  # one letter undoubled
    # a consonant away from a foreign brand is not a spelling of it: said back instead
    rec = analyse("spasmolin 2 tabs")
    assert rec.mentions == [] and rec.unrecognised == ["spasmolin"]


def test_docusate_and_its_us_brand_are_known():
    assert _status("colace 100mg twice a day") == {"docusate": "current"}
    assert _status("I take docusate for constipation") == {"docusate": "current"}
    assert analyse("I take docusate for constipation").unrecognised == []


def test_soma_counts_with_a_dose_not_as_a_word():
    assert _status("soma 250 at bedtime") == {"carisoprodol": "current"}
    assert _status("soma 350mg for my back") == {"carisoprodol": "current"}
    assert _status("the soma of the nerve cell") == {}
    assert _status("a coke 500ml with lunch") == {}


def test_self_correction_keeps_only_what_remains():
    assert _status("cymbalta, effexor no wait only cymbalta") == {"duloxetine": "current"}
    assert _status("lyrica i mean neurontin") == {"gabapentin": "current"}
    assert _status("buspar? no. just celexa") == {"citalopram": "current"}
    # taken back with a past use told: not current, still said
    assert _status("I'm on demerol? no that's what they gave me after surgery. I'm on paxil") == {
        "meperidine": "past", "paroxetine": "current"}
    # "? no symptoms" denies what follows, not the name
    assert _status("on zoloft and sumatriptan, ok? no symptoms") == {"sertraline": "current", "sumatriptan": "current"}


def test_unknown_name_before_what_it_is_taken_for_is_said_back():
    rec = analyse("drovanex for anxiety and lexapro")
    assert rec.unrecognised == ["drovanex"] and _status("drovanex for anxiety and lexapro") == {"escitalopram": "current"}
    assert analyse("plenorax cuando me duele la cabeza, y ibuprofeno").unrecognised == ["plenorax"]
    assert analyse("melvoxin plus the odd tramadol").unrecognised == ["melvoxin"]
    # an English word before "for" is not a name
    assert analyse("thanks for the help, i take zoloft").unrecognised == []


def test_asking_whether_one_is_ok_with_another():
    assert _status("would benadryl be safe with my zoloft") == {"diphenhydramine": "hypothetical", "sertraline": "current"}
    assert _status("is ibuprofen okay with lithium") == {"ibuprofen": "hypothetical", "lithium": "current"}


def test_stranger_named_with_the_and_a_place():
    assert _status("the guy across from my dad on the ward got tramadol") == {"tramadol": "other"}
    assert _status("the man next to my wife in the er was given ativan") == {"lorazepam": "other"}


def test_arrivals_and_placements_planned_for_later_are_not_current():
    assert _status("my new script of lyrica arrives next week") == {"pregabalin": "hypothetical"}
    assert _status("my tizanidine refill comes in friday, never had it before") == {"tizanidine": "hypothetical"}
    assert _status("they are placing a baclofen pump in two weeks") == {"baclofen": "hypothetical"}
    # a weekday after "since" is past: still current
    assert _status("been on tizanidine since monday") == {"tizanidine": "current"}


def test_a_taper_is_of_a_medicine_taken_now():
    assert _status("we will start the klonopin taper next week") == {"clonazepam": "current"}


def test_relation_named_as_the_patient():
    text = "my mom (the patient) is on lithium, i take zoloft"
    assert patient_of([text]).relation == "mom"
    assert _status(text) == {"lithium": "current", "sertraline": "other"}
    assert patient_of(["my husband is the patient, he takes tramadol and i take nothing"]).relation == "husband"


def test_medicine_given_to_the_writer_is_theirs():
    assert _status("my sister gave me a couple of her percocets and i took one last night") == {"oxycodone": "current"}


def test_street_name_listed_before_a_plain_medicine():
    assert _status("a little molly now and then and my prozac") == {"mdma": "current", "fluoxetine": "current"}
    assert _status("some blow on weekends plus my effexor") == {"cocaine": "current", "venlafaxine": "current"}
    # the drink, and a word of the body, are not
    assert _status("had a coke and my lexapro") == {"escitalopram": "current"}
    assert _status("ice for my joints and cymbalta") == {"duloxetine": "current"}


def test_vocabulary_name_that_is_a_gland_after_for_my():
    assert _status("synthroid for my thyroid") == {"levothyroxine": "current"}
    assert _status("my potassium levels were low, i take lasix") == {"furosemide": "current"}


def test_two_relations_each_with_their_own_medicines_are_neither_the_patient():
    text = "my son takes ritalin, my wife is on zoloft"
    assert patient_of([text]).relation is None
    assert _status(text) == {"methylphenidate": "other", "sertraline": "other"}
    # a word of caring for one of them makes that one the patient
    cared = "my son takes ritalin, my wife is on zoloft, and he is twitching all night"
    assert patient_of([cared]).relation == "son"
    assert _status(cared)["methylphenidate"] == "current"


def test_unknown_product_said_back_with_its_strength_word():
    assert analyse("Mordivan Forte when my head hurts, and tramadol").unrecognised == ["Mordivan Forte"]
    assert analyse("le doy quelbrin max para la fiebre").unrecognised == ["quelbrin max"]


def test_old_and_new_lists_labelled_by_the_person():
    assert _status("old meds vs now: celexa and buspar vs lexapro") == {
        "citalopram": "past", "buspirone": "past", "escitalopram": "current"}
    assert _status("old: celexa, new: lexapro") == {"citalopram": "past", "escitalopram": "current"}
    assert _status("celexa (old) lexapro (current)") == {"citalopram": "past", "escitalopram": "current"}
    assert _status("before: remeron. now: trazodone") == {"mirtazapine": "past", "trazodone": "current"}
    assert _status("previous meds - remeron, buspar") == {"mirtazapine": "past", "buspirone": "past"}
    assert _status("ex-meds: remeron. current: none") == {"mirtazapine": "past"}
    assert _status("back then i took remeron, these days trazodone") == {"mirtazapine": "past", "trazodone": "current"}
    assert _status("remeron was my old med, trazodone is my new one") == {"mirtazapine": "past", "trazodone": "current"}
    # a history of a condition, then what the person is on
    assert _status("history of migraines, on topamax") == {"topiramate": "current"}


def test_last_one_taken_a_day_or_more_ago_or_supply_gone_is_a_stop():
    m = analyse("took my last ativan 2 days ago, pharmacy is closed").mentions[0]
    assert (m.name, m.status, m.stopped, m.days_since_stop) == ("lorazepam", "past", True, 2.0)
    assert _status("had the last of my baclofen, none left") == {"baclofen": "past"}
    # the most recent dose, hours ago, is not a stop
    assert _status("took my last ativan at 7am") == {"lorazepam": "current"}


def test_but_stopped_with_nothing_after_stops_the_name_before():
    assert _status("got prescribed celexa last year but stopped") == {"citalopram": "past"}
    assert _status("nothing except advil. my calf jerked twice and stopped") == {"ibuprofen": "current"}


def test_street_name_after_except_and_sam_e_hyphenated():
    assert _status("no prescriptions, nothing besides the pill") == {"oral contraceptive": "current"}
    assert _status("sam-e every morning with cymbalta") == {"s-adenosylmethionine": "current", "duloxetine": "current"}
    assert _status("Sam-E 200") == {"s-adenosylmethionine": "current"}
    assert _status("same as last time, on cymbalta") == {"duloxetine": "current"}


def test_finished_courses_said_with_done_or_completed_are_past():
    assert _status("done with the amoxicillin course") == {"amoxicillin": "past"}
    assert _status("completed 7 days of levaquin") == {"levofloxacin": "past"}
    assert _status("im done with my keflex, still on celexa") == {"cephalexin": "past", "citalopram": "current"}


def test_asking_about_taking_one_is_hypothetical_beside_what_the_person_is_on():
    assert _status("would taking 5-htp with my effexor be risky") == {"5-htp": "hypothetical", "venlafaxine": "current"}
    assert _status("thinking of taking ashwagandha") == {"ashwagandha": "hypothetical"}
    assert _status("thinking of taking tramadol for my knee") == {"tramadol": "hypothetical"}
    assert _status("im taking tramadol for my knee") == {"tramadol": "current"}
