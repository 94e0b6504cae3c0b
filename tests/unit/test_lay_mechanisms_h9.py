"""Issue 9: lay word families, the scope of a negation said inside a phrase, and rule conditions that
the blind dev sets showed missing. The wording here is our own (not a blind set's): each test names the
mechanism it checks, and each failed on the code before it."""

from __future__ import annotations

from bot.symptoms import extract
from bot.triage import assess


def present(text: str) -> frozenset:
    return extract(text).present


def level(messages) -> str:
    return assess(messages, strict=True).triage_level


# ------------------------------------------------------------------------------ self-harm (C-SSRS)
def test_passive_wish_said_with_a_verb():
    for text in ("sometimes i think about simply not existing", "i wonder about just disappearing for good"):
        assert "self_harm" in present(text), text
        assert level([text]) == "emergency"
    assert "self_harm" not in present("i keep thinking about not being able to drive again")  # not a wish to die
    assert "self_harm" not in present("i am not thinking about not existing, just tired")  # denied
    assert "self_harm" not in present("my cousin keeps thinking about dying")  # someone else


def test_hopelessness_about_everything():
    assert "self_harm" in present("honestly i cant see the point of anything these days")
    assert "self_harm" not in present("i dont see the point of the new night brace")  # one treatment


def test_intent_with_the_whole_supply():
    for text in ("tonight im gonna swallow every last one of my tablets",
                 "i decided to take the whole bottle of my sleeping pills"):
        assert "self_harm" in present(text), text
    for text in ("im going to take all my tablets with dinner", "i will take all my meds at bedtime as usual"):
        assert "self_harm" not in present(text), text  # how a day's doses are taken


# ------------------------------------------------------------------------------ clonus families
def test_a_limb_moving_all_by_itself_is_spontaneous_clonus():
    text = "his wrist keeps flapping up and down all on its own"
    assert "spontaneous_clonus" in present(text)
    assert level(["he takes sertraline and trazodone", text]) == "emergency"  # SS-HUNTER criterion 1
    for other in ("my knee pain eased off by itself", "my hand goes numb by itself at night"):
        assert "spontaneous_clonus" not in present(other), other  # by itself, but no movement


def test_a_lay_word_for_much_worse_before_the_time_is_sudden_worsening():
    text = "her stiffness went wild overnight and she is confused"
    assert "sudden_worse" in present(text)
    assert "CL-SUDDEN-WORSE" in assess([text]).rule_ids and level([text]) == "emergency"


def test_worse_in_the_heat_is_not_sudden():
    text = "i have ms and the jerks in my legs get a lot worse in hot weather"
    assert "sudden_worse" not in present(text)
    assert level([text]) == "routine"  # CL-KNOWN-CONDITION, not CL-SUDDEN-WORSE


def test_an_episode_lasting_long_in_vague_words_is_sustained():
    text = "my heel bounces for ages when i push down on the pedal"
    assert {"inducible_clonus", "clonus_sustained"} <= present(text)
    assert "CL-SUSTAINED" in assess([text]).rule_ids


def test_spasms_that_keep_coming_back_are_sustained_clonus_in_section_6():
    assert "CL-SUSTAINED" in assess(["the spasms keep waking me every night"]).rule_ids
    # why a medicine is taken is not a report of spasms
    assert "spasms" not in present("i take baclofen for my spasms and it works well every day")


# ------------------------------------------------------------------------------ liver, sedation, pump
def test_yellow_said_of_the_person_and_not_staying_awake():
    text = "dad has cirrhosis, he looks kind of yellow and he cant even keep awake through dinner"
    assert {"jaundice", "extreme_sleepiness"} <= present(text)
    assert "RF-LIVER" in assess([text]).rule_ids
    assert "jaundice" not in present("she wore her yellow dress to the appointment")
    assert "extreme_sleepiness" not in present("i cant stay up late anymore")
    assert "extreme_sleepiness" not in present("i cant keep up with my kids anymore")  # keeping pace, not awake
    assert "jaundice" not in present("my pee is bright yellow in the morning")
    assert level(["im on oxycodone and gabapentin and i cant keep up with my grandkids"]) != "emergency"


def test_no_longer_managing_chores_disrupts_daily_life():
    text = "on tizanidine and so drowsy i can no longer manage the housework"
    assert "disrupts_daily_life" in present(text)
    assert level([text]) == "routine"  # RX-SEDATION


def test_an_alarm_said_after_the_pump_is_the_pump_alarm():
    a = assess(["my daughter has an intrathecal pump", "there is a beeping alarm going off since lunch"])
    assert "RX-BACLOFEN-STOP" in a.rule_ids and a.triage_level == "urgent"
    b = assess(["i have a baclofen pump, refilled last week, all fine", "the smoke alarm went off while i was cooking"])
    assert "RX-BACLOFEN-STOP" not in b.rule_ids
    c = assess(["i have a baclofen pump, all fine", "my alarm went off at 6 for work"])
    assert "RX-BACLOFEN-STOP" not in c.rule_ids


def test_withdrawal_signs_in_lay_words():
    a = assess(["her baclofen pump is past its refill date", "she keeps scratching herself and her legs are tighter than usual"])
    assert "RX-BACLOFEN-WITHDRAWAL" in a.rule_ids and a.triage_level == "emergency"


# ------------------------------------------------------------------------------ seizure, injury
def test_a_hedged_fit_and_out_cold_on_the_floor():
    assert "seizure" in present("she had some sort of fit in the car")
    # "out cold" is read by the recall layer (tests/unit/test_engine_issue9.py), the lexicon leaves it
    assert "RF-SEIZURE" in assess(["he was out cold on the kitchen floor and twitching"]).rule_ids
    assert "loss_of_consciousness" not in assess(["i was out cold all night after my shift"]).symptoms


def test_a_blow_in_sport_then_jerking_is_an_injury_red_flag():
    text = "got a big knock to the head playing rugby and now his arm is twitching"
    assert "recent_injury" in present(text)
    assert "RF-INJURY" in assess([text]).rule_ids


# ------------------------------------------------------------------------------ negation inside a phrase
def test_a_negation_between_the_subject_and_the_sign_denies_it():
    assert "face_droop" not in present("my smile isnt crooked and my arms are fine")
    assert "RF-STROKE" not in assess(["my smile isnt crooked and my arms are fine, just a headache"]).rule_ids
    assert "ocular_clonus" not in present("my eyes are not darting around")
    # a phrase that needs its negation word still states the sign
    assert "confusion" in present("he is not himself and seems confused")
    assert "spontaneous_clonus" in present("my calves are twitching without me doing anything")


def test_the_person_who_says_it_is_about_them_is_the_patient():
    text = "my dad has cirrhosis and is confused at times, but this is about me: my calf twitches after running"
    assert level([text]) != "emergency"


# ------------------------------------------------------------------------------ second batch (triage3/dev causes)
def test_crossing_the_legs_sets_off_inducible_clonus():
    text = "when i cross my legs my top leg starts to shake in a rhythm"
    assert "inducible_clonus" in present(text)


def test_keep_of_a_thought_is_not_recurring_clonus():
    text = "the nurse tapped my knee and it jumped one or two times then stopped, i keep wondering about it"
    assert "clonus_recurring" not in present(text)
    assert "clonus_brief" in present(text)
    assert "clonus_recurring" in present("my ankle keeps jerking at night")


def test_a_span_of_hours_without_the_and_more_than_before():
    assert "sudden_worse" in present("last 48 hrs the stiffness in my legs is much worse")
    assert "sudden_worse" in present("since this morning her foot jerks a lot more than usual")


def test_jumping_on_someone_is_not_clonus():
    assert "spontaneous_clonus" not in present("the puppy keeps jumping on me all evening")


def test_a_clause_opening_with_a_question_word_asks_about_clonus():
    assert "clonus" not in present("ok so how long does clonus usually last")
    assert "clonus" in present("how do i calm my clonus at night")  # a report inside the question


def test_the_patient_a_caregiver_speaks_for_tells_her_own_symptom():
    a = assess(["my dad began taking lexapro on monday and he says he has the chills now"])
    assert "SS-SYMPTOMS" in a.rule_ids
    # the person speaks for themselves: what "she said she" has is someone else's
    assert "SS-SYMPTOMS" not in assess(["i take zoloft. she said she gets chills on it"]).rule_ids


# ------------------------------------------------------------------------------ third batch (own probes)
def test_burden_thought_with_any_word_for_better():
    assert "self_harm" in present("honestly my family would be so much freer if i was gone")
    assert "self_harm" not in present("my family would be happier if i got a new job")


def test_a_plan_to_overdose_and_an_overdose_on_purpose():
    assert "self_harm" in present("i am planning to od this friday")
    assert "self_harm" in present("last night i deliberately took too many of my sleeping tablets")
    assert "self_harm" not in present("i didnt plan to overdose, i mixed up the doses")  # denied


def test_ending_everything_but_not_ending_a_relationship():
    assert "self_harm" in present("this weekend i will end everything")
    assert "self_harm" not in present("i want to end things with my girlfriend")


def test_a_fit_named_by_its_kind():
    assert "seizure" in present("our baby had a febrile fit tonight")
    assert "seizure" not in present("the brace is a bad fit for my ankle")


def test_an_animal_is_never_the_patient():
    text = "our dog had a seizure on the rug, my own question is about my calf cramps"
    assert "seizure" not in present(text)
    assert level([text]) != "emergency"


def test_self_harm_in_its_spoken_spellings():
    assert "self_harm" in present("been feeling like i wanna just die tbh")
    assert "self_harm" not in present("i wanna die of embarrassment, i fell asleep in class")
    assert "self_harm" in present("he has been cutting himself on his arms")
    assert "self_harm" not in present("i cut myself shaving this morning")
    assert "self_harm" not in present("she scratches herself all night")  # itching, not self-harm


def test_a_quantity_taken_on_purpose_and_a_farewell():
    assert "self_harm" in present("i swallowed about 15 of my clonazepam on purpose")
    assert "self_harm" not in present("i took my evening dose early on purpose")
    assert "self_harm" in present("this is it. goodbye everybody")


def test_a_known_condition_with_shaking_that_gets_worse_is_reviewed():
    a = assess(["my mum has ms and the shaking in her leg keeps getting worse this year"])
    assert "CL-KNOWN-CONDITION" in a.rule_ids and a.triage_level == "routine"
    assert "CL-KNOWN-CONDITION" not in assess(["my hands shake a lot before exams"]).rule_ids


def test_a_relation_who_thinks_about_dying_is_someone_else():
    a = assess(["my brother thinks about dying a lot, how do i help him? i take lexapro myself"])
    assert "RF-SELF-HARM" not in a.rule_ids
    assert "muscle_jerks" in present("my wife thinks my legs jerk at night")  # still the patient's legs


def test_a_denied_pump_alarm_is_not_a_pump_problem():
    a = assess(["the pump alarm didnt go off, his refill is next week and he is fine"])
    assert "RX-BACLOFEN-STOP" not in a.rule_ids
    assert "RX-BACLOFEN-STOP" in assess(["his baclofen pump alarm keeps going off"]).rule_ids


def test_a_wish_that_needs_its_negation_word_is_not_denied():
    # guard for the merge with h9-engine (c64f474 read these as denied: a copular "wasnt" inside the match)
    for text in ("some nights i wish i wasnt alive", "my kids would be better off if i wasnt around anymore"):
        assert "self_harm" in present(text), text
        assert level([text]) == "emergency"
    assert "self_harm" in extract("i keep wishing i wasnt here", patient=None).present
