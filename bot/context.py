"""Context of what a person says, once for the whole engine: negated, hypothetical, historical, and
whose it is (the experiencer).

Both the symptom extractor (bot.symptoms) and the medicine recogniser (bot.medications) ask this module
whether a span of a message is

- **negated**      "no fever", "i dont have any sweating or fever or twitching", "zero thoughts of ...",
                   "never had a seizure", "denies", "free of";
- **hypothetical** "what if I got a fever", "would it be bad if I took ...", "can I take ...",
                   "hypothetically", "in case", "thinking of starting ...";
- **historical**   "years ago", "used to", "as a kid", "finished the course", "my old meds", a time
                   reference two weeks or more ago ("I had a fever last month");
- **another person's** family history or someone who is not the patient ("my uncle had a stroke",
                   "it runs in the family"). A caregiver speaking FOR the patient ("my husband is on
                   zoloft", "she keeps jerking") is still the patient: `patient_of()` reads, for the
                   conversation, whom the person speaks for, and that person's words never count as
                   another person's.

The algorithm is ConText (Harkema, Dowling, Thornblade & Chapman, J Biomed Inform 2009;42:839-51):
trigger phrases of a category open a scope forward or backward, the scope ends at the end of the
clause, at a termination term ("but", "except", "now" ...) or after a window of words, and a target
inside a scope takes the category. Pseudo-triggers ("not sure", "no longer" ...) are not triggers.

Why our own implementation and not medspaCy's ConText (medspacy 1.3.1, evaluated on this machine
on 2026-12-01 with spaCy 3.7.5, see scripts in the issue-9 report):
- with its default rules it missed half of the lay phrasings this engine must handle: "i dont have
  any sweating or fever or twitching" (twitching not negated), "zero thoughts of hurting myself",
  "I used to take prozac, now lexapro" (prozac not historical), "I finished the course of cipro";
  we would write and own the trigger rules anyway, which is most of the work;
- importing it costs about 1.3 s with spaCy (the cold-start target of `python -m bot` is 1 s), its
  package imports `quickumls` (medspacy_quickumls, simstring, unqlite) at import time even for ConText
  alone, and its default sentence splitter PyRuSH logs every token through loguru at DEBUG (message
  text in logs is forbidden here);
- it needs a spaCy Doc with entity spans; our symptom features are regular expressions over the
  normalised text, so we would tokenise twice per message for the 5 ms per-message budget.
The trigger table below is data (TRIGGERS); a new lay phrasing is one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, List, Optional, Pattern, Sequence, Tuple

from bot.text_utils import clean, days_ago

NEGATED = "negated"
HYPOTHETICAL = "hypothetical"
HISTORICAL = "historical"
OTHER = "other_person"
CATEGORIES = (NEGATED, HYPOTHETICAL, HISTORICAL, OTHER)

FORWARD, BACKWARD, BOTH = "forward", "backward", "both"
#: Aspects of an event (Context.aspect).
CURRENT, HABITUAL = "current", "habitual"


@dataclass(frozen=True)
class Modifiers:
    negated: bool = False
    hypothetical: bool = False
    historical: bool = False
    other_person: bool = False
    #: the historical reading comes only from a time reference ("last month"), not a cue like "used to"
    historical_by_time_only: bool = False
    #: the hypothetical reading is a plan for later ("I'll be starting Emsam soon", "getting imitrex
    #: tomorrow"): not taken yet, even when the person says "my" ("getting my pump put in on the 14th")
    future: bool = False
    #: aspect of an event (bot.context.Context.aspect): happening now or just now ("is having a seizure
    #: right now", "just went stiff", "wont stop") ...
    current_event: bool = False
    #: ... or a known, recurring history ("gets seizures sometimes", "has had seizures", "usually").
    #: Neither changes `asserted`: the reader of an episodic feature decides (bot.symptoms, RF-SEIZURE).
    habitual: bool = False

    @property
    def asserted(self) -> bool:
        """Said of the patient, now, as a fact."""
        return not (self.negated or self.hypothetical or self.historical or self.other_person)


@dataclass(frozen=True)
class Trigger:
    category: str
    direction: str
    pattern: Pattern[str]
    window: int  # words the scope reaches at most


def _t(category: str, direction: str, patterns: Sequence[str], window: int = 8) -> List[Trigger]:
    return [Trigger(category, direction, re.compile(rf"\b(?:{p})\b"), window) for p in patterns]


# Relations a caregiver speaks for, with the pronoun used for them in the person's reading.
RELATIONS: Dict[str, str] = {
    "wife": "she", "husband": "he", "hubby": "he", "partner": "they", "spouse": "they", "mom": "she",
    "mum": "she", "mother": "she", "mommy": "she", "mama": "she", "dad": "he", "father": "he", "daddy": "he",
    "son": "he", "daughter": "she", "kid": "they", "child": "they", "baby": "they", "boy": "he", "girl": "she",
    "grandma": "she", "grandmother": "she", "granny": "she", "nan": "she", "nana": "she", "grandpa": "he",
    "grandfather": "he", "brother": "he", "sister": "she", "aunt": "she", "uncle": "he", "cousin": "they",
    "niece": "she", "nephew": "he", "friend": "they", "boyfriend": "he", "girlfriend": "she", "fiance": "they",
    "fiancee": "she", "stepson": "he", "stepdaughter": "she", "stepmom": "she", "stepdad": "he",
    "client": "they", "patient": "they", "roommate": "they", "neighbor": "they", "neighbour": "they",
    "teenager": "they", "toddler": "they", "grandson": "he", "granddaughter": "she",
}
#: Words for the same relation ("advice for my mother" ... "my mom is on nardil": one person).
_SAME_RELATION: Dict[str, str] = {
    "mum": "mom", "mother": "mom", "mommy": "mom", "mama": "mom", "father": "dad", "daddy": "dad", "hubby": "husband",
    "grandmother": "grandma", "granny": "grandma", "nan": "grandma", "nana": "grandma", "grandfather": "grandpa",
    "child": "kid", "fiancee": "fiance",
}


def same_relation(a: Optional[str], b: Optional[str]) -> bool:
    """Whether two relation words name the same relation ("mother" and "mom"); False when either is None."""
    if not a or not b:
        return False
    return _SAME_RELATION.get(a, a) == _SAME_RELATION.get(b, b)


#: Relations whose past illnesses are family history rather than care ("my uncle had a stroke").
EXTENDED_FAMILY = frozenset({"uncle", "aunt", "cousin", "niece", "nephew", "grandpa", "grandfather", "grandma",
                             "grandmother", "brother", "sister", "friend", "neighbor", "neighbour", "roommate"})
_REL = "|".join(sorted(RELATIONS, key=len, reverse=True))
_REL_WORD = re.compile(rf"\b(?:my|our)\s+(?:(?:\w+)\s+)?({_REL})s?\b")

# ------------------------------------------------------------------------------------ triggers
# Patterns run on the normalised message: lowercase, apostrophes removed ("dont", "im", "shes").
PSEUDO = [re.compile(rf"\b(?:{p})\b") for p in (
    r"not sure", r"not certain", r"no idea", r"not only", r"not just", r"no matter", r"no wonder",
    r"dont know", r"doesnt know", r"didnt know", r"not know", r"no longer", r"not long", r"no change in",
    r"not stop(?:ping)?", r"wont stop", r"doesnt stop", r"cant stop", r"cannot stop", r"wouldnt stop",
    r"dont stop", r"didnt stop", r"not improving", r"no better", r"not better", r"not helping",
    r"doesnt help", r"didnt help", r"not working", r"isnt working", r"doesnt work", r"no relief",
    r"cant tell", r"not (?:too )?bad", r"if so", r"even if", r"as if", r"if not", r"see if",
    r"not normal", r"nothing (?:else )?helps", r"no one knows", r"never mind", r"nevermind",
    r"if that matters", r"if it matters", r"if that helps", r"if it helps", r"not making sense",
    r"doesnt make sense", r"not responding", r"isnt responding", r"wont wake", r"cant wake", r"not waking",
    r"no reason", r"no point", r"(?:making|makes|made|make) no sense",
    r"not (?:himself|herself|themselves|myself|yourself|quite right|right in the head)", r"dont want to (?:live|be alive|be here|wake up|go on|exist)",
    r"dont wanna (?:live|be alive|be here|wake up|go on|exist)", r"not want to (?:live|be alive|wake up)",
    r"not wake up", r"never wake up", r"cant go on", r"cant do this", r"cant take (?:it|this)",
    r"not worth", r"no way out", r"not be here", r"not be around", r"not exist", r"no reason to live",
    r"can not", r"cant (?:breathe|feel|move|walk|speak|talk|see|stay|sit|stand|swallow|control|hold|get)",
    r"unable to", r"not able to", r"couldnt (?:breathe|feel|move|walk|speak|talk|see|stay|sit|stand)",
    r"doesnt fit", r"not sleeping", r"cant sleep", r"no despertar\w*", r"no (?:quiero|quisiera) (?:vivir|despertar|seguir)",
    r"(?:wont|cant|doesnt|isnt|not) wak(?:e|ing) up", r"(?:isnt|arent|wasnt|werent|not) (?:really )?there",
    r"wont (?:respond|answer|wake)\w*", r"doesnt (?:respond|answer)\w*",
    r"(?:wouldnt|didnt|did not|would not|wasnt|couldnt|isnt) (?:respond\w*|answer\w*|react\w*|wake)",
    r"(?:didnt|did not|doesnt) know where",
    # idioms of candour, not denial ("not gonna lie i know how id do it")
    r"not (?:gonna|going to|gon na) (?:lie|sugar ?coat|pretend)", r"ngl", r"no lie", r"not (?:kidding|joking)",
    r"no joke", r"no kidding", r"wont lie", r"cant lie", r"not lying",
    # someone not breathing is a finding, not a denial (RF-BREATHING)
    r"(?:not|isnt|wasnt|aint) breathing", r"no (?:breathing|breath|pulse)",
    r"rather not (?:be alive|be here|exist|wake up|live)",
    # an exclamation, not a denial: "oh no shes having one right now", "oh god no"
    r"(?:oh|o|omg|oh god|oh my god) no+", r"no no+",
    # "not himself", "not acting like herself": a change in the person, said as a fact (confusion)
    r"not (?:acting |being |feeling |looking |seeming )?(?:like )?(?:himself|herself|themselves|myself)",
    # "if it doesnt (go away), id rather ...": the negation belongs to the condition, not to what follows
    r"if (?:it|that|this|they) (?:doesnt|dont|wont|isnt|cant|does not|will not)(?: (?:go away|get better|stop|improve|work|help|end|change))?",
)]

#: A plan for later, said with its verb ("I'll be starting", "will begin", "going to put me on",
#: "voy a empezar"); scopes of these triggers are `future` (Modifiers.future).
_TO_START = (r"(?:start|begin|get|take|try|add|switch|go on|go back on|put|prescribe|give|receive|have|use|"
             r"empezar|comenzar|tomar|recetar|dar|poner)\w*")
FUTURE_VERBS = [
    rf"(?:will|ill|hell|shell|theyll|youll|well|wil|gonna|going to|about to|supposed to|scheduled to|due to|set to|"
    rf"meant to|hoping to|expecting to|waiting to|hope to|expect to)(?: (?:be|probably|likely|soon|then|also|"
    rf"finally|get to|have to))*(?: (?:me|him|her|them|us))? {_TO_START}",
    r"(?:voy|va|vamos|van) a (?:empezar|comenzar|tomar|usar)", r"(?:quiere|quieren|va a|van a) (?:recetar|dar|poner)\w*",
    r"(?:empezare|empezar[eé]|comenzare|comenzar[eé]|tomare|tomar[eé])",
]
#: A time that is still to come ("tomorrow", "next week", "on the 14th", "once insurance approves").
FUTURE_TIME = (r"(?:tomorrow|tmrw|tmr|manana|mañana|next (?:week|month|year|weekend|time|visit|appointment|"
               r"monday|tuesday|wednesday|thursday|friday|saturday|sunday)|soon|later (?:today|this (?:week|month))|"
               r"in (?:a|one|two|three|four|a few|a couple(?: of)?|\d+) (?:days?|weeks?|months?)|"
               r"on the \d{1,2}(?:st|nd|rd|th)?\b|once (?:insurance|it|the|my|they|i|he|she|its)|"
               r"after (?:my|the|his|her) (?:surgery|procedure|operation|appointment|extraction|visit)|"
               r"la (?:proxima|próxima) semana|la semana que viene|pronto)")
#: A start said in the present ("getting", "starting", "empiezo") that a future time makes a plan.
_PRESENT_START = re.compile(r"\b(?:getting|get|starting|start|begin|beginning|picking up|going on|switching to|"
                            r"(?:switching|moving|changing) (?:me|him|her|them|us) (?:over )?to|putting (?:me|him|her|them) on|"
                            r"having|putting|placing|implanting|empiezo|empieza|empezamos|comienzo|comienza)\b(?! (?:worse|"
                            r"better|bad|more|less|\w+er)\b)")
#: A medicine that arrives later ("my refill of dantrolene comes in thursday", "the pump arrives next week"):
#: with a time still to come, the whole segment is a plan (the name is said before the verb).
_ARRIVES = re.compile(r"\b(?:comes? in|comes|is coming|arrives?|is arriving|ships|gets here|will be (?:here|ready|in))\b")
#: A day of the week after a verb in the present is still to come ("starting it monday", "comes in
#: thursday"), not after "since" or "last" ("since monday", "last friday").
_FUTURE_DAY = re.compile(r"(?<!since )(?<!last )(?<!past )(?<!from )\b(?:on |this |coming |in |by )?"
                         r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b")
_FUTURE_TIME = re.compile(rf"\b{FUTURE_TIME}")

#: After "was on": not a medicine but a place, an activity or a device ("was on the couch").
_NOT_PLACE = (r"(?! (?:the|my way|his way|her way|our way|this|that|it|top|vacation|holiday|call|duty|"
              r"shift|phone|break|fire|edge|board|stage|line|tv|camera|speaker|hold)\b)")

TRIGGERS: List[Trigger] = (
    _t(NEGATED, FORWARD, [
        r"no", r"not", r"never", r"without", r"nor", r"none of", r"neither", r"zero", r"nothing like",
        r"dont", r"doesnt", r"didnt", r"havent", r"hasnt", r"hadnt", r"isnt", r"arent", r"wasnt", r"werent",
        r"aint", r"wont", r"denies", r"deny", r"denied", r"denying", r"free of", r"free from", r"absence of",
        r"no sign of", r"no signs of", r"not any", r"nothing", r"nope", r"nah", r"rule out", r"ruled out",
        r"negative for", r"no more",
        # an allergy or intolerance: the medicine is not taken ("allergic to codeine", "cant tolerate sulfa")
        r"allergic to", r"(?:an |my )?allerg(?:y|ies) to", r"intolerant (?:of|to)", r"cant tolerate", r"cannot tolerate",
    ], window=9)
    + _t(NEGATED, BACKWARD, [r"is gone", r"are gone", r"went away", r"gone away", r"has stopped",
                              r"have stopped", r"ruled out", r"not at all", r"none at all"], window=5)
    + _t(HYPOTHETICAL, FORWARD, [
        r"what if", r"what happens if", r"what would happen if", r"would it be \w+ (?:if|to)", r"would it",
        r"would that", r"could i", r"can i", r"can he", r"can she", r"should i", r"should he", r"should she",
        r"is it (?:safe|ok|okay|bad|dangerous|fine|alright|possible) (?:to|if)", r"safe to", r"okay to", r"ok to",
        r"in case", r"hypothetically", r"hypothetical", r"suppose", r"supposing", r"imagine",
        r"thinking (?:of|about)", r"planning (?:to|on)", r"plan to", r"going to (?:start|take|try)",
        r"gonna (?:start|take|try)", r"considering", r"wondering (?:if|whether|about)", r"whether",
        # someone else giving the medicine, in a condition: "if the dentist gives me tramadol", "if my neuro
        # prescribes ..."; a need in a condition: "if i ever needed linezolid"
        r"if (?:the|my|a|his|her|your|they|he|she|someone|somebody|a doctor) (?:\w+ )?(?:gives?|gave|prescribes?|prescribed|"
        r"puts?|starts?|adds?|offers?|offered|switch(?:es)?|recommends?|wants? to \w+)",
        r"if (?:i|he|she|they|we|you) (?:ever )?(?:need|needed|needs|end up (?:on|taking|needing)|ended up|wanted|want|"
        r"decide|decided|choose|chose|drink|drank|smoke|smoked|snort|snorted|pop|popped|switch|switched|stop|stopped)",
        # Spanish: "qué pasa si tomo ...", "y si me dan ...", "si tomara ..."
        r"(?:que|qué) (?:pasa|pasaria|pasaría|pasaria) si", r"y si", r"si (?:tomo|tomara|tomase|tomaría|tomaria|me (?:dan|da|receta|recetan|pone|ponen))",
        r"if (?:i|he|she|they|we|you) (?:ever )?(?:got|get|gets|start|started|starts|took|take|takes|add|added|"
        r"mix|mixed|combine|combined|develop|developed|had|have|has|were|was|do|did|try|tried|went|go|used|use)",
        r"if (?:i|he|she) (?:were to|was to)", r"want(?:s|ed)? (?:(?:me|him|her|them|us) )?to (?:start|try|put (?:me|him|her) on|add|switch|take|go on)",
        r"might (?:start|take|try|add|get|be put)", r"may (?:start|take|try|add|be put)",
        r"(?:told|advised|asked) (?:me|her|him|them|us) to (?:try|take|start|use)",
        r"(?:might|may|will|going to|gonna|wants? to|plans? to|planning to|thinking of|about to) (?:give|prescribe|start|put|add|switch|try)",
        r"(?:warning )?signs of", r"symptoms of", r"watch (?:out )?for", r"look out for", r"what (?:is|are)",
        r"whats", r"how do i know", r"when should i worry",
r"worried (?:about|that) (?:getting|developing|i might)",
        r"is there a risk", r"risk of", r"chance of", r"can (?:it|that|this|they) cause", r"could (?:it|that|this) cause",
        r"does (?:it|that|this) cause", r"would (?:i|he|she) get", r"before (?:i|he|she) (?:start|take|try)",
        r"before (?:starting|taking|trying|going on|switching to|beginning)",
        r"asking (?:about|for) a friend", r"in general", r"generally", r"for future reference",
        r"(?:lets |let us |just )?say (?:i|he|she|we|you|someone) (?:took|take|takes|had|mixed|started|used|did|tried)",
        r"(?:i|he|she) havent (?:done|tried|taken) (?:it|that|them) yet",
        # asking whether a medicine can cause it: "si la sertralina puede causar clonus"
        r"(?:puede|pueden|podria|podrían|podrian) (?:causar|dar|provocar)",
        # Questions about words, not reports ("is clonus the same as seizures?", "can seizures cause
        # clonus?"): the trigger is the question word only (a lookahead), so the scope covers the terms.
        r"is(?= (?:\w+ ){1,3}(?:the same as|the same thing as|related to|linked to|a (?:type|kind|form) of)\b)",
        r"(?:are|is)(?= (?:\w+ ){1,3}(?:and|or) (?:\w+ ){1,3}the same\b)", r"(?:difference|different) (?:between|from)",
        r"(?:can|could|does|do|will)(?= (?:\w+ ){1,2}(?:cause|lead to|turn into|become|mean)\b)",
        # asking whether something would interact: "would a z pak interact with my citalopram" (the medicine
        # asked about is not taken; "my citalopram" stays the person's own)
        r"(?:would|could|will|can|does|might|do)(?= (?:a |an |the |some )?(?:\w+ ){1,2}(?:interact|mix|clash|react)\b)",
        # asking about taking one: "would taking st johns wort with my prozac be bad", "is adding buspar ok"
        r"(?:would|will|is) (?:taking|using|adding|trying|starting)",
        # options weighed against each other: "would lexapro be gentler than zoloft", "is cymbalta a better
        # choice than effexor for me" (the options are not taken; "my tramadol" stays the person's own)
        r"(?:would|could|will|is|are|isnt|wouldnt)(?= (?:a |an |the |some )?(?:\w+ ){1,2}(?:be )?(?:a )?(?:safer|better|"
        r"worse|riskier|less risky|gentler|stronger|weaker|milder|better (?:option|choice)|safer (?:option|choice)) "
        r"(?:than|option|choice|for|with)\b)",
        # a medicine suggested or floated, not started: "the doctor mentioned maybe starting buspar",
        # "she suggested trying lexapro", "maybe adding tramadol"
        r"(?:suggested|suggests|suggesting|recommended|recommends|mentioned|mentions|brought up|floated|talked about|"
        r"talking about|discussed|discussing|offered|offering|raised)(?: (?:maybe|possibly|perhaps))? (?:trying|starting|"
        r"adding|switching to|going on|a trial of)",
        r"(?:maybe|possibly|perhaps) (?:trying|starting|adding|switching to|going on|try|start|add)",
        # asking whether one would be all right beside another: "would melatonin be ok with my trazodone",
        # "is tylenol ok with baclofen" (what the person is on, "my trazodone", stays current)
        r"(?:would|could|will|is|are|can)(?= (?:a |an |the |some )?(?:[\w-]+ ){1,2}(?:be )?(?:ok|okay|safe|fine|alright|"
        r"bad|dangerous|risky) (?:with|to (?:take|mix|use) with|alongside|together with)\b)",
        r"what(?= (?:does|do) (?:\w+ ){1,2}mean\b)", r"tell me about",
    ], window=14)
    + _t(HYPOTHETICAL, FORWARD, FUTURE_VERBS, window=12)
    + _t(HYPOTHETICAL, FORWARD, [
        # a question about what a sign is like, not a report of it ("what does a seizure look like?", "how long
        # does a seizure usually last", "do seizures hurt?"): the question word, with a lookahead, opens the scope
        # (outside tester, 2026-12-04: each raised RF-SEIZURE)
        # (the sign named, not a pronoun: "does it hurt when she has a seizure, shes having one now" is a report)
        r"what (?:does|do|would|did)(?= (?:a |an |the )?(?:(?!(?:it|this|that|he|she|they|him|her|his|my|your|we|i)\b)\w+ ){1,3}(?:look|feel|sound|seem) like\b)",
        r"how long (?:does|do|can|will|would)(?= (?:a |an |the )?(?:(?!(?:it|this|that|he|she|they|him|her|his|my|your|we|i)\b)\w+ ){1,2}(?:usually |normally |typically |generally )?last\b)",
        r"(?:do|does|can|will|would)(?= (?:a |an |the )?(?:(?!(?:it|this|that|he|she|they|him|her|his|my|your|we|i)\b)\w+ ){1,2}(?:hurt|kill you|be fatal|be deadly)\b)",
        # a short scope: the question's own words, not a report after it ("how long do seizures last, my son has
        # been shaking for 6 minutes")
    ], window=4)
    + _t(HISTORICAL, FORWARD, [
        r"used to", r"use to", r"in the past", r"history of", r"previously", r"formerly", r"back in",
        r"as a (?:kid|child|baby|teen|teenager|toddler)", r"once before", r"years ago", r"long ago",
        r"when (?:i|he|she) was (?:younger|a kid|little|young|a child|a baby|a teen|a teenager|pregnant)",
        # an age in the past: "when i was 8", "at age 12", "when he was 3 years old"
        r"when (?:i|he|she|they) (?:was|were) (?:\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
        r"thirteen|fourteen|fifteen|sixteen|seventeen)(?: (?:years? old|yrs? old|yo))?", r"at (?:the )?age (?:of )?\d{1,2}",
        r"(?:my|his|her|the) old (?:meds?|medicines?|medications?|pills?|prescriptions?)",
        # a list headed as past: "previous meds - paxil", "past meds: ...", "ex-meds: ...", "prior meds include"
        r"(?:previous|past|prior|former|ex|earlier)[ -]?(?:meds?|medicines?|medications?|pills?|prescriptions?)",
        r"(?:old|before|then|previously|formerly|in the past|back then)(?=\s*[:=-])", r"back then",
        r"old (?:meds?|medicines?|medications?|pills?|prescriptions?)", r"finished (?:the |my |his |her )?course",
        r"finished (?:taking|off)?", r"completed (?:the |a )?course", r"(?:had|did|took|got) a (?:short )?course of", r"at one point", r"once upon",
        r"a while back", r"ages ago", r"last time (?:i|he|she) was", r"tried \w+ (?:years|months|ages) ago",
        # "was on prozac" is a past medicine; "was on the couch", "was on a walk" is only where
        # someone was (the jerking that followed is not in the past).
        r"had been on" + _NOT_PLACE, r"was on" + _NOT_PLACE, r"were on" + _NOT_PLACE,
        r"was taking(?! (?:a|an|the|this|that|it|some|care|off|out|forever)\b)",
        r"were taking(?! (?:a|an|the|this|that|it|some|care|off|out)\b)", r"back when", r"years back",
        r"decades ago", r"as a young", r"in (?:19|20)\d\d",
        # a time said relative to what was just told, opening its clause: "... since january. before that
        # venlafaxine for 3 years", "and prior to that ..." (said after what it dates it is BACKWARD, below)
        r"(?:^|(?<=[.;:!?,] )|(?<=\band )|(?<=\bbut ))(?:before (?:that|this|then)|prior to (?:that|this)|until then)",
    ], window=10)
    + _t(HISTORICAL, BACKWARD, [
        r"years ago", r"months ago", r"ages ago", r"decades ago", r"long ago", r"a long time ago",
        r"a while (?:ago|back)", r"as a (?:kid|child|baby|teen|teenager|toddler)", r"when (?:i|he|she) was (?:younger|"
        r"a kid|little|young|a child|a baby|a teen|a teenager)", r"when (?:i|he|she|they) (?:was|were) (?:\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|"
        r"eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen)(?: (?:years? old|yrs? old|yo))?", r"at (?:the )?age (?:of )?\d{1,2}", r"in the past", r"years back",
        r"back in (?:the day|college|school|(?:19|20)\d\d)", r"in (?:19|20)\d\d", r"once before",
        r"in (?:high school|college|university|my twenties|my teens|my youth)", r"in the (?:\d0s|(?:19|20)\d0s|nineties|eighties)",
        # a decade of the person's life: "in my 20s", "in his thirties", "when i was in my teens"
        r"in (?:my|his|her|their|our) (?:early |mid |late )?(?:\d0s|teens|twenties|thirties|forties|fifties|sixties|seventies)",
        r"before (?:that|this)", r"(?:i|he|she) used to",
        r"(?:back )?in (?:jan|feb|march|april|june|july|aug|sept?|oct|nov|dec)\w*", r"last (?:spring|summer|fall|autumn|winter)",
        r"in the (?:\d0s|(?:19|20)\d0s|nineties|eighties|seventies|sixties)", r"in (?:high school|college|my twenties|my teens)",
        r"in (?:my|his|her|their|our) (?:early |mid |late )?(?:\d0s|teens|twenties|thirties|forties|fifties|sixties|seventies)",
    ], window=10)
    + _t(OTHER, BACKWARD, [r"runs? in (?:the|my|our|his|her) family", r"running in (?:the|my) family",
                           r"in (?:the|my|our) family"], window=12)
    + _t(OTHER, FORWARD, [
        r"family history(?: of)?", r"runs? in (?:the|my|our|his|her) family", r"history in (?:the|my) family",
        r"(?:a|my|our|his|her) friends?", r"someone (?:i know|else)",
        # a stranger or someone met, not cared for: "saw a guy have a seizure at the mall", "this lady on the
        # bus"; what happens to them now still counts where the feature says so (witnessed, breathing)
        r"(?:a|some|this|that) (?:random |young |old |older )?(?:guy|man|woman|lady|girl|boy|kid|person|stranger|dude|"
        r"student|customer|passenger|coworker|co-worker|colleague|classmate|player|runner)",
        # "the lady in the bed next to my mom", "the guy at the gym": a stranger placed somewhere
        r"the (?:guy|man|woman|lady|gentleman|dude|stranger)(?= (?:in|at|on|next|across|beside|behind|near|by|from|down)\b)",
        # someone's friend, coworker ...: "my sons friend brought molly", "her roommates boyfriend"
        r"(?:my|our|his|her|their) \w+s (?:friends?|buddy|buddies|coworkers?|classmates?|roommates?|boyfriend|girlfriend)", r"somebody (?:i know|else)", r"people who",
        r"other people", r"a lot of people", r"most people", r"my (?:friends|relatives|family members)",
        r"(?:he|she|they) (?:said|told|says|tells) (?:he|she|they)",
        # an animal is never the patient ("my cat had a seizure last week")
        r"(?:my|our|the|a|his|her) (?:\w+ )?(?:cat|dog|puppy|kitten|pet|horse|bird|parrot|hamster|rabbit|bunny|ferret)s?",
    ], window=12)
)

# Terms that end a scope (inside a clause). Every category ends at these:
_END_ALL = re.compile(r"\b(?:but|however|although|though|yet|except|apart from|other than|besides|aside from|"
                      r"whereas|otherwise|anyway|anyways|instead)\b")
# ... and per category:
_END = {
    NEGATED: re.compile(r"\b(?:and|so|because|cause|with|while|plus|since|who|which|though|then|now|today|"
                        r"recently|lately|suddenly|started|starting|keeps?|still|only|just)\b|,\s*(?:i|im|ive|my|he|hes|she|"
                        r"shes|his|her|they|it|its|we|the|now|this|that|and|also|just)\b"),
    # (a comma before someone's own news ends it: "can i book an appt, my dad wont wake up")
    HYPOTHETICAL: re.compile(r"\b(?:because|cause|since)\b|,\s*(?:i|im|ive|he|hes|she|shes|we|my|his|her|our|their|right now|"
                             r"currently|and)\b|\b(?:right now|currently|at the moment|already|anyway)\b"),
    HISTORICAL: re.compile(r"\b(?:now|nowadays|currently|current|new|these days|today|at the moment|right now|still|"
                           r"this week|this morning|tonight|yesterday|lately|recently|since then|and now|"
                           r"but|switched|started|starting|changed)\b|,\s*(?:i|im|ive|my|thats|and|so|he|hes|she|"
                           r"shes|its|they|we|on)\b"
                           # a clause in the present after "and" is not dated by the time before it: "had a stroke in
                           # 2019 and my left foot does this bouncing thing" (but "... in 2019 and my foot jerked" is)
                           r"|\band (?=(?:(?:my|his|her|their|the|our) (?:\w+ ){0,3}|(?:i|he|she|it|they) )(?:does|do|is|are|am|"
                           r"keeps?|gets?|goes|has|have|starts?|wont|cant|feels?|shakes|jerks|bounces|twitches|still)\b)"),
    # (not "my" where it only places that person: "the lady in the bed next to my mom got zyvox")
    OTHER: re.compile(r"\b(?:i|im|ive|me|mine|myself|and now|but)\b|(?<!next to )(?<!beside )(?<!behind )(?<!near )"
                      r"(?<!across from )\bmy\b"),
}

#: What a relation "had", "was", "died of": a past statement about that person (bot.context._relation_scopes).
_RELATION_PAST = re.compile(r"\s*(?:also |too |both |just |recently )?(?:had|was|were|died|passed|suffered|developed|"
                            r"went|used to|took)\b")


# ------------------------------------------------------------------------------------ aspect
# When an event (a seizure, a collapse) happens: now, or as a known habit. The tense and aspect of the
# words around it decide, not who it is about (issue 9: a parent telling of a seizure happening now is
# an emergency, "my daughter gets seizures sometimes" is her known history, RF-SEIZURE).
#: Happening now or moments ago, said of anyone: the present progressive of the event ("is having a
#: seizure", "shes seizing", "keeps shaking"), "right now", "just" with the event's verb, a persistence
#: ("wont stop", "isnt waking up"), minutes ago.
_EVENT_NOW = re.compile(
    r"(?:\b(?:is|are|am|im|keeps?|still|(?:he|she|it|they|who)s|theyre|youre)|\bs)\s+(?:\w+\s+)?"
    r"(?:having\s+(?:(?:a|an|another|one|more|some|a bad|a big|a small|a long)\s+)?(?:seizures?|fits?|convulsions?|episodes?|"
    r"one(?! of\b)|another(?! of\b))|seizing|convulsing|fitting|shaking|jerking|thrashing|foaming|turning (?:blue|purple)|"
    r"twitching all over)\b"
    r"|\b(?:right now|as (?:we|i) speak|at the moment|in the middle of (?:a|an|one)|happening (?:right )?now|this is happening)\b"
    r"|(?<!\bi )\b(?:wont|doesnt|isnt|not|cant|cannot|wouldnt) (?:wak(?:e|ing)\w*|respond\w*|answer\w*|breath\w*|"
    r"com(?:e|ing) (?:to|round|around|out of it)|stop(?:ping)?(?=\s*(?:$|[,.!?;]|and\b|now\b|(?:seizing|shaking|jerking|"
    r"convulsing|twitching|fitting|moving)\b)))\b"
    r"|\bjust (?:now )?(?:had|went|started|began|collapsed|fell|passed out|blacked out|fainted|seized|convulsed|threw|"
    r"dropped|stopped|woke)\b"
    r"|\b(?:\d+|a few|few|a couple(?: of)?|couple(?: of)?|one|two|three|five|ten|fifteen|twenty|thirty) "
    r"(?:min|mins|minutes|seconds|secs) ago\b|\b(?:an?|half an) (?:hour|minute) ago\b"
)
#: Recent enough to be the event itself, not a history (read only against a habitual cue): today.
_EVENT_TODAY = re.compile(r"\b(?:today|tonight|this (?:morning|afternoon|evening)|last night|earlier|again)\b")
#: A known, recurring history: a frequency ("sometimes", "every few months", "whenever he ...") ...
_HABITUAL_FREQUENCY = re.compile(
    r"\b(?:sometimes|usually|often|occasionally|regularly|frequently|rarely|at times|every so often|from time to time|"
    r"(?:every )?now and (?:then|again)|once in a while|on and off|off and on|whenever|tends? to|prone to|"
    r"(?:once|twice|\w+ times|a few times|a couple (?:of )?times) (?:a|per|every) (?:day|week|month|year)|"
    r"every (?:\w+ )?(?:days?|weeks?|months?|years?|nights?|mornings?)|"
    r"when (?:he|she|they|i|we) (?:gets?|has|have|is|are) (?:sick|ill|a fever|feverish|tired|stressed|overtired|hot))\b"
)
#: ... or the event in the plural after a verb of having ("gets seizures", "has had fits", "had seizures",
#: "a kid with seizures"): a count of events, not one happening now.
_HABITUAL_VERB = re.compile(
    r"\b(?:gets?|getting|has|have|had|(?:he|she|i|we|they)(?:s|ve) had|has had|have had|suffers? from|suffered from|"
    r"deals? with|lives? with|with|known)\s+(?:(?:a lot of|lots of|some|many|several|few|a few|occasional|frequent|"
    r"regular|the|those|these|bad|small|little|mild|big|his|her|their|my|absence|febrile|focal|night(?:time)?)\s+){0,2}$"
)
_PLURAL_EVENT = re.compile(r"(?:seizures|fits|convulsions|episodes)$")


def _grouped(triggers: List[Trigger]) -> List[Trigger]:
    """One alternation per (category, direction, window): the same matches as the table, fewer scans."""
    groups: Dict[Tuple[str, str, int], List[str]] = {}
    for t in triggers:
        groups.setdefault((t.category, t.direction, t.window), []).append(t.pattern.pattern)
    return [Trigger(c, d, re.compile("|".join(f"(?:{p})" for p in pats)), w) for (c, d, w), pats in groups.items()]


_TRIGGERS = _grouped(TRIGGERS)
#: Negation triggers that deny a state of what comes before them as well ("face isnt drooping").
_FUTURE_VERB = re.compile("|".join(f"(?:{p})" for p in FUTURE_VERBS))
#: A target that starts with the person ("hes not answering") is a finding about them, not a part
#: of the body in a denied state.
_PERSON_FIRST = re.compile(r"(?:i|im|he|hes|she|shes|they|theyre|you|youre|we|were|it|its|him|her|them)\b")
_COPULAR_NEGATION = re.compile(r"(?:isnt|arent|wasnt|werent|not|no|never|aint)")
_PSEUDO = re.compile("|".join(f"(?:{p.pattern})" for p in PSEUDO))
_CLAUSE = re.compile(r"[!?]|\.(?!\d)|(?<!\d)\.|[;\n]|\.\.+")
_WORD = re.compile(r"\S+")


#: A denial said as an answer, alone or of a pronoun that points back to the question
#: (bot.context.Context._answer_scopes): "no", "nope, never", "no, never, not at all", "never tried it".
_DENIAL_ANSWER = re.compile(
    r"\s*(?:(?:no+|nope|nah|never|not at all|not ever|none|definitely not|absolutely not|not really|no way|"
    r"never ever)(?:\s*[,!]?\s*(?:no+|nope|nah|never|not at all|not ever|none|definitely not|absolutely not|"
    r"not once|no way|never ever))*"
    r"(?:\s+(?:i |he |she |we |they )?(?:have |has |had |did |do |does |ever )?(?:never |not )?(?:tried|taken|took|used|"
    r"done|did|had|have|touched|been on|take|use|do|touch)\s+(?:it|that|them|those|this|any|one|either|before)"
    r"(?:\s+(?:before|ever|in my life|at all))?)?)\s*(?:[,.!;]|$)"
)
#: A question told, not asked: its content follows ("the form asked if ...", "she wanted to know whether ...").
_TOLD_QUESTION = re.compile(
    r"\b(?:asked|asks|asking|ask)(?: (?:me|him|her|us|them|about))?(?: (?:if|whether))|"
    r"\b(?:wanted|wants|want) to know (?:if|whether)\b|\bquestion (?:was|is|about) (?:if|whether)?"
)
#: After a denial answer, words that take it back or hedge it ("no... well yes sometimes", "no, not
#: really, maybe a little"): the question is then not denied (the more cautious reading).
_TAKEN_BACK = re.compile(r"\b(?:yes|yeah|yep|yup|actually|maybe|sometimes|kind of|kinda|sort of|i guess|a little|"
                         r"a bit|well|but|except|lately|recently|once or twice|occasionally|used to)\b")
#: Where a told question ends and its answer begins: a dash or colon.
_ANSWER_BREAK = re.compile(r"\s(?:-+|–|—)\s|:|\s-+(?=\s*no)")


@dataclass(frozen=True)
class _Scope:
    category: str
    start: int
    end: int
    by_time: bool = False
    future: bool = False
    #: the trigger is a denial of a state ("isnt", "not", "no" ...): it also negates a target that
    #: starts before it ("face isnt drooping", "neck is not stiff"), see Context.at
    copular: bool = False
    trigger_at: int = -1  # where the trigger word starts (copular scopes)


def normalise(text: str) -> Tuple[str, List[int]]:
    """Lowercase, apostrophes removed, the spellings of text messages written out ("shakin" ->
    "shaking", "n" -> "and", "bc" -> "because", "w/" -> "with"); with the original offset of every
    normalised character (plus one past the end), so spans found on the normalised text map back to
    the person's words."""
    lower = text.lower()
    if len(lower) == len(text) and "'" not in text:
        out_s, where = lower, list(range(len(text) + 1))  # the common case: offsets unchanged
    else:
        out: List[str] = []
        where = []
        for i, ch in enumerate(text):
            if ch == "'":
                continue
            low = ch.lower()
            out.append(low if len(low) == 1 else ch)
            where.append(i)
        where.append(len(text))
        out_s = "".join(out)
    return _sms(out_s, where)


#: Text-message spellings, written out so that every lexicon pattern and context trigger reads them.
_SMS_WORDS = {"n": "and", "&": "and", "bc": "because", "b/c": "because", "cuz": "because", "coz": "because",
              "w/": "with", "w/o": "without", "rn": "right now", "thru": "through", "tho": "though",
              "abt": "about", "becuz": "because", "becuase": "because", "nothin": "nothing", "somethin": "something"}
_SMS = re.compile(r"(?<!\S)(?:n|&|bc|b/c|cuz|coz|w/o|w/|rn|thru|tho|abt|becuz|becuase)(?=\s)|\b[a-z]{3,}in\b")


@lru_cache(maxsize=1)
def _dropped_g() -> frozenset:
    """'-in' spellings of '-ing' words (bot/knowledge/dropped_g.txt, made by scripts/build_dropped_g.py)."""
    from bot.text_utils import KNOWLEDGE_DIR

    with (KNOWLEDGE_DIR / "dropped_g.txt").open(encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line.strip() and not line.startswith("#"))


#: The words an emergency hangs on (RF-BREATHING, RF-SEIZURE, RF-UNRESPONSIVE, RF-SELF-HARM, the
#: people a caregiver names): a misspelling one edit away ("braething", "breathng", "siezure",
#: "husbnd") is read as the word, so that "hes not braething" is an emergency like "hes not breathing".
CRITICAL_WORDS = frozenset({
    "breathing", "breathe", "breath", "seizure", "seizures", "seizing", "convulsing", "unconscious",
    "unresponsive", "responding", "overdose", "overdosed", "suicide", "suicidal", "ambulance", "collapsed",
    "choking", "husband", "daughter", "mother", "father", "grandma", "grandpa",
})
_LONG_WORD = re.compile(r"\b[a-z]{6,}\b")


def _one_edit(a: str, b: str) -> bool:
    """a and b differ by one insertion, deletion, substitution or swap of neighbours (Damerau).
    Hand-written: the one fuzzy-matching library that would do it (rapidfuzz) is not a dependency,
    and this needs one comparison of short words."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1:]


@lru_cache(maxsize=4096)
def _critical_spelling(word: str) -> Optional[str]:
    if word in CRITICAL_WORDS:
        return None
    from bot.text_utils import english_words

    if word in english_words():
        return None  # a real word ("breather", "fathom") is not a misspelling
    for critical in CRITICAL_WORDS:
        if critical[0] == word[0] and _one_edit(word, critical):
            return critical
    return None


def _spelling(norm: str, where: List[int]) -> Tuple[str, List[int]]:
    """`norm` with the misspellings of CRITICAL_WORDS written out (offsets kept, as `_sms` does)."""
    parts: List[str] = []
    pos: List[int] = []
    last = 0
    for m in _LONG_WORD.finditer(norm):
        new = _critical_spelling(m.group(0))
        if new is None:
            continue
        parts.append(norm[last:m.start()])
        pos.extend(where[last:m.start()])
        parts.append(new)
        pos.extend([where[m.start()]] * len(new))
        last = m.end()
    if not parts:
        return norm, where
    parts.append(norm[last:])
    pos.extend(where[last:])
    return "".join(parts), pos


def _sms(norm: str, where: List[int]) -> Tuple[str, List[int]]:
    norm, where = _spelling(norm, where)
    if not _SMS.search(norm):
        return norm, where
    parts: List[str] = []
    pos: List[int] = []
    last = 0
    for m in _SMS.finditer(norm):
        word = m.group(0)
        if word in _SMS_WORDS:
            new = _SMS_WORDS[word]
        else:
            if word not in _dropped_g():
                continue  # "begin", "within", "skin"; only a dropped g ("shakin", "jerkin", "sweatin")
            new = word + "g"
        parts.append(norm[last:m.start()])
        pos.extend(where[last:m.start()])
        parts.append(new)
        # every written-out character maps to the first character of the person's word
        pos.extend([where[m.start()]] * len(new))
        last = m.end()
    parts.append(norm[last:])
    pos.extend(where[last:])
    return "".join(parts), pos


def _words_until(text: str, start: int, end: int, limit: int) -> int:
    """Offset after `limit` words from start (not beyond end)."""
    n = 0
    for m in _WORD.finditer(text, start, end):
        n += 1
        if n == limit:
            return m.end()
    return end


def _words_back(text: str, start: int, end: int, limit: int) -> int:
    """Offset `limit` words back from end (not before start)."""
    spans = [m.start() for m in _WORD.finditer(text, start, end)]
    if len(spans) <= limit:
        return start
    return spans[-limit]


class Context:
    """The context scopes of one message (normalised text); `at(start, end)` says how a span is meant."""

    def __init__(self, text: str, patient: Optional[str] = None) -> None:
        """`patient`: the relation the person speaks for ("mom"), "@she"/"@he" for a caregiver who has
        only said a pronoun so far (Patient.key), None for the person writing."""
        self.original = clean(text)
        self.pronoun = patient[1:] if patient and patient.startswith("@") else None
        patient = None if self.pronoun else patient
        self.norm, self._orig = normalise(self.original)
        self.patient = patient
        self._to_norm: Optional[List[int]] = None
        self.clauses = self._clauses()
        self.scopes = self._scopes()

    # ------------------------------------------------------------------------------ offsets
    def to_norm(self, offset: int) -> int:
        """Offset in the normalised text of an offset in the original (cleaned) text."""
        if self._to_norm is None:
            table = [0] * (len(self.original) + 1)
            j = 0
            for i in range(len(self.original) + 1):
                while j < len(self._orig) - 1 and self._orig[j] < i:
                    j += 1
                table[i] = j if self._orig[j] >= i else len(self.norm)
            self._to_norm = table
        return self._to_norm[max(0, min(offset, len(self.original)))]

    # ------------------------------------------------------------------------------ clauses
    def _clauses(self) -> List[Tuple[int, int]]:
        out, start = [], 0
        for m in _CLAUSE.finditer(self.norm):
            out.append((start, m.start()))
            start = m.end()
        out.append((start, len(self.norm)))
        return out

    def clause(self, pos: int) -> Tuple[int, int]:
        for s, e in self.clauses:
            if s <= pos < e or (pos == e and s <= pos):
                return s, e
        return 0, len(self.norm)

    # ------------------------------------------------------------------------------ scopes
    def _scopes(self) -> List[_Scope]:
        text = self.norm
        pseudo = [(m.start(), m.end()) for m in _PSEUDO.finditer(text)]
        scopes: List[_Scope] = []
        for trig in _TRIGGERS:
            for m in trig.pattern.finditer(text):
                if any(ps <= m.start() < pe or ps < m.end() <= pe for ps, pe in pseudo):
                    continue
                if trig.category == OTHER and self._reports_patient(m.group(0)):
                    continue  # "my mom ... she says she feels shivery": the patient, in her own words
                cs, ce = self.clause(m.start())
                if trig.direction in (FORWARD, BOTH) and not self._closes_segment(trig.category, m, cs):
                    end = self._forward_end(trig.category, m.end(), ce, trig.window)
                    copular = trig.category == NEGATED and _COPULAR_NEGATION.fullmatch(m.group(0)) is not None
                    future = trig.category == HYPOTHETICAL and _FUTURE_VERB.fullmatch(m.group(0)) is not None
                    scopes.append(_Scope(trig.category, m.end(), end, copular=copular, future=future, trigger_at=m.start()))
                if trig.direction in (BACKWARD, BOTH):
                    start = self._backward_start(trig.category, cs, m.start(), trig.window)
                    scopes.append(_Scope(trig.category, start, m.start()))
        scopes += self._relation_scopes()
        scopes += self._answer_scopes()
        scopes += self._time_scopes()
        scopes += self._future_scopes()
        return scopes

    def _answer_scopes(self) -> List[_Scope]:
        """A question answered with a denial: the denial is about what the question asked. "meth? no
        never", "any fever? nope", "st johns wort? never tried it", "the nurse asked if i ever had
        thoughts of hurting myself - no, not at all". The question is a clause that ends with "?", or
        a question told ("asked if ...", "wanted to know whether ...") up to a dash or colon; the
        answer opens the next clause (or follows the dash) and is a denial word alone, or a denial of
        a pronoun that points back ("never tried it", "never had that"). An answer that goes on
        ("no idea", "no fever though") is not an answer to the question; "yes" denies nothing."""
        out = []
        text = self.norm
        for i, (cs, ce) in enumerate(self.clauses):
            if ce < len(text) and text[ce] == "?" and i + 1 < len(self.clauses):
                ns, ne = self.clauses[i + 1]
                if _DENIAL_ANSWER.match(text, ns, ne) and cs < ce and not _TAKEN_BACK.search(text, ns):
                    out.append(_Scope(NEGATED, cs, ce))
                    continue
            for told in _TOLD_QUESTION.finditer(text, cs, ce):
                dash = _ANSWER_BREAK.search(text, told.end(), ce)
                if dash and _DENIAL_ANSWER.match(text, dash.end(), ce) and not _TAKEN_BACK.search(text, dash.end()):
                    out.append(_Scope(NEGATED, told.end(), dash.start()))
        return out

    def _future_scopes(self) -> List[_Scope]:
        """A start said in the present with a time still to come, in one segment of a clause: "getting
        a prescription for imitrex tomorrow", "mañana empiezo con la sertralina", "starting baclofen
        next week". The scope runs from the verb to the end of the segment."""
        out = []
        for cs, ce in self.clauses:
            clause = self.norm[cs:ce]
            if not (_FUTURE_TIME.search(clause) or _FUTURE_DAY.search(clause)):
                continue
            for s, e in _segments(clause):
                part = clause[s:e]
                later = _FUTURE_TIME.search(part) or _FUTURE_DAY.search(part)
                arrives = _ARRIVES.search(part)
                verb = _PRESENT_START.search(part)
                if arrives and later:
                    out.append(_Scope(HYPOTHETICAL, cs + s, cs + e, future=True))
                elif verb and later:
                    out.append(_Scope(HYPOTHETICAL, cs + s + verb.end(), cs + e, future=True))
        return out

    def _reports_patient(self, trigger: str) -> bool:
        """'she says she ...' when the person speaks for a 'she' (or 'he says he' for a 'he'): the
        patient's own report, passed on by the caregiver, not someone else's."""
        m = re.fullmatch(r"(he|she|they) (?:said|told|says|tells) (he|she|they)", trigger)
        if m is None or m.group(1) != m.group(2):
            return False
        pronoun = self.pronoun or (RELATIONS.get(self.patient) if self.patient else None)
        return pronoun is not None and pronoun in (m.group(1), "they")

    def _closes_segment(self, category: str, m: "re.Match[str]", clause_start: int) -> bool:
        """'had a stroke 2 years ago, left leg clonus is getting worse': a time said AFTER what it dates
        ('... years ago', '... back') belongs to the words before it; it opens no scope forward past
        the next comma or 'and'. ('years ago i had a seizure' still does: nothing dated comes before.)"""
        if category != HISTORICAL or not re.search(r"(?:ago|back)$", m.group(0)):
            return False
        before = self.norm[clause_start:m.start()]
        seg = re.split(r",|\band\b|\bbut\b", before)[-1]
        words = [w for w in seg.split() if not re.fullmatch(r"\d+|a|an|the|few|couple|of|like|about|around|maybe|some|many|"
                                                             r"several|two|three|four|five|ten|twenty|years?|months?|ages|"
                                                             r"decades?|long|so|way|while", w)]
        if not words:
            return False
        after = self.norm[m.end():]
        return bool(re.match(r"\s*(?:,|and\b|but\b|;|$)", after))

    def _forward_end(self, category: str, start: int, clause_end: int, window: int) -> int:
        end = _words_until(self.norm, start, clause_end, window)
        for regex in (_END_ALL, _END[category]):
            m = regex.search(self.norm, start, end)
            if m:
                end = min(end, m.start())
        return end

    def _backward_start(self, category: str, clause_start: int, end: int, window: int) -> int:
        start = _words_back(self.norm, clause_start, end, window)
        for regex in (_END_ALL, _END[category]):
            for m in regex.finditer(self.norm, start, end):
                start = max(start, m.end())
        return start

    def _relation_scopes(self) -> List[_Scope]:
        """'my uncle had a stroke': what follows a relation who is not the patient is about that person."""
        out = []
        for m in _REL_WORD.finditer(self.norm):
            relation = m.group(1)
            if same_relation(relation, self.patient):
                continue
            if self.patient is None and self.pronoun not in (None, "you") and RELATIONS[relation] in (self.pronoun, "they") \
                    and (relation not in EXTENDED_FAMILY or not _FAMILY_HISTORY.search(self.norm)):
                # a caregiver who said "she" first and "my daughter" (or "my grandma is on remeron") later
                # speaks of one person; family history ("my aunt had a stroke") stays someone else's
                continue
            after = self.norm[m.end():m.end() + 40]
            if not re.match(r"\s*(?:also |too |both |just |recently )?(?:has|had|have|got|gets|takes|took|is|was|"
                            r"does|did|uses|used|smokes|smoked|drinks|tries|tried|"
                            r"s |died|passed|suffered|suffers|developed|went|gets|on\b|used to|keeps|started|"
                            r"starts|cant|couldnt|can|gave|says|said|told|tells|thinks|thought|saw|noticed)", after):
                continue
            if re.match(r"\s*(?:says|said|told|tells|thinks|thought|saw|noticed|gave)\b", after) and not re.match(
                    r"\s*(?:thinks|thought) (?:about|of)\b", after):
                continue  # "my wife says my legs jerk": about the patient, told by someone else
                # (but "my sister thinks about dying" is the sister's own thought)
            cs, ce = self.clause(m.start())
            end = self._forward_end(OTHER, m.end(), ce, 14)
            out.append(_Scope(OTHER, m.start(), end))
            if _RELATION_PAST.match(after) and not _EVENT_NOW.search(self.norm, m.end(), end):
                # (but "my uncle just had a seizure", "my grandpa stopped breathing a minute ago" are now)
                # "my grandpa had trouble breathing at the end": that person's past, which stays past
                # for the features that count whoever they are about (breathing, unresponsive)
                out.append(_Scope(HISTORICAL, m.start(), end))
        return out

    def _time_scopes(self) -> List[_Scope]:
        """A time reference two weeks or more ago makes its segment of the clause historical, unless
        the words before it say it is still going on ("for the last month")."""
        out = []
        for cs, ce in self.clauses:
            clause = self.norm[cs:ce]
            for seg in _segments(clause):
                s, e = seg
                part = clause[s:e]
                found = days_ago(part)
                if found is not None:
                    days, ts, te = found
                    if days >= 14 and not _ONGOING_BEFORE.search(part[:ts]):
                        # a later time said of now ends what the earlier one dates: "started prozac 2 weeks
                        # ago and tonight her eyes are flicking", "had a stroke years ago, this week ..."
                        now = _NOW_AFTER.search(part, te)
                        out.append(_Scope(HISTORICAL, cs + s, cs + (s + now.start() if now else e), by_time=True))
        return out

    # ------------------------------------------------------------------------------ queries
    def at(self, start: int, end: Optional[int] = None) -> Modifiers:
        """How the span [start, end) of the normalised text is meant."""
        found = {c: False for c in CATEGORIES}
        time_only = True
        future = False
        for sc in self.scopes:
            if sc.start <= start < sc.end or (sc.start < start and start == sc.end == len(self.norm)):
                found[sc.category] = True
                future = future or sc.future
                if sc.category == HISTORICAL and not sc.by_time:
                    time_only = False
            elif (sc.copular and end is not None and start < sc.trigger_at and sc.start < end <= sc.end
                  and self.clause(start) == self.clause(sc.start) and not _PERSON_FIRST.match(self.norm, start)):
                # the denial sits inside the target and reaches its end: "face isnt drooping",
                # "my neck is not stiff" (a target that goes on past the scope, "face is not
                # drooping but numb", is not denied)
                found[NEGATED] = True
        aspect = self.aspect(start, end)
        return Modifiers(
            negated=found[NEGATED], hypothetical=found[HYPOTHETICAL], historical=found[HISTORICAL],
            other_person=found[OTHER], historical_by_time_only=found[HISTORICAL] and time_only,
            future=future, current_event=aspect == CURRENT, habitual=aspect == HABITUAL,
        )

    def aspect(self, start: int, end: Optional[int] = None) -> Optional[str]:
        """When the event at [start, end) happens: CURRENT (now or moments ago: "my son is having a
        seizure right now", "she just went stiff", "he wont stop shaking"), HABITUAL (a known, recurring
        history: "my daughter gets seizures sometimes", "has had fits before", "usually when he has a
        fever"), or None (said plainly, "he had a seizure": the reader keeps its cautious default).
        Now wins over a habit in the same sentence ("she usually gets seizures but this one wont stop"),
        and a persistence or progressive anywhere in the message is now ("... now shes not answering")."""
        end = start if end is None else end
        cs, ce = self.clause(start)
        seg_start, seg_end = cs, ce
        for s, e in _segments(self.norm[cs:ce]):
            if cs + s <= start <= cs + e:
                seg_start, seg_end = cs + s, cs + e
                break
        if _EVENT_NOW.search(self.norm, seg_start, seg_end):
            return CURRENT
        habitual = bool(_HABITUAL_FREQUENCY.search(self.norm, cs, ce)) or (
            bool(_PLURAL_EVENT.search(self.norm, start, end))
            and bool(_HABITUAL_VERB.search(self.norm, max(cs, start - 60), start)))
        if not habitual:
            return None
        if _EVENT_NOW.search(self.norm) or _EVENT_TODAY.search(self.norm, seg_start, seg_end):
            return CURRENT  # the message says it is happening now, or these words say it happened today
        return HABITUAL

    def asserted_text(self) -> str:
        """The normalised message with every negated, hypothetical, historical or other person's
        scope blanked out: the words that state something about the patient now."""
        chars = list(self.norm)
        for sc in self.scopes:
            for i in range(sc.start, min(sc.end, len(chars))):
                chars[i] = " "
        return "".join(chars)

    def at_original(self, start: int, end: int) -> Modifiers:
        return self.at(self.to_norm(start), self.to_norm(end))


_SEGMENT = re.compile(
    r",|\band (?=(?:the|my|his|her|i|now|it|he|she|they|this|that|then|today|since)\b)|\bnow\b|\bthen\b|\bbut\b"
)
#: A time of now or of the last hours or days, which ends the scope of an earlier, older time (bot.context._time_scopes).
_NOW_AFTER = re.compile(r"\b(?:now|nowadays|today|tonight|right now|currently|these days|at the moment|this (?:morning|"
                        r"afternoon|evening|week)|last night|yesterday|since then|lately|recently|suddenly|(?:an?|\d+|"
                        r"few|couple of|one|two|three) (?:hours?|minutes?|mins?) ago)\b")
_ONGOING_BEFORE = re.compile(r"\b(?:for|over|in|during|since|within)(?: the)?(?: (?:last|past))?\s*$")


def _segments(clause: str) -> List[Tuple[int, int]]:
    out, start = [], 0
    for m in _SEGMENT.finditer(clause):
        out.append((start, m.start()))
        start = m.end()
    out.append((start, len(clause)))
    return out


@lru_cache(maxsize=4096)
def context(text: str, patient: Optional[str] = None) -> Context:
    """The Context of a message (memoised: the symptom extractor and the recogniser share it)."""
    return Context(text, patient)


# ------------------------------------------------------------------------------------ the patient

_SELF = re.compile(
    r"\b(?:i|im|ive|id)\s+(?:\w+\s+)?(?:take|takes|taking|took|am on|on|have|had|has|got|get|feel|felt|"
    r"started|start|was prescribed|been|cant|keep|keeps|think i|am having|having|noticed my|just)\b"
    r"|\bmy\s+(?:legs?|foot|feet|ankles?|arms?|hands?|body|muscles?|eyes?|knees?|calf|calves|jaw|face|head|"
    r"back|neck|heart|reflexes|skin|temp|temperature|fever|clonus|spasms?|speech|vision|bladder|pump|meds|"
    r"medicines?|medication|doctor|neurologist|prescriber|pills?|dose)\b|\b(?:me|myself)\b"
)
_FOR_RELATION = re.compile(
    rf"\b(?:my|our)\s+(?:(?:elderly|little|older|younger|teenage|adult|baby|\d+\s*(?:yo|year old))\s+)?({_REL})s?\b"
    rf"(?!\s*(?:says|said|told|tells|thinks|thought|asked|wants|and i\b|or\b))(?=\s*\w)"
    rf"|\b(?:for|about|with|gave|giving|give|put|started|caring for|care of|look after|looking after|"
    rf"taking care of|found|helping|help|worried about|checking on)\s+(?:my|our)\s+({_REL})s?\b"
)
#: The writer says the question is about themselves ("im asking for me", "this is about me").
_ASKING_FOR_SELF = re.compile(r"\b(?:(?:im |i am )?asking (?:for|about) (?:me|myself)|(?:this|it|the question) is (?:about|for) me|"
                              r"im the patient|i am the patient|(?:its|it is) me (?:who|that) (?:has|is|takes))\b")
#: A relation the writer names as the patient: "my dad (the patient)", "my wife, who is the patient,",
#: "my son is the patient".
_NAMED_PATIENT = re.compile(rf"\b(?:my|our)\s+({_REL})s?\s*(?:\(|,|-)?\s*(?:(?:who|that) is |whos |is )?the patient\b")
_FAMILY_HISTORY = re.compile(r"\b(?:runs? in|family history|history in)\b|\b(?:died|passed away)\b")
_PRONOUN_SUBJECT = re.compile(r"\b(?:he|she|hes|shes|him|her|his)\b")


@dataclass(frozen=True)
class Patient:
    """Whom the conversation is about: the person writing, or someone they speak for."""

    relation: Optional[str] = None  # "mom", "husband", ... ; None = the person writing
    pronoun: str = "you"  # "you", "she", "he", "they"

    @property
    def is_self(self) -> bool:
        return self.pronoun == "you"

    @property
    def key(self) -> Optional[str]:
        """What the readers (bot.symptoms.extract, bot.medications.analyse) take as `patient`."""
        if self.relation:
            return self.relation
        return None if self.is_self else f"@{self.pronoun}"


SELF = Patient()


def patient_of(messages: Sequence[str]) -> Patient:
    """Whom the person speaks for, from the first message that says: a relation they speak about
    ("my husband started tramadol", "they gave my mom zyvox") or themselves ("I take ...", "my legs").
    Not the patient: a relation in a message that also says what the person takes or feels themselves
    ("my wife takes zoloft, im on nothing"), a relation in a family-history message ("runs in the
    family", "my uncle had a stroke"), and a sibling, uncle, friend ... told about without a cue of care
    ("my sister takes effexor"; but "found my neighbour on the floor", "for my brother" are care)."""
    for text in messages:
        named = _NAMED_PATIENT.search(normalise(clean(text))[0])
        if named:  # "my dad (the patient) takes tizanidine, i take fluvoxamine": the writer says whom
            return Patient(named.group(1), RELATIONS[named.group(1)])
    if any(_ASKING_FOR_SELF.search(normalise(clean(text))[0]) for text in messages):
        return SELF  # "my mom has cirrhosis ..., but im asking for me": the writer says so
    for text in messages:
        norm = normalise(clean(text))[0]
        if not norm.strip():
            continue
        own = _self_symptom(norm)
        history = bool(_FAMILY_HISTORY.search(norm))
        rel = None
        someone_else = False
        if not own and not history and not _two_takers(norm):
            for m in _FOR_RELATION.finditer(norm):
                relation = m.group(1) or m.group(2)
                if m.group(1) and relation in EXTENDED_FAMILY and not _cares_for(norm, relation):
                    someone_else = True
                    continue  # "my sister takes effexor": someone else, unless a cue of care says otherwise
                rel = m
                break
        if rel is not None:
            relation = rel.group(1) or rel.group(2)
            return Patient(relation, RELATIONS[relation])
        if own or _SELF.search(norm):
            return SELF
        pron = _PRONOUN_SUBJECT.search(norm)
        if pron is not None and not history and not someone_else:  # "my sister ... made her sweat": the sister
            word = pron.group(0)
            return Patient(None, "he" if word in ("he", "hes", "him", "his") else "she")
    return SELF


_BODY = (r"(?:legs?|foot|feet|ankles?|arms?|hands?|body|muscles?|eyes?|knees?|calf|calves|jaw|face|head|back|neck|"
         r"heart|reflexes|skin|temp|temperature|fever|clonus|spasms?|spasticity|speech|vision|bladder|pump|breathing|"
         r"lips)")


_TAKER = re.compile(rf"\b(?:my|our)\s+({_REL})s?\s+(?:also\s+|still\s+|only\s+)?(?:takes|is on|uses|has been on|was on)\b")


def _two_takers(norm: str) -> bool:
    """Two relations, each with medicines of their own, and no word of caring for either ("our daughter
    takes keppra, my husband takes depakote"): neither is the patient by that alone."""
    found = {m.group(1) for m in _TAKER.finditer(norm)}
    return len(found) >= 2 and not any(_cares_for(norm, r) for r in found)


def _cares_for(norm: str, relation: str) -> bool:
    """A cue that the person speaks FOR this relation now: their body or symptoms in the present
    ("my brother has a spinal cord injury, his spasms got way worse"), or a worry about them now."""
    if _EVENT_NOW.search(norm):
        return True  # "my brother is having a seizure right now": the person is with them, now
    pron = RELATIONS[relation]
    # a relation without a gendered pronoun ("my roommate ... his neck hurts") takes either
    poss, subj = {"he": ("his", "he"), "she": ("her", "she")}.get(pron, ("his|her|their", "he|she|they"))
    return bool(re.search(
        rf"\b(?:{poss})\s+(?:\w+\s+)?{_BODY}\b|\b(?:(?:{subj})s|(?:{subj}) is|(?:{subj}) keeps|(?:{subj}) cant|(?:{subj}) wont|"
        rf"(?:{subj}) seems|theyre)\s+"
        r"(?!(?:fine|ok|okay|good|great|doing (?:fine|well|great))\b)"
        r"|\b(?:is|was) (?:on|taking)\b[^.!?;]{0,40}\b(?:and|but) (?:now|today|tonight|since)\b",
        norm))


def says_it_is_about_self(text: str) -> bool:
    """The writer says outright that they are the patient ("im asking for me tho", "this is about me")."""
    return bool(_ASKING_FOR_SELF.search(normalise(clean(text))[0]))


def speaks_for_self(text: str) -> bool:
    """The message is the person speaking about themselves ("I take ...", "my legs ...")."""
    return bool(_SELF.search(normalise(clean(text))[0]))


_OWN = re.compile(
    r"\b(?:i|im|ive)\s+(?:also\s+|only\s+|just\s+|currently\s+|still\s+|now\s+)?(?:take|taking|took|am on|on|"
    r"started|was prescribed|use|using|been on|been taking|feel|felt)\b"
    # what the writer does not take is said of themselves: "i dont take anything", "im not on any meds"
    r"|\b(?:i (?:dont|do not|dont really|never) (?:take|use)|im not (?:on|taking)) (?:anything|any|nothing|no)\b"
    # a condition of their own: "i have ms", "i have a spinal cord injury" (not "i have a question about my mom")
    r"|\bi (?:have|was diagnosed with|got diagnosed with) (?!(?:to|been|had|got|noticed|seen|a (?:quick )?(?:q|question|"
    r"concern)|an? (?:update|appointment)|some|any|no|questions?|concerns?|q|my|his|her|him|this|that|the|it|them|"
    r"nothing|something)\b)\w+"
    r"|\bmy\s+(?:own\s+)?(?:legs?|foot|feet|ankles?|arms?|hands?|body|muscles?|eyes?|jaw|face|heart|reflexes|clonus|"
    r"spasms?|speech|meds|medicines?|medication|pills|prescription|calf|calves|knees?|thighs?|toes?|wrists?|fingers?)\b"
    # "im asking for me", "this is about me": the person says outright that they are the patient
    r"|\b(?:asking|writing|messaging|here|this is|its)\s+(?:for|about)\s+(?:me|myself)\b"
)


def _self_symptom(norm: str) -> bool:
    """The person says what they themselves take or feel (not just "I'm worried about my mom")."""
    return bool(_OWN.search(norm))
