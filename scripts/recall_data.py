"""Generated lay phrasings for the recall layer (bot/recall), labelled with symptom features.

Every feature has lay CLAUSES ("my legs keep jerking on their own") and NOUN PHRASES ("heavy
sweating"). Sentences are made from them in patient and caregiver voice, wrapped in templates that
AFFIRM the feature (label 1) or do NOT affirm it (label 0): negation ("I don't have any heavy
sweating", "no X or Y"), hypothetical ("what if ..."), another person's history ("my uncle had ...",
"it runs in the family"), and the past ("I used to have ... years ago"). Benign self-care sentences
are 0 for every feature. Nothing here comes from a test or blind set.

The split is BY PHRASE: about a quarter of each feature's clauses and noun phrases are held out and
appear only in the validation sentences, so the validation figures measure paraphrase the model has
not read, not memorised templates.
"""

from __future__ import annotations

import random
from typing import Dict, Iterator, List, Sequence, Tuple

# ------------------------------------------------------------------------------------- lay vocabulary
# {I} {my} {me} {myself} {am} {have} {was} {do} are filled by the voice (patient, son, mother ...).
CLAUSES: Dict[str, List[str]] = {
    "spontaneous_clonus": [
        "{my} legs are jerking nonstop even at rest", "{my} muscles twitch constantly by themselves",
        "{my} legs keep jerking on their own", "{my} arms twitch by themselves", "{my} muscles keep jumping all over for no reason",
        "{my} leg won't stop bouncing even when {I} lie still", "{my} whole body keeps spasming by itself",
        "{my} legs kick out on their own in bed", "{my} body keeps jolting by itself", "{my} calves twitch nonstop without {me} moving",
        "{my} feet keep jumping while {I} {am} sitting still", "{I} can't stop the jerking in {my} legs",
        "there are random jerks all over {my} body", "{my} thighs keep contracting rhythmically on their own",
        "{my} arm keeps flinging out without {me} doing anything", "{my} muscles are going off like popcorn by themselves",
        "{my} legs are bouncing up and down on their own while {I} rest",
    ],
    "inducible_clonus": [
        "{my} foot shakes when {I} flex it", "{my} ankle bounces when {I} push {my} foot up",
        "when {I} stand on {my} toes {my} leg starts shaking", "if {I} press {my} foot down it beats up and down",
        "{my} leg trembles rhythmically every time {I} step on the stairs", "{my} knee jumps over and over when {I} straighten it",
        "pressing {my} foot against the floor sets off a shaking that keeps going", "{my} calf bounces when {I} put weight on it",
        "flexing {my} ankle makes it jerk again and again", "{my} foot goes into a rhythmic shake when {I} put it on the pedal",
        "when the nurse bent {my} foot up it kept beating", "{my} heel taps by itself once {I} lift {my} foot",
    ],
    "ocular_clonus": [
        "{my} eyes are flicking side to side", "{my} eyes keep darting back and forth", "{my} eyes won't stay still",
        "{my} eyeballs are jumping", "{my} eyes are twitching rhythmically", "{my} eyes are moving on their own",
        "{my} eyes keep jerking so everything jiggles", "{my} eyes roll back and forth nonstop",
        "{my} eyes are bouncing around", "{my} eyes are fluttering left and right",
    ],
    "diaphoresis": [
        "{I} {am} sweating through {my} clothes", "{I} {am} sweaty and clammy all over",
        "{I} {am} sweating buckets", "{I} {am} drenched in sweat", "{I} {am} soaking wet with sweat", "sweat is pouring off {me}",
        "{my} shirt is soaked through with sweat", "{I} {am} dripping sweat just sitting here", "{I} woke up in a pool of sweat",
        "{I} {am} sweating like crazy", "{my} skin is clammy and wet", "{I} {have} been sweating so much {I} had to change clothes",
        "{I} {am} pouring sweat", "the sweat is running down {my} face", "{my} sheets are wet from sweating",
    ],
    "agitation": [
        "{I} {am} so anxious and revved up {I} can't stop moving", "{I} feel crazy restless inside", "{I} {am} bouncing off the walls", "{I} {have} been really worked up and hyper", "{I} {am} freaking out and can't keep still",
        "{I} can't sit still", "{I} {am} super restless and pacing", "{I} feel so wound up {I} could jump out of {my} skin",
        "{I} {am} really agitated", "{I} {am} pacing around the house", "{I} {am} jittery and keyed up",
        "{I} feel on edge and can't settle", "{I} {am} so restless {I} can't stay in bed", "{I} {am} irritable and all over the place",
        "{I} can't calm down at all", "{I} {am} climbing the walls", "{I} {am} fidgeting nonstop",
    ],
    "loss_of_consciousness": [
        "{I} just dropped and didn't wake up for a bit", "{I} went out like a light and hit the floor", "{I} wasn't with it and didn't respond for a couple of minutes", "{I} fell down and was totally out", "{I} conked out and we couldn't wake {me}",
        "{I} passed out", "{I} blacked out", "{I} fainted in the kitchen", "{I} collapsed and wasn't responding",
        "{I} went limp and didn't answer", "{I} was out cold for a minute", "{I} lost consciousness", "{I} keeled over",
        "{I} dropped to the floor and wasn't awake", "{I} came to on the floor", "{I} went unconscious",
        "{I} zoned out completely and didn't respond to {my} name",
    ],
    "seizure": [
        "{I} had a fit and was twitching all over", "{I} {was} jerking on the floor and turned blue", "{I} blanked out and {my} arms and legs were jerking",
        "{I} had a seizure", "{I} had a fit", "{I} was convulsing", "{my} whole body was shaking and stiff and {I} wasn't responding",
        "{I} went rigid and started jerking all over", "{I} had a convulsion", "{my} eyes rolled back and {I} shook all over",
        "{I} was foaming at the mouth and jerking", "{I} shook uncontrollably and bit {my} tongue", "{I} had a grand mal",
        "{I} had an episode where {I} stiffened and thrashed", "{I} was shaking on the floor and wet {myself}",
    ],
    "self_harm": [
        "{I} {have} been thinking it would be easier if {I} wasn't here", "{I} {am} tired of living", "{I} {have} thought about overdosing on {my} meds", "{I} {have} been writing goodbye letters", "part of {me} wants to just not exist anymore", "{I} {have} been thinking about jumping off the bridge",
        "{I} wish {I} could go to sleep and not wake up", "{I} {have} been thinking about killing {myself}", "{I} want to end it all",
        "{I} don't want to be alive anymore", "everyone would be better off without {me}", "{I} {have} been saving up {my} pills",
        "{I} know how {I} would do it", "{I} {have} thought about taking all {my} pills at once", "{I} want to hurt {myself}",
        "{I} {have} been cutting {myself}", "{I} keep thinking about suicide", "{I} don't see the point in living anymore",
        "{I} {have} a plan to end {my} life", "{I} looked up how many pills it would take", "{I} want to die",
        "{I} {have} been stockpiling {my} meds for when {I} {am} ready", "{I} wouldn't mind if {I} didn't wake up tomorrow",
        "{I} {have} been thinking {I} should just disappear for good",
    ],
    "breathing_trouble": [
        "{my} breathing is really slow and weird", "{I} {am} barely breathing", "{I} {am} breathing funny and gaspy",
        "{I} can't breathe", "{I} {am} struggling to breathe", "{I} {am} gasping for air", "{I} can't catch {my} breath",
        "{my} chest is tight and {I} can't get air in", "{I} {am} short of breath just sitting here", "{I} feel like {I} {am} suffocating",
        "{my} breathing is really labored", "{I} {am} wheezing and can't get enough air", "{I} {am} breathing really shallow and slow",
        "{I} {am} choking for air", "{I} {have} to fight for every breath",
    ],
    "blue_lips": [
        "{my} lips are turning blue", "{my} fingertips look bluish", "{my} lips look purple", "{my} face is going grey and blue",
        "{my} nails have gone blue", "{my} mouth looks blue around the edges",
    ],
    "unresponsive": [
        "{I} {am} limp and not answering us", "{I} won't open {my} eyes when we shake {me}",
        "{I} won't wake up no matter what", "{I} {am} not responding when we talk to {me}", "{I} {am} completely unresponsive",
        "we can't wake {me} up", "{I} {am} breathing but won't respond", "{I} {am} just staring and not reacting to anything",
    ],
    "extreme_sleepiness": [
        "{I} {am} way too sleepy and hard to wake", "{I} can barely keep {my} head up",
        "{I} {am} so sleepy {I} can't keep {my} eyes open", "{I} keep nodding off mid sentence", "{I} {am} barely able to stay awake",
        "{I} {have} been asleep all day and hard to rouse", "{I} {am} so drowsy {I} fall asleep standing up", "{I} {am} out of it and dozing constantly",
    ],
    "face_droop": [
        "{my} face suddenly went slack on one side", "the corner of {my} mouth is hanging down", "{my} face feels numb and droops when {I} smile",
        "one side of {my} face is drooping", "{my} smile is suddenly crooked", "{my} mouth is drooping on the left",
        "{my} face looks lopsided all of a sudden", "half {my} face went numb and droopy", "{my} eyelid and cheek are sagging on one side",
    ],
    "one_sided_weakness": [
        "{my} left side suddenly gave out", "{I} can't grip with {my} right hand since this morning", "{my} leg on one side just collapsed under {me}",
        "{my} right arm suddenly went weak", "{I} can't lift {my} left arm", "{my} left leg is suddenly numb and weak",
        "one side of {my} body feels heavy and weak", "{my} arm and leg on one side won't work properly", "{I} {am} dragging {my} right leg all of a sudden",
        "{I} dropped {my} cup because {my} hand went dead on one side",
    ],
    "speech_problem": [
        "{I} {am} struggling to find words all of a sudden", "{my} words are jumbled", "{I} sound drunk but haven't been drinking",
        "{my} speech is slurred", "{I} can't get {my} words out", "{I} {am} talking gibberish", "{my} words are coming out wrong",
        "{I} suddenly can't speak properly", "{I} {am} mumbling and nobody can understand {me}", "{I} {am} slurring like {I} {am} drunk",
    ],
    "vision_loss": [
        "a curtain came down over {my} eye", "{I} can't see out of {my} right eye suddenly", "{I} {am} seeing two of everything",
        "{I} suddenly lost vision in one eye", "{I} {am} seeing double", "everything went dark in {my} left eye",
        "{my} vision suddenly went blurry and doubled", "{I} went blind in one eye for a few minutes", "half of what {I} see is missing",
    ],
    "fever": [
        "{I} {am} roasting hot and sweaty with chills", "{I} feel like {I} {am} on fire", "{my} forehead is burning", "{I} spiked a temp last night", "{I} {have} got a really high fever",
        "{I} {have} a fever of 102", "{I} {am} burning up", "{my} temperature is 39", "{I} feel hot and feverish",
        "{I} {am} running a high temp", "the thermometer says 101.5", "{I} {have} a temperature of 103", "{I} {am} hot to the touch and shivery",
        "{my} temp went up to 38.8",
    ],
    "confusion": [
        "{I} {am} not {myself} and keep asking the same thing", "{I} {am} talking nonsense", "{I} {have} no idea what's going on around {me}", "{I} got lost in {my} own house", "{I} {am} all mixed up and can't follow a conversation",
        "{I} {am} really confused", "{I} don't know where {I} am", "{I} {am} not making sense", "{I} {am} disoriented and foggy",
        "{I} didn't recognise {my} own family", "{I} keep forgetting what day it is and {am} muddled", "{I} can't think straight",
        "{I} {am} saying strange things and seem lost", "{I} {am} acting really confused and out of it",
    ],
    "hypertonia": [
        "{my} muscles are tight and rigid all over", "{I} {am} stiff all over and can't move {my} limbs",
        "{my} muscles are stiff as a board", "{my} whole body is rigid", "{my} legs are locked stiff", "{I} {am} so stiff {I} can't bend {my} arms",
        "{my} muscles are clenched tight and won't relax", "{my} jaw and neck are rigid", "{my} body has gone stiff like a plank",
        "{my} spasms are way worse and {my} legs are rock hard",
    ],
    "hallucinations": [
        "{I} see things crawling that aren't there", "{I} {have} been hearing things no one else hears",
        "{I} {am} seeing things that aren't there", "{I} {am} hearing voices", "{I} saw bugs crawling on the wall that weren't real",
        "{I} {am} seeing people in the room who aren't there", "{I} {am} hallucinating", "{I} {am} talking to people who aren't there",
        "{I} hear music that nobody else hears", "{I} keep seeing shadows moving that aren't real",
    ],
    "hyperreflexia": [
        "{my} reflexes are really jumpy", "the doctor tapped {my} knee and {my} leg flew up", "{my} reflexes are super brisk",
        "{my} reflexes are way overactive", "the slightest tap makes {my} leg kick",
    ],
    "tremor": [
        "{my} hands are shaking", "{I} {have} a tremor", "{my} hands tremble", "{I} {am} shaky all over",
        "{my} hands shake so much {I} spill {my} coffee", "{my} fingers are trembling",
    ],
}

NOUNS: Dict[str, List[str]] = {
    "spontaneous_clonus": ["jerking on its own", "muscle jerks that come by themselves", "spontaneous twitching", "jerks out of nowhere", "random jerking"],
    "inducible_clonus": ["foot shaking when I flex it", "ankle bouncing", "clonus in my ankle", "shaking when I press my foot down"],
    "ocular_clonus": ["eye flickering", "eyes darting around", "jumpy eye movements", "eye jerking"],
    "diaphoresis": ["heavy sweating", "sweating", "night sweats", "clammy skin", "drenching sweats"],
    "agitation": ["restlessness", "agitation", "feeling keyed up", "pacing"],
    "loss_of_consciousness": ["fainting", "blackouts", "passing out", "losing consciousness"],
    "seizure": ["a seizure", "seizures", "convulsions", "fits", "an epileptic fit"],
    "self_harm": ["thoughts of suicide", "thoughts of hurting myself", "suicidal thoughts", "self harm", "wanting to die", "thoughts of ending my life"],
    "breathing_trouble": ["trouble breathing", "shortness of breath", "breathing problems", "difficulty breathing"],
    "blue_lips": ["blue lips", "bluish fingers"],
    "unresponsive": ["unresponsiveness"],
    "extreme_sleepiness": ["extreme sleepiness", "being unable to stay awake"],
    "face_droop": ["face drooping", "a droopy face"],
    "one_sided_weakness": ["weakness on one side", "a weak arm", "numbness down one side"],
    "speech_problem": ["slurred speech", "trouble talking"],
    "vision_loss": ["double vision", "vision loss", "blindness in one eye"],
    "fever": ["a fever", "fever", "a temperature", "a high temperature"],
    "confusion": ["confusion", "disorientation", "brain fog"],
    "hypertonia": ["muscle stiffness", "rigidity", "stiff muscles"],
    "hallucinations": ["hallucinations", "visions", "hearing voices"],
    "hyperreflexia": ["jumpy reflexes", "brisk reflexes"],
    "tremor": ["a tremor", "shaking hands", "trembling"],
}

FEATURES: Tuple[str, ...] = tuple(CLAUSES)

# Sentences that need no care beyond self-care, or say nothing about a feature: 0 for every feature.
BENIGN = [
    "{my} foot twitched a couple of times last night and then stopped", "{I} get a little sweaty when {I} work out",
    "{I} feel a bit tired today", "{I} {have} a mild headache", "can {I} book an appointment for next week",
    "{I} {am} on sertraline 50mg", "is it ok to take ibuprofen with baclofen", "{my} legs feel a little tight in the morning",
    "{I} {am} a little nervous about {my} appointment", "thanks for your help", "{I} {have} had mild spasticity from MS for years",
    "{my} eyelid twitches now and then when {I} {am} tired", "{I} jerk once as {I} fall asleep sometimes", "{I} sleep fine",
    "what time does the clinic open", "{I} need a refill of {my} tizanidine", "{I} take gabapentin at night",
    "{my} ankle gave two little beats and stopped", "{I} feel warm after a hot shower", "the weather is hot so {I} {am} sweaty",
    "{I} {am} stressed about work", "{I} {have} been sleeping more because of the holidays", "{I} {am} fine otherwise",
    "{I} had a flu shot yesterday", "{I} {am} doing physio for {my} leg", "{my} hands get cold in winter",
    "{I} {have} a stuffy nose", "{I} want to talk to the nurse", "{I} {am} asking for {my} mom", "{I} feel a little dizzy when {I} stand up fast",
    "who should {I} call about {my} bill", "{I} {have} been feeling pretty good lately", "{I} went for a run and {my} legs are sore",
    "{I} can breathe fine", "{I} {am} breathing normally", "{I} {am} awake and alert", "{I} know where {I} am",
]

VOICES = [
    {"I": "I", "my": "my", "me": "me", "myself": "myself", "am": "am", "have": "have", "was": "was", "do": "do"},
    {"I": "he", "my": "his", "me": "him", "myself": "himself", "am": "is", "have": "has", "was": "was", "do": "does"},
    {"I": "she", "my": "her", "me": "her", "myself": "herself", "am": "is", "have": "has", "was": "was", "do": "does"},
    {"I": "my son", "my": "his", "me": "him", "myself": "himself", "am": "is", "have": "has", "was": "was", "do": "does"},
    {"I": "my mom", "my": "her", "me": "her", "myself": "herself", "am": "is", "have": "has", "was": "was", "do": "does"},
    {"I": "my husband", "my": "his", "me": "him", "myself": "himself", "am": "is", "have": "has", "was": "was", "do": "does"},
    {"I": "my daughter", "my": "her", "me": "her", "myself": "herself", "am": "is", "have": "has", "was": "was", "do": "does"},
]

AFFIRM = [
    "{c}", "{c} since yesterday", "{c} after starting the new medicine", "also {c}", "and now {c}", "{c}, what should {I} do",
    "help {c}", "{c} and it's scary", "for the last hour {c}", "ok so {c}", "{c} tonight", "{c} again", "honestly {c}",
    "i think {c}", "{c} and {I} {am} on zoloft", "since the dose went up {c}", "{c}!!", "right now {c}", "{c} is that bad",
]
# A noun phrase the person has now (affirmed).
AFFIRM_NOUN = ["{I} {have} {n}", "{I} {have} {n} right now", "{I}'ve got {n} since this morning", "there is {n} now", "now {n} too"]
NEGATE = [
    "{I} {do}n't have any {n}", "{I} {do} not have any {n}", "{I} {have} not had any {n}", "no {n} thank god",
    "{I} {am} not having any {n} at all", "{I} {do}nt have {n} or anything like that", "and no {n}", "no {n}", "there's been no {n}", "zero {n}", "{I} never had {n}", "not having {n} or anything",
    "{I} {do} not have {n}", "{I} {have}n't had {n}", "no {n} at all", "without {n}", "{I} {do}nt have {n}", "nothing like {n}",
    "{I} {have} no {n} whatsoever", "definitely no {n}", "{I} {am} not having {n}",
]
NEGATE_LIST = ["{I} {do}n't have any {n} or {n2}", "no {n}, no {n2}", "{I} {do}nt have any {n} or {n2} or {n3}", "no {n} or {n2} or anything like that"]
NEGATE_CLAUSE = ["it's not like {c}", "{I} wouldn't say {c}", "not that {c}", "it is not true that {c}"]
HYPOTHETICAL = [
    "what if {c}", "would it be bad if {c}", "is it normal if {c}", "should {I} worry if {c}", "what happens if {c}",
    "hypothetically if {c}", "what should {I} do if {c}", "in case {c} later", "would you tell me if {c} is dangerous",
]
HYPOTHETICAL_NOUN = ["what if {I} get {n}", "could this cause {n}", "is {n} a side effect", "can it lead to {n}", "what are the signs of {n}"]
OTHER_PERSON = [
    "my uncle had {n} years ago", "{n} runs in my family", "my grandma used to get {n}", "my friend had {n} once",
    "my dad had {n} before he died", "my cousin gets {n} sometimes", "my sister had {n} as a teenager",
]
PAST = ["{I} had {n} years ago but not now", "{I} used to get {n} as a kid", "{I} had {n} back in 2015", "{I} haven't had {n} in years"]


def _fill(template: str, voice: Dict[str, str]) -> str:
    out = template
    for key, value in voice.items():
        out = out.replace("{" + key + "}", value)
    return out


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def split_phrases(seed: int = 13) -> Tuple[Dict[str, Dict[str, List[str]]], Dict[str, Dict[str, List[str]]]]:
    """Per feature, (train, held-out) clauses and noun phrases: about a quarter held out."""
    rng = random.Random(seed)
    train: Dict[str, Dict[str, List[str]]] = {}
    held: Dict[str, Dict[str, List[str]]] = {}
    for f in FEATURES:
        train[f], held[f] = {}, {}
        for kind, source in (("c", CLAUSES[f]), ("n", NOUNS[f])):
            items = list(source)
            rng.shuffle(items)
            k = max(1, len(items) // 4) if len(items) >= 3 else 0
            held[f][kind] = items[:k] or items[:1]
            train[f][kind] = items[k:] or items
    return train, held


def sentences(phrases: Dict[str, Dict[str, List[str]]], benign: Sequence[str], n_per_feature: int,
              seed: int) -> Iterator[Tuple[str, Dict[str, int]]]:
    """(sentence, labels) pairs; labels name only the features the sentence affirms (value 1); a
    feature not named is 0."""
    rng = random.Random(seed)
    for f in FEATURES:
        cl, nn = phrases[f]["c"], phrases[f]["n"]
        for _ in range(n_per_feature):
            voice = rng.choice(VOICES)
            c = _fill(rng.choice(cl), voice)
            n = _fill(rng.choice(nn), voice)
            roll = rng.random()
            if roll < 0.40:
                yield _cap(_fill(rng.choice(AFFIRM), voice).replace("{c}", c)), {f: 1}
            elif roll < 0.48:
                yield _cap(_fill(rng.choice(AFFIRM_NOUN), voice).replace("{n}", n)), {f: 1}
            elif roll < 0.53:
                # two features at once, both affirmed
                g = rng.choice([x for x in FEATURES if x != f])
                c2 = _fill(rng.choice(phrases[g]["c"]), voice)
                yield _cap(f"{c} and {c2}"), {f: 1, g: 1}
            elif roll < 0.70:
                yield _cap(_fill(rng.choice(NEGATE), voice).replace("{n}", n)), {}
            elif roll < 0.76:
                others = [_fill(rng.choice(phrases[g]["n"]), voice) for g in rng.sample(FEATURES, 2)]
                t = _fill(rng.choice(NEGATE_LIST), voice).replace("{n}", n, 1).replace("{n2}", others[0]).replace("{n3}", others[1])
                yield _cap(t), {}
            elif roll < 0.79:
                yield _cap(_fill(rng.choice(NEGATE_CLAUSE), voice).replace("{c}", c)), {}
            elif roll < 0.89:
                if rng.random() < 0.6:
                    yield _cap(_fill(rng.choice(HYPOTHETICAL), voice).replace("{c}", c)), {}
                else:
                    yield _cap(_fill(rng.choice(HYPOTHETICAL_NOUN), voice).replace("{n}", n)), {}
            elif roll < 0.96:
                yield _cap(rng.choice(OTHER_PERSON).replace("{n}", _fill(rng.choice(nn), VOICES[0]))), {}
            else:
                yield _cap(_fill(rng.choice(PAST), voice).replace("{n}", n)), {}
    for _ in range(n_per_feature * 2):
        voice = rng.choice(VOICES)
        yield _cap(_fill(rng.choice(benign), voice)), {}


def datasets(n_train: int = 600, n_valid: int = 200) -> Tuple[List[Tuple[str, Dict[str, int]]], List[Tuple[str, Dict[str, int]]]]:
    train_phrases, held_phrases = split_phrases()
    rng = random.Random(5)
    benign = list(BENIGN)
    rng.shuffle(benign)
    k = len(benign) // 4
    train = list(sentences(train_phrases, benign[k:], n_train, seed=1))
    valid = list(sentences(held_phrases, benign[:k], n_valid, seed=2))
    return train, valid


def full_dataset(n: int = 800) -> List[Tuple[str, Dict[str, int]]]:
    """Sentences from every phrase (what the shipped model is trained on)."""
    every = {f: {"c": CLAUSES[f], "n": NOUNS[f]} for f in FEATURES}
    return list(sentences(every, BENIGN, n, seed=3))
