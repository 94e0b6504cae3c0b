"""Every policy rule id: at least one phrasing that fires it and one near miss that must not.

This table (not the held-out vignettes) is where the engine is tuned.
"""

from __future__ import annotations

import pytest

from bot.rules import LEVELS, RULE_IDS
from bot.triage import assess

# (rule id, messages, expected level of that rule)
FIRES = [
    ("SS-HUNTER", ["I take sertraline and my legs keep jerking on their own"], "emergency"),
    ("SS-HUNTER", ["on prozac. my foot shakes when I flex it and I'm sweating buckets"], "emergency"),
    ("SS-HUNTER", ["I take tramadol", "my eyes are flicking side to side and I can't sit still"], "emergency"),
    ("SS-HUNTER", ["citalopram 20mg, my hands are trembling and my reflexes are really jumpy"], "emergency"),
    ("SS-HUNTER", ["I'm on lithium, stiff as a board, temp of 102 and ankle clonus"], "emergency"),
    ("SS-SYMPTOMS", ["started venlafaxine last week and now I feel really nauseous"], "urgent"),
    ("SS-SYMPTOMS", ["on paxil and I have a fever of 101"], "emergency"),
    ("SS-SYMPTOMS", ["taking Zoloft, I'm shivering and my heart is racing"], "emergency"),
    ("SS-SYMPTOMS", ["I use ginseng and fluoxetine and I'm seeing things"], "emergency"),
    ("COMBO-MAOI", ["I'm on Nardil and the dentist gave me tramadol"], "urgent"),
    ("COMBO-MAOI", ["I was given linezolid in hospital and I take lexapro"], "urgent"),
    ("COMBO-MAOI", ["selegiline patch and dextromethorphan cough syrup"], "urgent"),
    ("COMBO-WASHOUT", ["I stopped prozac 3 weeks ago and started parnate this week"], "urgent"),
    ("COMBO-WASHOUT", ["came off phenelzine 5 days ago, now on sertraline"], "urgent"),
    ("COMBO-HIGH-OPIOID", ["I take sertraline and tramadol"], "routine"),
    ("COMBO-HIGH-OPIOID", ["amitriptyline and methadone"], "routine"),
    ("COMBO-STACK", ["zoloft, lithium and trazodone"], "urgent"),
    ("COMBO-RECREATIONAL", ["I'm on lexapro and took molly on saturday"], "urgent"),
    ("COMBO-RECREATIONAL", ["cymbalta plus adderall"], "urgent"),
    ("COMBO-SEROTONERGIC", ["I take citalopram and St John's wort"], "routine"),
    ("COMBO-SEROTONERGIC", ["sertraline and trazodone"], "routine"),
    ("COMBO-SEROTONERGIC", ["two ssris: paxil and prozac"], "routine"),
    ("COMBO-WEAK", ["I take sertraline and sumatriptan for migraine"], "self_care"),
    ("COMBO-WEAK", ["effexor and zofran"], "self_care"),
    ("RX-TIZANIDINE-CYP1A2", ["tizanidine and ciprofloxacin"], "urgent"),
    ("RX-TIZANIDINE-CYP1A2", ["I take zanaflex and verapamil"], "routine"),
    ("RX-TIZANIDINE-CYP1A2", ["tizanidine and fluvoxamine, I fainted this morning"], "emergency"),
    ("RX-RESP-DEPRESSION", ["gabapentin and oxycodone"], "routine"),
    ("RX-RESP-DEPRESSION", ["he takes valium and morphine and we can't wake him up"], "emergency"),
    ("RX-BACLOFEN-WITHDRAWAL", ["my baclofen pump alarm went off and now I have a fever and I'm confused"], "emergency"),
    ("RX-BACLOFEN-WITHDRAWAL", ["I stopped my baclofen suddenly 2 days ago and now I'm hallucinating"], "emergency"),
    ("RX-BACLOFEN-STOP", ["I ran out of baclofen yesterday"], "urgent"),
    ("RX-BACLOFEN-STOP", ["the intrathecal pump refill was missed last week"], "urgent"),
    ("RX-DANTROLENE-LIVER", ["on dantrolene and my skin looks yellow"], "urgent"),
    ("RX-BENZO-STOP", ["I quit clonazepam cold turkey 3 days ago"], "urgent"),
    ("RX-BENZO-STOP", ["stopped my valium suddenly yesterday and had a seizure"], "emergency"),
    ("RX-SEDATION", ["baclofen makes me drowsy"], "self_care"),
    ("RX-SEDATION", ["tizanidine makes me so dizzy I can't drive or work"], "routine"),
    ("RF-STROKE", ["my face is drooping and my speech is slurred"], "emergency"),
    ("RF-STROKE", ["suddenly my left arm went weak"], "emergency"),
    ("RF-CORD", ["I can't feel my groin and I keep peeing myself"], "emergency"),
    ("RF-CORD", ["both legs are weak and my back is killing me"], "emergency"),
    ("RF-MENINGITIS", ["fever and a stiff neck"], "emergency"),
    ("RF-MENINGITIS", ["temp 39 with the worst headache of my life"], "emergency"),
    ("RF-SEIZURE", ["my daughter had a seizure"], "emergency"),
    ("RF-SEIZURE", ["he passed out and his arms were jerking"], "emergency"),
    ("SEIZURE-HISTORY", ["my son gets seizures every couple of months, he takes keppra"], "routine"),
    ("SEIZURE-HISTORY", ["i was diagnosed with epilepsy when i was 30"], "routine"),
    ("RF-LIVER", ["I have cirrhosis and I'm confused"], "emergency"),
    ("RF-LIVER", ["liver disease, yellow skin and my hands keep jerking"], "emergency"),
    ("RF-BREATHING", ["I can't breathe"], "emergency"),
    ("RF-BREATHING", ["her lips are turning blue"], "emergency"),
    ("RF-INJURY", ["I hit my head yesterday and now my leg is jerking"], "emergency"),
    ("RF-SELF-HARM", ["I want to end it all"], "emergency"),
    ("RF-SELF-HARM", ["sometimes I think about killing myself"], "emergency"),
    ("RF-STATED-EMERGENCY", ["we need an ambulance right now"], "emergency"),
    ("RF-STATED-EMERGENCY", ["book me in for tuesday", "actually forget it, call 911"], "emergency"),
    ("RF-UNRESPONSIVE", ["my dad won't wake up"], "emergency"),
    ("RF-OVERDOSE", ["my son swallowed a whole bottle of my pills"], "emergency"),
    ("RF-UNRESPONSIVE", ["she's not responding to me at all"], "emergency"),
    ("CL-SUSTAINED", ["my ankle clonus goes for 10 beats"], "routine"),
    ("CL-SUSTAINED", ["clonus in my right ankle"], "routine"),
    ("CL-SUSTAINED", ["my foot keeps bouncing every time I walk downstairs"], "routine"),
    ("CL-NEW-SEROTONERGIC", ["I started trazodone 3 days ago and now I get muscle jerks"], "urgent"),
    ("CL-NEW-SEROTONERGIC", ["since my sertraline dose went up I've had twitching in my legs"], "urgent"),
    ("CL-KNOWN-CONDITION", ["I have MS and my clonus is getting worse"], "routine"),
    ("CL-KNOWN-CONDITION", ["cerebral palsy, the clonus makes it hard to walk"], "routine"),
    ("CL-SUDDEN-WORSE", ["my spasticity suddenly got much worse since yesterday"], "urgent"),
    ("CL-SUDDEN-WORSE", ["clonus got way worse overnight and I have a fever"], "emergency"),
    ("CL-BRIEF", ["my ankle did a few beats and stopped on its own"], "self_care"),
    ("CL-BRIEF", ["3 beats of clonus when I stretch, then it stops"], "self_care"),
]

NEAR_MISSES = [
    ("SS-HUNTER", ["my legs keep jerking on their own"]),  # no serotonergic agent
    ("SS-HUNTER", ["I was on sertraline years ago. my legs keep jerking on their own"]),  # past agent
    ("SS-HUNTER", ["I take sertraline and my foot shakes when I flex it"]),  # inducible clonus alone
    ("SS-SYMPTOMS", ["I take baclofen and I feel nauseous"]),  # not serotonergic
    ("SS-SYMPTOMS", ["I take sertraline and I have no fever, no sweating and I am not confused"]),
    ("COMBO-MAOI", ["I take phenelzine"]),
    ("COMBO-MAOI", ["I'm on Nardil and I don't take tramadol"]),
    ("COMBO-WASHOUT", ["I stopped prozac two years ago and now take phenelzine"]),
    ("COMBO-WASHOUT", ["I stopped sertraline 3 weeks ago and started phenelzine"]),
    ("COMBO-HIGH-OPIOID", ["I take sertraline and hydrocodone"]),
    ("COMBO-HIGH-OPIOID", ["I used to take tramadol, now only sertraline"]),
    ("COMBO-STACK", ["zoloft and lithium"]),
    ("COMBO-RECREATIONAL", ["my molly cat sits on me while I take my lexapro"]),
    ("COMBO-RECREATIONAL", ["I take famotidine for acid reflux and citalopram"]),
    ("COMBO-SEROTONERGIC", ["I take sertraline and sumatriptan"]),  # COMBO-WEAK only
    ("COMBO-SEROTONERGIC", ["I take phenelzine and sertraline"]),  # COMBO-MAOI covers it
    ("COMBO-SEROTONERGIC", ["sertraline and tramadol"]),  # COMBO-HIGH-OPIOID covers it
    ("COMBO-WEAK", ["sertraline, sumatriptan and tramadol"]),  # not "only"
    ("COMBO-WEAK", ["sertraline and lithium"]),
    ("RX-TIZANIDINE-CYP1A2", ["tizanidine and ibuprofen"]),
    ("RX-TIZANIDINE-CYP1A2", ["I stopped tizanidine last year and take cipro"]),
    ("RX-RESP-DEPRESSION", ["gabapentin and ibuprofen"]),
    ("RX-RESP-DEPRESSION", ["I take oxycodone, I never took gabapentin"]),
    ("RX-BACLOFEN-WITHDRAWAL", ["my insulin pump alarm went off and I have a fever"]),
    ("RX-BACLOFEN-WITHDRAWAL", ["I take baclofen and I feel fine"]),
    ("RX-BACLOFEN-STOP", ["I take baclofen every day"]),
    ("RX-BACLOFEN-STOP", ["I stopped baclofen five years ago"]),
    ("RX-DANTROLENE-LIVER", ["my skin looks yellow"]),
    ("RX-DANTROLENE-LIVER", ["on dantrolene, no yellow skin and no dark urine"]),
    ("RX-BENZO-STOP", ["I take clonazepam every night"]),
    ("RX-BENZO-STOP", ["I stopped diazepam 3 years ago"]),
    ("RX-SEDATION", ["I feel drowsy"]),  # no sedating medicine
    ("RX-SEDATION", ["I take baclofen and I am not dizzy"]),
    ("RF-STROKE", ["I had a stroke last year"]),
    ("RF-STROKE", ["no face drooping, no slurred speech"]),
    ("RF-STROKE", ["my clonus is only on my left side"]),
    ("RF-CORD", ["no problems with my bladder, I can feel my groin fine"]),
    ("RF-CORD", ["my back hurts"]),
    ("RF-MENINGITIS", ["stiff neck from sleeping wrong, no fever"]),
    ("RF-MENINGITIS", ["I had a fever last month and a stiff neck"]),
    ("RF-SEIZURE", ["I have never had a seizure"]),
    ("RF-SEIZURE", ["this dress doesn't fit me"]),
    ("RF-SEIZURE", ["my daughter gets seizures now and then, she's fine today"]),
    ("SEIZURE-HISTORY", ["my grandma had epilepsy"]),
    ("SEIZURE-HISTORY", ["no history of seizures or epilepsy"]),
    ("RF-LIVER", ["I'm confused about my appointment"]),
    ("RF-LIVER", ["I have hepatitis, no confusion"]),
    ("RF-BREATHING", ["I'm feeling blue today"]),
    ("RF-BREATHING", ["breathing is fine"]),
    ("RF-INJURY", ["I hit my head yesterday, no other problems"]),
    ("RF-INJURY", ["I have a spinal cord injury from 2010 and clonus"]),
    ("RF-SELF-HARM", ["I'm not suicidal, just tired of the spasms"]),
    ("RF-SELF-HARM", ["this clonus is killing my mood"]),
    ("RF-STATED-EMERGENCY", ["this is not an emergency, just a question"]),
    ("RF-STATED-EMERGENCY", ["when should I call 911 about clonus?"]),
    ("RF-UNRESPONSIVE", ["the clinic is not answering the phone"]),
    ("RF-OVERDOSE", ["I took all my pills this morning as usual"]),
    ("RF-UNRESPONSIVE", ["my husband isn't answering his texts"]),
    ("CL-SUSTAINED", ["a few beats of clonus that stop on their own"]),
    ("CL-SUSTAINED", ["what is clonus?"]),
    ("CL-NEW-SEROTONERGIC", ["I started trazodone 3 days ago and I feel fine"]),
    ("CL-NEW-SEROTONERGIC", ["I started baclofen 3 days ago and now I get muscle jerks"]),
    ("CL-KNOWN-CONDITION", ["I have MS"]),
    ("CL-KNOWN-CONDITION", ["my clonus is getting worse"]),
    ("CL-SUDDEN-WORSE", ["my clonus has slowly got worse over the years"]),
    ("CL-SUDDEN-WORSE", ["I suddenly remembered my appointment"]),
    ("CL-BRIEF", ["a few beats of clonus and I'm sweating a lot and feel sick"]),
    ("CL-BRIEF", ["I take sertraline and my ankle does a few beats and stops"]),
]


def _flags(messages):
    return {f.id: f for f in assess(messages).red_flags}


@pytest.mark.parametrize("rule_id, messages, level", FIRES, ids=[f"{r}-{i}" for i, (r, _, _) in enumerate(FIRES)])
def test_rule_fires(rule_id, messages, level):
    flags = _flags(messages)
    assert rule_id in flags, f"{rule_id} did not fire; fired: {sorted(flags)}"
    assert flags[rule_id].level == level
    assert flags[rule_id].reason.endswith(".") and len(flags[rule_id].reason) < 300


@pytest.mark.parametrize("rule_id, messages", NEAR_MISSES, ids=[f"{r}-{i}" for i, (r, _) in enumerate(NEAR_MISSES)])
def test_near_miss_does_not_fire(rule_id, messages):
    flags = _flags(messages)
    assert rule_id not in flags, f"{rule_id} fired on a near miss: {flags[rule_id].reason}"


def test_every_rule_id_has_a_firing_case_and_a_near_miss():
    assert {r for r, _, _ in FIRES} == set(RULE_IDS)
    assert {r for r, _ in NEAR_MISSES} == set(RULE_IDS)


def test_level_is_the_highest_fired_and_self_care_when_none():
    a = assess(["I take sertraline and tramadol and I can't breathe"])
    assert a.triage_level == "emergency"
    assert {"COMBO-HIGH-OPIOID", "RF-BREATHING"} <= set(a.rule_ids)
    assert assess(["hello, what is clonus?"]).triage_level == "self_care"
    assert assess(["hello"]).red_flags == []


def test_reasons_name_the_medicines():
    a = assess(["You know, I take phenelzine and tramadol"])
    reason = {f.id: f.reason for f in a.red_flags}["COMBO-MAOI"]
    assert reason == "You take phenelzine and tramadol together; this combination can cause serotonin syndrome."


def test_levels_order():
    assert LEVELS == ("self_care", "routine", "urgent", "emergency")


def test_later_message_raises_and_correction_lowers():
    first = assess(["I take lexapro"])
    assert first.triage_level == "self_care"
    raised = assess(["I take lexapro", "and tramadol since last week"])
    assert raised.triage_level == "routine"
    corrected = assess(["I take lexapro", "and tramadol since last week", "actually I'm not on tramadol"])
    assert corrected.triage_level == "self_care"
    assert [m.name for m in corrected.medications] == ["escitalopram"]


def test_plain_denial_without_correction_does_not_lower():
    a = assess(["I'm on zoloft and I have a fever", "I don't have a fever"])
    assert a.triage_level == "emergency"
    fixed = assess(["I'm on zoloft and I have a fever", "sorry, I meant I do NOT have a fever"])
    assert fixed.triage_level == "self_care"
