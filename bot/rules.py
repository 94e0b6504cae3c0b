"""The rules of the triage policy (../shared/clinical/triage-policy.md, beside this repository), one function per rule id.

A rule is ONE decorated function, in policy order in this file:

    @rule("COMBO-X", level="urgent", escalation=SEROTONIN_SIGNS)
    def combo_x(s: ConversationState) -> Fired:
        ...
        return fire("urgent", f"{s.who.take} {names(meds)} ...")   # or None

The decorator registers the id (RULES, RULE_IDS), the levels it may give, and the warning signs
the person is told (bot.triage_text). It reads a ConversationState (what the person takes, took,
may take, and reports, and for whom) and gives a level and a one-sentence reason in plain words, or
None. `evaluate()` runs them all and applies the exclusions the policy spells out ("any OTHER pair",
"only", "without those symptoms", section 6 "clonus without red flags": `section6=True`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Callable, Dict, FrozenSet, Iterable, Iterator, List, Mapping, Optional, Set, Tuple, Union

from bot.context import SELF, Patient
from bot.vocab import LEVELS, RANK, SEROTONERGIC_CLASSES

SEROTONERGIC = SEROTONERGIC_CLASSES

#: Washout windows in days (COMBO-WASHOUT: Prozac label 5 weeks; 14 days otherwise).
WASHOUT_DAYS = 14
WASHOUT_DAYS_FLUOXETINE = 35
#: A stop counts as "abrupt" / "recent" for the stop rules within this many days.
RECENT_STOP_DAYS = 14
#: "Within days of starting or increasing" (CL-NEW-SEROTONERGIC); two weeks is the cautious reading.
RECENT_START_DAYS = 14


@dataclass(frozen=True)
class RedFlag:
    id: str
    level: str
    reason: str


@dataclass
class Med:
    """What the conversation says about one medicine."""

    name: str
    classes: FrozenSet[str]
    mentioned_as: str
    current: bool = False
    started_recently: bool = False
    days_since_start: Optional[float] = None
    stopped: bool = False  # an explicit stop event somewhere in the conversation
    past: bool = False
    days_since_stop: Optional[float] = None
    hypothetical: bool = False  # asked about, not taken ("what if I took tramadol")

    @property
    def considered(self) -> bool:
        """Taken now, or asked about as if taken (combination rules answer both)."""
        return self.current or self.hypothetical

    @property
    def serotonergic(self) -> bool:
        return bool(self.classes & SEROTONERGIC)

    def has(self, *classes: str) -> bool:
        return bool(self.classes & set(classes))

    @property
    def recent_stop(self) -> bool:
        """Stopped within the last two weeks, or stopped at a time not given (cautious)."""
        return self.stopped and (self.days_since_stop is None or self.days_since_stop <= RECENT_STOP_DAYS)


@dataclass
class ConversationState:
    meds: Dict[str, Med] = field(default_factory=dict)
    features: Set[str] = field(default_factory=set)
    chronic: Set[str] = field(default_factory=set)  # features described as long-standing
    temperature_c: Optional[float] = None
    patient: Patient = SELF
    symptom_features: FrozenSet[str] = frozenset()  # features of kind "symptom" in the lexicon (CL-BRIEF)
    #: Count medicines only asked about ("can I take tramadol with ...") as if taken. Off for the
    #: triage itself (policy section 4: only medicines the person currently takes count); on to tell
    #: the person what the combination they ask about could do (Assessment.asked).
    include_asked: bool = False

    @property
    def who(self) -> "Who":
        return Who(self.patient)

    # ------------------------------------------------------------------------------ helpers
    @property
    def current(self) -> List[Med]:
        return [m for m in self.meds.values() if m.current]

    @property
    def serotonergic(self) -> List[Med]:
        return [m for m in self.current if m.serotonergic]

    def taking(self, *classes: str) -> List[Med]:
        return [m for m in self.current if m.has(*classes)]

    @property
    def considered(self) -> List[Med]:
        """Current medicines, and with include_asked those asked about ("can I take tramadol with ...")."""
        if not self.include_asked:
            return self.current
        return [m for m in self.meds.values() if m.considered]

    @property
    def serotonergic_considered(self) -> List[Med]:
        return [m for m in self.considered if m.serotonergic]

    def considering(self, *classes: str) -> List[Med]:
        return [m for m in self.considered if m.has(*classes)]

    def considering_named(self, *names: str) -> List[Med]:
        return [m for m in self.considered if m.name in names]

    def has(self, *features: str) -> bool:
        return any(f in self.features for f in features)

    def new(self, *features: str) -> List[str]:
        """Features present and not described as long-standing."""
        return [f for f in features if f in self.features and f not in self.chronic]


# ------------------------------------------------------------------------------------ words

class _Plain(Mapping[str, str]):
    """Features in plain words, read from the symptom lexicon (`plain:`, else `description:`), so
    that a new feature is described where it is defined."""

    _cache: Optional[Dict[str, str]] = None

    def _table(self) -> Dict[str, str]:
        if self._cache is None:
            from bot.symptoms import lexicon

            self._cache = {name: f.plain for name, f in lexicon().items()}
        return self._cache

    def __getitem__(self, key: str) -> str:
        return self._table()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())


PLAIN: Mapping[str, str] = _Plain()

KNOWN_CONDITIONS = {
    "condition_ms": "multiple sclerosis",
    "condition_stroke": "a past stroke",
    "condition_sci": "a spinal cord injury",
    "condition_cp": "cerebral palsy",
    "condition_als": "ALS",
    "condition_tbi": "a brain injury",
}


def join(items: Iterable[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(dict.fromkeys(items))
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def _names(meds: Iterable[Med]) -> str:
    return join(m.name for m in meds)


def _plain(features: Iterable[str]) -> str:
    return join(PLAIN.get(f, f.replace("_", " ")) for f in features)


class Who:
    """How the reasons name the patient: "You take ..." for the person writing, "Your mom takes ..." or
    "He takes ..." for someone a caregiver speaks for (never "You take" about someone else)."""

    def __init__(self, patient: Patient) -> None:
        self.patient = patient
        if patient.is_self:
            self.noun, self.subj, self.poss, self.obj = "you", "you", "your", "you"
        else:
            pron = patient.pronoun
            self.noun = f"your {patient.relation}" if patient.relation else pron
            self.subj = pron
            self.poss = {"he": "his", "she": "her", "they": "their"}[pron]
            self.obj = {"he": "him", "she": "her", "they": "them"}[pron]

    def _verb(self, base: str, third: str) -> str:
        plural = self.patient.is_self or (self.patient.relation is None and self.subj == "they")
        word = f"{self.noun} {base if plural else third}"
        return word[:1].upper() + word[1:]

    def does(self, base: str, third: str) -> str:
        """The verb alone, agreeing with the patient: does("have", "has")."""
        plural = self.patient.is_self or (self.patient.relation is None and self.subj == "they")
        return base if plural else third

    @property
    def take(self) -> str:
        return self._verb("take", "takes")

    @property
    def has(self) -> str:
        return self._verb("have", "has")

    @property
    def feels(self) -> str:
        return self._verb("feel", "feels")

    @property
    def stopped(self) -> str:
        return self._verb("stopped", "stopped")

    @property
    def used(self) -> str:
        return self._verb("used", "used")

    @property
    def Poss(self) -> str:
        return self.poss[:1].upper() + self.poss[1:]


Fired = Optional[Tuple[str, str]]  # (level, reason) or None


def fire(level: str, reason: str) -> Tuple[str, str]:
    return level, reason


@dataclass(frozen=True)
class Rule:
    id: str
    levels: Tuple[str, ...]  # the levels this rule may give
    escalation: str  # the signs that would make it an emergency, in plain words ("" for none)
    check: Callable[["ConversationState"], Fired]
    section6: bool = False  # "clonus without red flags": gives way when an SS- or RF- rule fires

    def __call__(self, s: "ConversationState") -> Optional[RedFlag]:
        out = self.check(s)
        if out is None:
            return None
        level, reason = out
        if level not in self.levels:
            raise ValueError(f"{self.id} gave level {level!r}, not one of {self.levels}")
        return RedFlag(self.id, level, reason)


#: Every rule, by id, in the order of the policy (the order of the definitions below).
RULES: Dict[str, Rule] = {}


def rule(rule_id: str, *, level: Union[str, Tuple[str, ...]], escalation: str = "",
         section6: bool = False) -> Callable[[Callable[["ConversationState"], Fired]], Callable[["ConversationState"], Fired]]:
    """Register a policy rule (see the module docstring)."""
    levels = (level,) if isinstance(level, str) else tuple(level)
    if any(lvl not in LEVELS for lvl in levels):
        raise ValueError(f"{rule_id}: unknown level in {levels}")

    def register(fn: Callable[["ConversationState"], Fired]) -> Callable[["ConversationState"], Fired]:
        if rule_id in RULES:
            raise ValueError(f"rule {rule_id} defined twice")
        RULES[rule_id] = Rule(rule_id, levels, escalation, fn, section6)
        return fn

    return register


#: The warning signs of serotonin syndrome, for the rules whose escalation they are (policy sections 2, 4).
SEROTONIN_SIGNS = (
    "muscles jerking on their own, a fever, heavy sweating, confusion, very stiff muscles, "
    "a racing heart, or seeing things that are not there"
)


def _with(meds: List[Med]) -> str:
    """'tramadol with venlafaxine', 'a with b and c' (for "Taking ... could ...")."""
    names = list(dict.fromkeys(m.name for m in meds))
    return names[0] + (" with " + join(names[1:]) if len(names) > 1 else "")


def _asked(meds: Iterable[Med]) -> bool:
    """Some of these medicines are only asked about, not taken."""
    return any(m.hypothetical and not m.current for m in meds)


# ------------------------------------------------------------------------------ section 2

CLONUS_FEATURES = ("spontaneous_clonus", "inducible_clonus", "clonus", "muscle_jerks")
#: Movements that, with loss of consciousness, are a seizure (RF-SEIZURE).
CONVULSIVE_FEATURES = CLONUS_FEATURES + ("tremor", "hypertonia", "clonus_sustained")
# FDA warning signs (FDA DSC 22 Mar 2016), grouped as the policy lists them: each group is one sign.
FDA_SIGNS: Dict[str, Tuple[str, ...]] = {
    "agitation": ("agitation",),
    "hallucinations": ("hallucinations",),
    "rapid heart rate": ("tachycardia",),
    "fever": ("fever",),
    "sweating": ("diaphoresis",),
    "shivering or shaking": ("shivering", "tremor"),
    "muscle twitching or stiffness": ("muscle_jerks", "spontaneous_clonus", "inducible_clonus", "ocular_clonus", "clonus", "hypertonia"),
    "trouble with coordination": ("incoordination",),
    "nausea, vomiting or diarrhea": ("gi_upset",),
    "confusion": ("confusion",),
}


def hunter_criteria(s: ConversationState) -> List[str]:
    """The Hunter decision rules (Dunkley 2003) that the reported features meet, as feature lists.
    Clonus named without a trigger ("ankle clonus") is taken as inducible, the common kind."""
    f = s.features
    inducible = "inducible_clonus" in f or "clonus" in f
    sweat_or_agitated = [x for x in ("agitation", "diaphoresis") if x in f]
    met: List[List[str]] = []
    if "spontaneous_clonus" in f:
        met.append(["spontaneous_clonus"])
    if inducible and sweat_or_agitated:
        met.append(["inducible_clonus" if "inducible_clonus" in f else "clonus"] + sweat_or_agitated)
    if "ocular_clonus" in f and sweat_or_agitated:
        met.append(["ocular_clonus"] + sweat_or_agitated)
    if "tremor" in f and "hyperreflexia" in f:
        met.append(["tremor", "hyperreflexia"])
    if "hypertonia" in f and "fever" in f and (inducible or "ocular_clonus" in f):
        met.append(["hypertonia", "fever"] + [x for x in ("ocular_clonus", "inducible_clonus", "clonus") if x in f][:1])
    return [x for group in met for x in group]


@rule("SS-HUNTER", level="emergency")
def ss_hunter(s: ConversationState) -> Fired:
    sero = s.serotonergic
    features = hunter_criteria(s)
    if not sero or not features:
        return None
    return fire(
        "emergency",
        f"{s.who.take} {_names(sero)} and {_describe(s)} {_plain(features)}; these are signs of serotonin "
        "syndrome, which can be dangerous.",
    )


def _describe(s: ConversationState) -> str:
    return "describe" if s.patient.is_self else "you describe"


def fda_signs(s: ConversationState) -> Dict[str, List[str]]:
    """FDA warning signs present and not long-standing, by sign."""
    found = {}
    for sign, features in FDA_SIGNS.items():
        new = s.new(*features)
        if new:
            found[sign] = new
    return found


@rule("SS-SYMPTOMS", level=("urgent", "emergency"), escalation=SEROTONIN_SIGNS)
def ss_symptoms(s: ConversationState) -> Fired:
    # The policy asks for signs "new since starting or increasing" the agent. People rarely say so;
    # the cautious reading counts every sign that is not described as long-standing ("for years").
    sero = s.serotonergic
    signs = fda_signs(s)
    if not sero or not signs:
        return None
    severe = [x for x in ("fever", "confusion", "hallucinations") if x in signs]
    if s.new("hypertonia"):
        severe.append("hypertonia")
    features = [group[0] for group in signs.values()]  # one word per sign
    have = s.who.does("have", "has")
    if severe or len(signs) >= 2:
        return fire(
            "emergency",
            f"{s.who.take} {_names(sero)} and {have} {_plain(features)}; these can be warning signs of serotonin syndrome.",
        )
    if list(signs) == ["muscle twitching or stiffness"] and _new_serotonergic(s):
        return None  # CL-NEW-SEROTONERGIC is the rule for new jerks alone after a new agent
    return fire(
        "urgent",
        f"{s.who.take} {_names(sero)} and {have} {_plain(features)}; this can be an early sign of serotonin syndrome.",
    )


# ------------------------------------------------------------------------------ section 4


def _ssri_snri_tca(m: Med) -> bool:
    return m.has("ssri", "snri", "tca", "tca_strong")


def _maoi(m: Med) -> bool:
    return m.has("maoi", "hidden_maoi")


def _weak_partner(m: Med) -> bool:
    return m.has("triptan") or m.name in ("ondansetron", "mirtazapine")


def _weak_pair(a: Med, b: Med) -> bool:
    return (a.has("ssri", "snri") and _weak_partner(b)) or (b.has("ssri", "snri") and _weak_partner(a))


def _high_opioid_pair(a: Med, b: Med) -> bool:
    return (_ssri_snri_tca(a) and b.has("serotonergic_opioid")) or (_ssri_snri_tca(b) and a.has("serotonergic_opioid"))


def _together(s: ConversationState, meds: List[Med], risk: str) -> str:
    """'You take A and B together; <risk>' or, when one of them is only asked about, 'Taking A with B
    could <risk without "this combination can">'."""
    if _asked(meds):
        return f"Taking {_with(meds)} could {risk.split(' can ', 1)[-1]}"
    return f"{s.who.take} {_names(meds)} together; {risk}"


@rule("COMBO-MAOI", level="urgent", escalation=SEROTONIN_SIGNS)
def combo_maoi(s: ConversationState) -> Fired:
    sero = s.serotonergic_considered
    maois = [m for m in sero if _maoi(m)]
    others = [m for m in sero if m not in maois[:1]]
    if not maois or not others:
        return None
    return fire("urgent", _together(s, [maois[0]] + others, "this combination can cause serotonin syndrome."))


@rule("COMBO-WASHOUT", level="urgent", escalation=SEROTONIN_SIGNS)
def combo_washout(s: ConversationState) -> Fired:
    # The MAOI side includes hidden MAOIs (linezolid, methylene blue): FDA DSC 2011 asks for the same
    # washout. The other side includes tricyclics in both directions, the more cautious reading.
    def within(m: Med) -> bool:
        window = WASHOUT_DAYS_FLUOXETINE if m.name == "fluoxetine" else WASHOUT_DAYS
        return m.stopped and not m.current and (m.days_since_stop is None or m.days_since_stop <= window)

    stopped = [m for m in s.meds.values() if within(m)]
    for new in s.considered:
        if _maoi(new):
            old = [m for m in stopped if _ssri_snri_tca(m)]
        elif _ssri_snri_tca(new):
            old = [m for m in stopped if _maoi(m)]
        else:
            continue
        if old:
            o = old[0]
            when = "recently" if o.days_since_stop is None else f"{_days(o.days_since_stop)} ago"
            if _asked([new]):
                return fire(
                    "urgent",
                    f"Starting {new.name} after stopping {o.name} {when} could cause serotonin syndrome; "
                    f"{o.name} can still be in the body.",
                )
            return fire(
                "urgent",
                f"{s.who.take} {new.name} and stopped {o.name} {when}; {o.name} can still be in the body, and "
                "together they can cause serotonin syndrome.",
            )
    return None


def _days(days: float) -> str:
    if days < 1:
        return "today"
    if days < 14:
        n = round(days)
        return f"{n} day{'s' if n != 1 else ''}"
    if days < 60:
        n = round(days / 7)
        return f"{n} weeks"
    if days < 700:
        n = round(days / 30)
        return f"{n} months"
    return "years"


@rule("COMBO-HIGH-OPIOID", level="routine", escalation=SEROTONIN_SIGNS)
def combo_high_opioid(s: ConversationState) -> Fired:
    sero = s.serotonergic_considered
    antidep = [m for m in sero if _ssri_snri_tca(m)]
    opioids = [m for m in sero if m.has("serotonergic_opioid")]
    if not antidep or not opioids:
        return None
    meds = (opioids + antidep) if _asked(opioids + antidep) else (antidep + opioids)
    return fire("routine", _together(s, meds, "this combination can cause serotonin syndrome, so it is worth "
                                              "knowing the warning signs."))


@rule("COMBO-STACK", level="urgent", escalation=SEROTONIN_SIGNS)
def combo_stack(s: ConversationState) -> Fired:
    sero = s.serotonergic_considered
    if len(sero) < 3:
        return None
    if _asked(sero):
        return fire("urgent", f"Taking {_with(sero)} means {len(sero)} medicines that raise serotonin; together "
                              "they could cause serotonin syndrome.")
    return fire(
        "urgent",
        f"{s.who.take} {len(sero)} medicines that raise serotonin ({_names(sero)}); together they can cause "
        "serotonin syndrome.",
    )


@rule("COMBO-RECREATIONAL", level="urgent", escalation=SEROTONIN_SIGNS)
def combo_recreational(s: ConversationState) -> Fired:
    # The policy says "+ any prescribed serotonergic agent". A second recreational drug or an herbal
    # product raises serotonin too, so any other serotonergic agent counts (more cautious).
    sero = s.serotonergic_considered
    rec = [m for m in sero if m.has("recreational")]
    if not rec:
        return None
    others = [m for m in sero if m is not rec[0]]
    if not others:
        return None
    if _asked([rec[0]] + others):
        return fire("urgent", f"Taking {_with([rec[0]] + others)} could cause serotonin syndrome.")
    used = s.who.used
    return fire("urgent", f"{used} {rec[0].name} while taking {_names(others)}; this combination can cause serotonin syndrome.")


@rule("COMBO-SEROTONERGIC", level="routine", escalation=SEROTONIN_SIGNS)
def combo_serotonergic(s: ConversationState) -> Fired:
    sero = s.serotonergic_considered
    weak_only = combo_weak(s) is not None
    pairs = []
    for a, b in combinations(sero, 2):
        if _maoi(a) or _maoi(b) or a.has("recreational") or b.has("recreational") or _high_opioid_pair(a, b):
            continue  # COMBO-MAOI, COMBO-RECREATIONAL or COMBO-HIGH-OPIOID covers this pair
        if weak_only and _weak_pair(a, b):
            continue  # COMBO-WEAK
        pairs.append((a, b))
    if not pairs:
        return None
    meds = list({m.name: m for pair in pairs for m in pair}.values())
    if _asked(meds):
        return fire("routine", f"Taking {_with(meds)} could cause serotonin syndrome; both raise serotonin.")
    return fire(
        "routine",
        f"{s.who.take} {_names(meds)} together; both raise serotonin, and together they can cause serotonin syndrome.",
    )


@rule("COMBO-WEAK", level="self_care", escalation=SEROTONIN_SIGNS)
def combo_weak(s: ConversationState) -> Fired:
    sero = s.serotonergic_considered
    if len(sero) != 2 or not _weak_pair(*sero):
        return None
    if _asked(sero):
        return fire("self_care", f"Taking {_with(sero)} has a low risk of serotonin syndrome, but it helps to know "
                                 "the warning signs.")
    return fire(
        "self_care",
        f"{s.who.take} {_names(sero)}; the risk of serotonin syndrome from this pair is low, but it helps to "
        "know the warning signs.",
    )


@rule("RX-TIZANIDINE-CYP1A2", level=("routine", "urgent", "emergency"),
      escalation="fainting, feeling like you will pass out, or very low blood pressure")
def rx_tizanidine(s: ConversationState) -> Fired:
    tiz = s.considering_named("tizanidine")
    inhibitors = [m for m in s.considering("cyp1a2_inhibitor") if m.name != "tizanidine"]
    if not tiz or not inhibitors:
        return None
    strong = [m for m in inhibitors if m.has("cyp1a2_contraindicated")]
    shown = strong or inhibitors
    signs = s.new("loss_of_consciousness", "low_blood_pressure")
    lead = f"Taking tizanidine with {_names(shown)}" if _asked(tiz + shown) else f"{s.who.take} tizanidine with {_names(shown)}"
    if signs:
        return fire(
            "emergency",
            f"{lead} and {_describe(s)} {_plain(signs)}; {_names(shown)} can raise tizanidine to dangerous levels.",
        )
    if strong:
        return fire(
            "urgent",
            f"{lead}; this pair should not be taken together because it raises tizanidine levels a lot.",
        )
    return fire(
        "routine",
        f"{lead}, which can raise tizanidine levels and cause low blood pressure or sleepiness.",
    )


@rule("RX-RESP-DEPRESSION", level=("routine", "emergency"),
      escalation="extreme sleepiness, slow or shallow breathing, blue lips or fingers, or being hard to wake")
def rx_resp_depression(s: ConversationState) -> Fired:
    sedatives = [m for m in s.considered if m.has("gabapentinoid", "benzodiazepine") or m.name == "baclofen"]
    opioids = s.considering("opioid")
    if not sedatives or not opioids:
        return None
    # Trouble breathing is in RF-BREATHING too; it is also a sign here (more cautious).
    signs = s.new("extreme_sleepiness", "slow_breathing", "unresponsive", "blue_lips", "breathing_trouble")
    lead = (f"Taking {_names(sedatives)} with {_names(opioids)}" if _asked(sedatives + opioids)
            else f"{s.who.take} {_names(sedatives)} with {_names(opioids)}")
    if signs:
        return fire(
            "emergency",
            f"{lead} and {_describe(s)} {_plain(signs)}; together these medicines can slow breathing dangerously.",
        )
    return fire(
        "routine",
        f"{lead}; together they can cause extreme sleepiness and slow breathing.",
    )


def _sudden_stop(s: ConversationState, m: Med) -> bool:
    """RX-BACLOFEN-STOP, RX-BACLOFEN-WITHDRAWAL, RX-BENZO-STOP: the policy's "abrupt stop". A medicine
    reduced step by step (a taper: "tapered off it with my psychiatrist") is not one, unless the person
    also says it ended suddenly ("cold turkey", "ran out")."""
    return m.recent_stop and not (s.has("taper") and not s.has("abrupt_stop"))


BACLOFEN_WITHDRAWAL_SIGNS = ("fever", "confusion", "rebound_spasticity", "hypertonia", "itching", "hallucinations", "seizure")


def _baclofen_problem(s: ConversationState) -> Tuple[List[str], bool]:
    """(what went wrong, in words; whether baclofen is involved at all)."""
    baclofen = s.meds.get("baclofen")
    # A pump named without saying which counts as the intrathecal baclofen pump: the patients of this
    # clinic who say "my pump" mean it (an insulin or a breast pump is named as such: pump_mentioned).
    pump_known = baclofen is not None or s.has("pump_context", "pump_mentioned")
    poss = s.who.poss
    problems = []
    if pump_known:
        # RX-BACLOFEN-STOP: "my son has a baclofen pump" ... "the alarm started going off": the alarm is
        # said in another message without naming the pump; with a pump in place it is the pump's alarm.
        if s.has("pump_alarm", "device_alarm"):
            problems.append(f"{poss} baclofen pump alarm went off")
        if s.has("pump_refill_missed"):
            problems.append("a baclofen pump refill was missed")
        if s.has("pump_catheter"):
            problems.append("there is a problem with the pump catheter")
    if baclofen is not None and _sudden_stop(s, baclofen):
        problems.append(f"{poss} baclofen was stopped suddenly")
    return problems, baclofen is not None


def _withdrawal_signs(s: ConversationState) -> List[str]:
    signs = [f for f in BACLOFEN_WITHDRAWAL_SIGNS if f in s.features]
    if "itching" in signs and "rash" in s.features:
        signs.remove("itching")  # itching WITH a rash is not the withdrawal sign
    return signs


_BACLOFEN_SIGNS = ("a high fever, confusion, muscles getting very stiff, itching without a rash, "
                   "seeing things that are not there, or a seizure")


@rule("RX-BACLOFEN-WITHDRAWAL", level="emergency")
def rx_baclofen_withdrawal(s: ConversationState) -> Fired:
    problems, _ = _baclofen_problem(s)
    signs = _withdrawal_signs(s)
    if not problems or not signs:
        return None
    has = f"{s.who.subj} {s.who.does('have', 'has')}"
    return fire(
        "emergency",
        f"{join(problems).capitalize()} and {has} {_plain(signs)}; these can be signs of baclofen withdrawal, "
        "which can be life-threatening.",
    )


@rule("RX-BACLOFEN-STOP", level="urgent", escalation=_BACLOFEN_SIGNS)
def rx_baclofen_stop(s: ConversationState) -> Fired:
    problems, _ = _baclofen_problem(s)
    if not problems or _withdrawal_signs(s):
        return None  # with withdrawal signs RX-BACLOFEN-WITHDRAWAL applies instead
    return fire(
        "urgent",
        f"{join(problems).capitalize()}; stopping baclofen suddenly can cause dangerous withdrawal.",
    )


@rule("RX-DANTROLENE-LIVER", level="urgent", escalation="confusion, extreme sleepiness, or yellow skin with jerking")
def rx_dantrolene_liver(s: ConversationState) -> Fired:
    # Liver injury can show after the last dose, so dantrolene taken recently counts too.
    med = s.meds.get("dantrolene")
    if med is None or (med.hypothetical and not med.current and not med.past):
        return None
    signs = s.new("jaundice", "dark_urine", "ruq_pain")
    if not signs:
        return None
    return fire(
        "urgent",
        f"{s.who.take} dantrolene and {s.who.does('have', 'has')} "
        f"{_plain(signs)}; dantrolene can harm the liver.",
    )


@rule("RX-BENZO-STOP", level=("urgent", "emergency"), escalation="a seizure, seeing things that are not there, or confusion")
def rx_benzo_stop(s: ConversationState) -> Fired:
    stopped = [m for m in s.meds.values() if m.has("benzodiazepine") and _sudden_stop(s, m)]
    if not stopped:
        return None
    if s.has("seizure"):
        return fire(
            "emergency",
            f"{s.who.stopped} {_names(stopped)} suddenly and had a seizure; stopping a benzodiazepine suddenly can "
            "cause seizures.",
        )
    return fire(
        "urgent",
        f"{s.who.stopped} {_names(stopped)} suddenly; stopping a benzodiazepine suddenly can cause withdrawal "
        "and seizures.",
    )


@rule("RX-SEDATION", level=("self_care", "routine"))
def rx_sedation(s: ConversationState) -> Fired:
    # The policy names baclofen, tizanidine, gabapentin, diazepam, clonazepam and dantrolene; the other
    # members of those classes (pregabalin, other benzodiazepines) sedate just the same.
    meds = s.taking("muscle_relaxant", "gabapentinoid", "benzodiazepine")
    signs = s.new("drowsiness", "dizziness", "extreme_sleepiness")
    if not meds or not signs:
        return None
    if s.has("disrupts_daily_life"):
        return fire(
            "routine",
            f"{s.who.feels} {_plain(signs)} on {_names(meds)} and it gets in the way of daily life.",
        )
    return fire(
        "self_care",
        f"{_plain(signs).capitalize()} is a common side effect of {_names(meds)}.",
    )


# ------------------------------------------------------------------------------ section 5


@rule("RF-STROKE", level="emergency")
def rf_stroke(s: ConversationState) -> Fired:
    signs = s.new("face_droop", "one_sided_weakness", "speech_problem", "balance_loss", "vision_loss")
    if not signs:
        return None
    return fire("emergency", f"You describe {_plain(signs)}; these can be signs of a stroke.")


@rule("RF-CORD", level="emergency")
def rf_cord(s: ConversationState) -> Fired:
    signs = s.new("bladder_bowel_loss", "saddle_numbness", "both_legs_weak")
    if not signs:
        return None
    extra = " with back pain" if s.has("back_pain") else ""
    return fire(
        "emergency",
        f"You describe {_plain(signs)}{extra}; this can mean pressure on the spinal cord or its nerves.",
    )


@rule("RF-MENINGITIS", level="emergency")
def rf_meningitis(s: ConversationState) -> Fired:
    signs = s.new("stiff_neck", "severe_headache", "confusion", "photophobia")
    if "fever" not in s.features or not signs:
        return None
    return fire(
        "emergency",
        f"{s.who.has} a fever with {_plain(signs)}; this can be a sign of meningitis.",
    )


@rule("RF-SEIZURE", level="emergency")
def rf_seizure(s: ConversationState) -> Fired:
    if s.has("seizure"):
        return fire("emergency", "You describe a seizure.")
    if s.has("episode_now") and s.has("seizure_history"):
        # "she gets seizures sometimes" ... "shes having one right now": the known kind, happening now
        return fire("emergency", "You describe a seizure happening now.")
    # "Jerking with loss of consciousness": a caregiver rarely says "jerking"; shaking all over or
    # going stiff while not responding is how a convulsion is usually told.
    if s.has("loss_of_consciousness", "unresponsive") and s.has(*CONVULSIVE_FEATURES):
        return fire("emergency", "You describe jerking with passing out; this can be a seizure.")
    return None


# SEIZURE-HISTORY is not a policy id: the policy names a seizure (RF-SEIZURE, emergency) but is silent on a
# known, recurring history of seizures with none now ("my daughter gets seizures sometimes", "he has
# epilepsy"). A history is not a seizure now, so not RF-SEIZURE; the more cautious of the other levels for a
# seizure disorder seen in a neurology clinic is routine (a booked assessment), with the signs that make it 911.
@rule("SEIZURE-HISTORY", level="routine",
      escalation="Call 911 if a seizure is happening now, lasts more than 5 minutes, comes one after another, "
                 "or the person does not wake up afterwards.")
def seizure_history(s: ConversationState) -> Fired:
    if not s.has("seizure_history") or s.has("seizure", "episode_now"):
        return None
    return fire("routine", f"{s.who.has} a history of seizures; a neurology check-up can review them.")


@rule("RF-LIVER", level="emergency")
def rf_liver(s: ConversationState) -> Fired:
    if "condition_liver_disease" not in s.features:
        return None
    signs = s.new("confusion", "extreme_sleepiness", "unresponsive")
    if s.has("jaundice") and s.has(*CLONUS_FEATURES):
        signs += ["jaundice"] + [f for f in CLONUS_FEATURES if f in s.features][:1]
    if not signs:
        return None
    return fire(
        "emergency",
        f"{s.who.has} liver disease and {_plain(signs)}; this can mean the liver is not clearing toxins.",
    )


@rule("RF-BREATHING", level="emergency")
def rf_breathing(s: ConversationState) -> Fired:
    signs = s.new("breathing_trouble", "blue_lips")
    if not signs:
        return None
    return fire("emergency", f"You describe {_plain(signs)}.")


@rule("RF-INJURY", level="emergency")
def rf_injury(s: ConversationState) -> Fired:
    if "recent_injury" not in s.features:
        return None
    signs = [f for f in CLONUS_FEATURES + ("one_sided_weakness", "both_legs_weak", "limb_weakness") if f in s.features]
    if not signs:
        return None
    return fire(
        "emergency",
        f"You describe {_plain(signs[:2])} after a head or spine injury; this needs to be checked right away.",
    )


@rule("RF-SELF-HARM", level="emergency")
def rf_self_harm(s: ConversationState) -> Fired:
    if "self_harm" not in s.features:
        return None
    if s.patient.is_self:
        return fire("emergency", "You mentioned thoughts of ending your life or hurting yourself.")
    refl = {"him": "himself", "her": "herself", "them": "themselves"}[s.who.obj]
    return fire("emergency", f"You mentioned that {s.who.noun} has thoughts of ending {s.who.poss} life or "
                             f"hurting {refl}.")


# Two rules the policy does not list (section 5 is silent on them; "choose the more cautious level"):
# the intent classifier never raises or withholds the emergency reply by itself, so a person who
# asks for an ambulance or the emergency number, or says someone is unresponsive, gets it from these.


# RF-STATED-EMERGENCY and RF-UNRESPONSIVE are not policy ids: the policy is silent on a stated emergency and on
# someone not responding without an opioid + sedative (RX-RESP-DEPRESSION) or jerking (RF-SEIZURE); its rule for
# silence is the more cautious level, so both are emergency under their own ids (docs/ARCHITECTURE.md says why).
@rule("RF-STATED-EMERGENCY", level="emergency")
def rf_stated_emergency(s: ConversationState) -> Fired:
    if s.has("emergency_request"):
        return fire("emergency", "You asked for emergency help.")
    if s.has("danger_now"):
        return fire("emergency", "You describe chest pain, a heart attack or someone who may be dying.")
    return None


# RF-OVERDOSE is not a policy id: the policy is silent on an overdose taken (its combination rules
# are about what is taken as prescribed); the more cautious level is emergency.
@rule("RF-OVERDOSE", level="emergency")
def rf_overdose(s: ConversationState) -> Fired:
    if not s.has("overdose_taken"):
        return None
    return fire("emergency", "You describe taking far more of a medicine than prescribed.")


@rule("RF-UNRESPONSIVE", level="emergency")
def rf_unresponsive(s: ConversationState) -> Fired:
    if not s.new("unresponsive"):
        return None
    if s.patient.is_self:
        return fire("emergency", "You describe someone who is not responding.")
    return fire("emergency", f"You describe that {s.who.noun} is not responding.")


# ------------------------------------------------------------------------------ section 6


def _clonus(s: ConversationState) -> List[str]:
    return [f for f in CLONUS_FEATURES if f in s.features]


#: Section 6 (CL-SUSTAINED, CL-KNOWN-CONDITION): patients of a spasticity clinic call their clonus
#: "spasms" ("spasms every night for weeks"); there, but not in the serotonin or red-flag rules, the
#: word counts as the clonus it describes.
SECTION6_CLONUS = CLONUS_FEATURES + ("spasms",)


def _section6_clonus(s: ConversationState) -> List[str]:
    return [f for f in SECTION6_CLONUS if f in s.features]


def _new_serotonergic(s: ConversationState) -> List[Med]:
    """Serotonergic agents started or increased within days (or 'new since I started X')."""
    recent = [
        m for m in s.serotonergic
        if m.started_recently and (m.days_since_start is None or m.days_since_start <= RECENT_START_DAYS)
    ]
    if recent:
        return recent
    return s.serotonergic if s.has("new_since_medicine") else []


@rule("CL-SUSTAINED", level="routine", section6=True)
def cl_sustained(s: ConversationState) -> Fired:
    clonus = _section6_clonus(s)
    how = [x for x, f in (("keeps going", "clonus_sustained"), ("keeps coming back", "clonus_recurring"),
                          ("is on one side", "one_side")) if f in s.features]
    if how == ["is on one side"] and "clonus_brief" in s.features:
        return None  # a few beats that stop on their own, in one calf: CL-BRIEF (seed 000), not sustained
    if not clonus or not how:
        return None
    return fire("routine", f"{s.who.Poss} clonus {join(how)}; a neurologist should check it.")


@rule("CL-NEW-SEROTONERGIC", level="urgent", escalation=SEROTONIN_SIGNS)
def cl_new_serotonergic(s: ConversationState) -> Fired:
    new = _new_serotonergic(s)
    jerks = [f for f in _clonus(s) if f not in s.chronic]
    signs = fda_signs(s)
    if not new or not jerks or set(signs) - {"muscle twitching or stiffness"} or s.new("hypertonia"):
        return None  # other signs: SS-SYMPTOMS / SS-HUNTER apply
    return fire(
        "urgent",
        f"{s.who.has} new {_plain(jerks[:1])} since starting or increasing {_names(new)}, which raises serotonin.",
    )


@rule("CL-KNOWN-CONDITION", level="routine", section6=True)
def cl_known_condition(s: ConversationState) -> Fired:
    conditions = [KNOWN_CONDITIONS[c] for c in KNOWN_CONDITIONS if c in s.features]
    # a known condition with shaking that gets worse ("his leg shaking is getting worse") is reviewed too:
    # the lay word for the clonus of these patients (the more cautious reading; the policy is silent)
    if not conditions or not (_section6_clonus(s) or s.has("tremor")) or not s.has("worse", "sudden_worse", "disrupts_daily_life"):
        return None
    how = "is getting worse" if s.has("worse", "sudden_worse") else "limits daily life"
    return fire(
        "routine",
        f"{s.who.has} {join(conditions)} and {s.who.poss} clonus {how}; a neurologist can review the treatment.",
    )


@rule("CL-SUDDEN-WORSE", level=("urgent", "emergency"), escalation="a fever or confusion")
def cl_sudden_worse(s: ConversationState) -> Fired:
    if "sudden_worse" not in s.features:
        return None
    signs = [f for f in ("fever", "confusion") if f in s.features]
    if signs:
        return fire(
            "emergency",
            f"{s.who.Poss} spasticity or clonus got much worse suddenly, with {_plain(signs)}; this can be a sign of "
            "infection or a pump problem.",
        )
    return fire(
        "urgent",
        f"{s.who.Poss} spasticity or clonus got much worse over hours or days; common causes are an infection or a "
        "pump problem.",
    )


# Features that do not count as "another symptom" for CL-BRIEF (they describe the clonus itself).
_CLONUS_DESCRIPTION = set(CLONUS_FEATURES) | {
    "clonus_brief", "clonus_sustained", "clonus_recurring", "one_side", "worse", "hyperreflexia",
}


@rule("CL-BRIEF", level=("self_care", "routine"), section6=True)
def cl_brief(s: ConversationState) -> Fired:
    if not _clonus(s) or "clonus_brief" not in s.features:
        return None
    if s.has("clonus_sustained", "clonus_recurring"):
        return None
    if (s.symptom_features & s.features) - _CLONUS_DESCRIPTION:
        return None  # "no other symptom"
    if s.serotonergic:
        # The policy is silent on a few beats in a person on a serotonergic agent taken for a while:
        # CL-BRIEF asks for no serotonergic agent, CL-NEW-SEROTONERGIC for a recent start (urgent,
        # which fires instead when it applies). The more cautious level: routine, a neurologist checks it.
        if _new_serotonergic(s):
            return None
        return fire(
            "routine",
            f"{s.who.take} {_names(s.serotonergic)}, which raises serotonin; even a few beats of clonus are worth "
            "a neurologist's check.",
        )
    return fire(
        "self_care",
        "A few beats of clonus that stop on their own, with no other symptoms, are common and usually harmless.",
    )


# ------------------------------------------------------------------------------ all rules

#: Every rule id of the policy, in the order the policy lists them (the order of the definitions).
RULE_IDS: Tuple[str, ...] = tuple(RULES)


def evaluate(s: ConversationState) -> List[RedFlag]:
    """Every rule that fires on this state, in policy order. Section 6 ("clonus without red flags")
    gives way when a section 2 or 5 rule (SS-, RF-) explains it."""
    flags = [f for f in (r(s) for r in RULES.values() if not r.section6) if f is not None]
    if not any(f.id.startswith(("SS-", "RF-")) for f in flags):
        flags += [f for f in (r(s) for r in RULES.values() if r.section6) if f is not None]
    order = {rule_id: i for i, rule_id in enumerate(RULES)}
    return sorted(flags, key=lambda f: order[f.id])


def level_of(flags: Iterable[RedFlag]) -> str:
    """The highest level among the flags; self_care when none fired."""
    best = "self_care"
    for f in flags:
        if RANK[f.level] > RANK[best]:
            best = f.level
    return best
