"""The rules of the triage policy (../shared/clinical/triage-policy.md, beside this repository), one function per rule id.

Each rule reads a ConversationState (what the person takes, took, and reports) and returns a RedFlag
with the policy's rule id, a level and a one-sentence reason in plain words, or None. `evaluate()`
runs them all and applies the exclusions the policy spells out ("any OTHER pair", "only",
"without those symptoms", section 6 "clonus without red flags").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Callable, Dict, FrozenSet, Iterable, List, Optional, Set, Tuple

LEVELS: Tuple[str, ...] = ("self_care", "routine", "urgent", "emergency")  # ascending severity
RANK = {level: i for i, level in enumerate(LEVELS)}

#: Every rule id of the policy, in the order the policy lists them.
RULE_IDS: Tuple[str, ...] = (
    "SS-HUNTER", "SS-SYMPTOMS", "COMBO-MAOI", "COMBO-WASHOUT", "COMBO-HIGH-OPIOID", "COMBO-STACK",
    "COMBO-RECREATIONAL", "COMBO-SEROTONERGIC", "COMBO-WEAK", "RX-TIZANIDINE-CYP1A2", "RX-RESP-DEPRESSION",
    "RX-BACLOFEN-WITHDRAWAL", "RX-BACLOFEN-STOP", "RX-DANTROLENE-LIVER", "RX-BENZO-STOP", "RX-SEDATION",
    "RF-STROKE", "RF-CORD", "RF-MENINGITIS", "RF-SEIZURE", "RF-LIVER", "RF-BREATHING", "RF-INJURY",
    "RF-SELF-HARM", "CL-SUSTAINED", "CL-NEW-SEROTONERGIC", "CL-KNOWN-CONDITION", "CL-SUDDEN-WORSE", "CL-BRIEF",
)

SEROTONERGIC = frozenset(
    {
        "ssri", "snri", "tca", "tca_strong", "maoi", "hidden_maoi", "serotonergic_opioid",
        "serotonergic_opioid_weak", "triptan", "antiemetic", "other_serotonergic", "herbal", "recreational",
    }
)
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

    # ------------------------------------------------------------------------------ helpers
    @property
    def current(self) -> List[Med]:
        return [m for m in self.meds.values() if m.current]

    @property
    def serotonergic(self) -> List[Med]:
        return [m for m in self.current if m.serotonergic]

    def taking(self, *classes: str) -> List[Med]:
        return [m for m in self.current if m.has(*classes)]

    def taking_named(self, *names: str) -> List[Med]:
        return [m for m in self.current if m.name in names]

    def has(self, *features: str) -> bool:
        return any(f in self.features for f in features)

    def new(self, *features: str) -> List[str]:
        """Features present and not described as long-standing."""
        return [f for f in features if f in self.features and f not in self.chronic]


# ------------------------------------------------------------------------------------ words

PLAIN = {
    "spontaneous_clonus": "muscles jerking on their own",
    "inducible_clonus": "jerking set off by a stretch or movement",
    "ocular_clonus": "eyes flicking from side to side",
    "clonus": "clonus",
    "muscle_jerks": "muscle jerks or twitching",
    "agitation": "agitation or restlessness",
    "diaphoresis": "heavy sweating",
    "tremor": "shaking",
    "hyperreflexia": "very jumpy reflexes",
    "hypertonia": "stiff, rigid muscles",
    "fever": "a fever",
    "tachycardia": "a racing heart",
    "hallucinations": "seeing or hearing things that are not there",
    "confusion": "confusion",
    "shivering": "shivering",
    "incoordination": "trouble with coordination",
    "gi_upset": "nausea, vomiting or diarrhea",
    "face_droop": "a drooping face",
    "one_sided_weakness": "weakness or numbness on one side",
    "speech_problem": "slurred or lost speech",
    "balance_loss": "sudden loss of balance",
    "vision_loss": "sudden vision loss or double vision",
    "bladder_bowel_loss": "loss of bladder or bowel control",
    "saddle_numbness": "numbness in the groin or between the legs",
    "both_legs_weak": "weakness in both legs",
    "back_pain": "back pain",
    "stiff_neck": "a stiff neck",
    "severe_headache": "a severe headache",
    "photophobia": "eyes hurt by light",
    "seizure": "a seizure",
    "loss_of_consciousness": "passing out",
    "breathing_trouble": "trouble breathing",
    "slow_breathing": "slow or shallow breathing",
    "blue_lips": "blue lips or fingers",
    "extreme_sleepiness": "extreme sleepiness",
    "unresponsive": "being hard to wake",
    "drowsiness": "drowsiness",
    "dizziness": "dizziness",
    "jaundice": "yellow skin or eyes",
    "dark_urine": "dark urine",
    "ruq_pain": "pain in the upper right belly",
    "itching": "itching without a rash",
    "rebound_spasticity": "spasticity coming back strongly",
    "low_blood_pressure": "very low blood pressure",
    "recent_injury": "a recent head or spine injury",
}

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


def _flag(rule_id: str, level: str, reason: str) -> RedFlag:
    return RedFlag(rule_id, level, reason)


# ------------------------------------------------------------------------------ section 2

CLONUS_FEATURES = ("spontaneous_clonus", "inducible_clonus", "clonus", "muscle_jerks")
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


def ss_hunter(s: ConversationState) -> Optional[RedFlag]:
    sero = s.serotonergic
    features = hunter_criteria(s)
    if not sero or not features:
        return None
    return _flag(
        "SS-HUNTER", "emergency",
        f"You take {_names(sero)} and describe {_plain(features)}; these are signs of serotonin syndrome, "
        "which can be dangerous.",
    )


def fda_signs(s: ConversationState) -> Dict[str, List[str]]:
    """FDA warning signs present and not long-standing, by sign."""
    found = {}
    for sign, features in FDA_SIGNS.items():
        new = s.new(*features)
        if new:
            found[sign] = new
    return found


def ss_symptoms(s: ConversationState) -> Optional[RedFlag]:
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
    if severe or len(signs) >= 2:
        return _flag(
            "SS-SYMPTOMS", "emergency",
            f"You take {_names(sero)} and have {_plain(features)}; these can be warning signs of serotonin syndrome.",
        )
    if list(signs) == ["muscle twitching or stiffness"] and _new_serotonergic(s):
        return None  # CL-NEW-SEROTONERGIC is the rule for new jerks alone after a new agent
    return _flag(
        "SS-SYMPTOMS", "urgent",
        f"You take {_names(sero)} and have {_plain(features)}; this can be an early sign of serotonin syndrome.",
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


def combo_maoi(s: ConversationState) -> Optional[RedFlag]:
    sero = s.serotonergic
    maois = [m for m in sero if _maoi(m)]
    others = [m for m in sero if m not in maois[:1]]
    if not maois or not others:
        return None
    return _flag(
        "COMBO-MAOI", "urgent",
        f"You take {maois[0].name} and {_names(others)} together; this combination can cause serotonin syndrome.",
    )


def combo_washout(s: ConversationState) -> Optional[RedFlag]:
    # The MAOI side includes hidden MAOIs (linezolid, methylene blue): FDA DSC 2011 asks for the same
    # washout. The other side includes tricyclics in both directions, the more cautious reading.
    def within(m: Med) -> bool:
        window = WASHOUT_DAYS_FLUOXETINE if m.name == "fluoxetine" else WASHOUT_DAYS
        return m.stopped and not m.current and (m.days_since_stop is None or m.days_since_stop <= window)

    stopped = [m for m in s.meds.values() if within(m)]
    for new in s.current:
        if _maoi(new):
            old = [m for m in stopped if _ssri_snri_tca(m)]
        elif _ssri_snri_tca(new):
            old = [m for m in stopped if _maoi(m)]
        else:
            continue
        if old:
            o = old[0]
            when = "recently" if o.days_since_stop is None else f"{_days(o.days_since_stop)} ago"
            return _flag(
                "COMBO-WASHOUT", "urgent",
                f"You take {new.name} and stopped {o.name} {when}; {o.name} can still be in the body, and "
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


def combo_high_opioid(s: ConversationState) -> Optional[RedFlag]:
    sero = s.serotonergic
    antidep = [m for m in sero if _ssri_snri_tca(m)]
    opioids = [m for m in sero if m.has("serotonergic_opioid")]
    if not antidep or not opioids:
        return None
    return _flag(
        "COMBO-HIGH-OPIOID", "routine",
        f"You take {_names(antidep)} and {_names(opioids)} together; this combination can cause serotonin "
        "syndrome, so it is worth knowing the warning signs.",
    )


def combo_stack(s: ConversationState) -> Optional[RedFlag]:
    sero = s.serotonergic
    if len(sero) < 3:
        return None
    return _flag(
        "COMBO-STACK", "urgent",
        f"You take {len(sero)} medicines that raise serotonin ({_names(sero)}); together they can cause "
        "serotonin syndrome.",
    )


def combo_recreational(s: ConversationState) -> Optional[RedFlag]:
    # The policy says "+ any prescribed serotonergic agent". A second recreational drug or an herbal
    # product raises serotonin too, so any other serotonergic agent counts (more cautious).
    sero = s.serotonergic
    rec = [m for m in sero if m.has("recreational")]
    if not rec:
        return None
    others = [m for m in sero if m is not rec[0]]
    if not others:
        return None
    return _flag(
        "COMBO-RECREATIONAL", "urgent",
        f"You used {rec[0].name} while taking {_names(others)}; this combination can cause serotonin syndrome.",
    )


def combo_weak(s: ConversationState) -> Optional[RedFlag]:
    sero = s.serotonergic
    if len(sero) != 2 or not _weak_pair(*sero):
        return None
    return _flag(
        "COMBO-WEAK", "self_care",
        f"You take {_names(sero)}; the risk of serotonin syndrome from this pair is low, but it helps to "
        "know the warning signs.",
    )


def combo_serotonergic(s: ConversationState) -> Optional[RedFlag]:
    sero = s.serotonergic
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
    meds = [m for pair in pairs for m in pair]
    return _flag(
        "COMBO-SEROTONERGIC", "routine",
        f"You take {_names(meds)} together; both raise serotonin, and together they can cause serotonin syndrome.",
    )


def rx_tizanidine(s: ConversationState) -> Optional[RedFlag]:
    tiz = s.taking_named("tizanidine")
    inhibitors = [m for m in s.taking("cyp1a2_inhibitor") if m.name != "tizanidine"]
    if not tiz or not inhibitors:
        return None
    strong = [m for m in inhibitors if m.has("cyp1a2_contraindicated")]
    shown = strong or inhibitors
    signs = s.new("loss_of_consciousness", "low_blood_pressure")
    if signs:
        return _flag(
            "RX-TIZANIDINE-CYP1A2", "emergency",
            f"You take tizanidine with {_names(shown)} and report {_plain(signs)}; {_names(shown)} can raise "
            "tizanidine to dangerous levels.",
        )
    if strong:
        return _flag(
            "RX-TIZANIDINE-CYP1A2", "urgent",
            f"You take tizanidine with {_names(strong)}; this pair should not be taken together because it "
            "raises tizanidine levels a lot.",
        )
    return _flag(
        "RX-TIZANIDINE-CYP1A2", "routine",
        f"You take tizanidine with {_names(inhibitors)}, which can raise tizanidine levels and cause low "
        "blood pressure or sleepiness.",
    )


def rx_resp_depression(s: ConversationState) -> Optional[RedFlag]:
    sedatives = [m for m in s.current if m.has("gabapentinoid", "benzodiazepine") or m.name == "baclofen"]
    opioids = s.taking("opioid")
    if not sedatives or not opioids:
        return None
    # Trouble breathing is in RF-BREATHING too; it is also a sign here (more cautious).
    signs = s.new("extreme_sleepiness", "slow_breathing", "unresponsive", "blue_lips", "breathing_trouble")
    if signs:
        return _flag(
            "RX-RESP-DEPRESSION", "emergency",
            f"You take {_names(sedatives)} with {_names(opioids)} and report {_plain(signs)}; together these "
            "medicines can slow breathing dangerously.",
        )
    return _flag(
        "RX-RESP-DEPRESSION", "routine",
        f"You take {_names(sedatives)} with {_names(opioids)}; together they can cause extreme sleepiness "
        "and slow breathing.",
    )


BACLOFEN_WITHDRAWAL_SIGNS = ("fever", "confusion", "rebound_spasticity", "hypertonia", "itching", "hallucinations", "seizure")


def _baclofen_problem(s: ConversationState) -> Tuple[List[str], bool]:
    """(what went wrong, in words; whether baclofen is involved at all)."""
    baclofen = s.meds.get("baclofen")
    pump_known = baclofen is not None or s.has("pump_context")
    problems = []
    if pump_known:
        if s.has("pump_alarm"):
            problems.append("your baclofen pump alarm went off")
        if s.has("pump_refill_missed"):
            problems.append("a baclofen pump refill was missed")
        if s.has("pump_catheter"):
            problems.append("there is a problem with the pump catheter")
    if baclofen is not None and baclofen.recent_stop:
        problems.append("your baclofen was stopped suddenly")
    return problems, baclofen is not None


def _withdrawal_signs(s: ConversationState) -> List[str]:
    signs = [f for f in BACLOFEN_WITHDRAWAL_SIGNS if f in s.features]
    if "itching" in signs and "rash" in s.features:
        signs.remove("itching")  # itching WITH a rash is not the withdrawal sign
    return signs


def rx_baclofen_withdrawal(s: ConversationState) -> Optional[RedFlag]:
    problems, _ = _baclofen_problem(s)
    signs = _withdrawal_signs(s)
    if not problems or not signs:
        return None
    return _flag(
        "RX-BACLOFEN-WITHDRAWAL", "emergency",
        f"{join(problems).capitalize()} and you have {_plain(signs)}; these can be signs of baclofen withdrawal, "
        "which can be life-threatening.",
    )


def rx_baclofen_stop(s: ConversationState) -> Optional[RedFlag]:
    problems, _ = _baclofen_problem(s)
    if not problems or _withdrawal_signs(s):
        return None  # with withdrawal signs RX-BACLOFEN-WITHDRAWAL applies instead
    return _flag(
        "RX-BACLOFEN-STOP", "urgent",
        f"{join(problems).capitalize()}; stopping baclofen suddenly can cause dangerous withdrawal.",
    )


def rx_dantrolene_liver(s: ConversationState) -> Optional[RedFlag]:
    # Liver injury can show after the last dose, so dantrolene taken recently counts too.
    if "dantrolene" not in s.meds:
        return None
    signs = s.new("jaundice", "dark_urine", "ruq_pain")
    if not signs:
        return None
    return _flag(
        "RX-DANTROLENE-LIVER", "urgent",
        f"You take dantrolene and have {_plain(signs)}; dantrolene can harm the liver.",
    )


def rx_benzo_stop(s: ConversationState) -> Optional[RedFlag]:
    stopped = [m for m in s.meds.values() if m.has("benzodiazepine") and m.recent_stop]
    if not stopped:
        return None
    if s.has("seizure"):
        return _flag(
            "RX-BENZO-STOP", "emergency",
            f"You stopped {_names(stopped)} suddenly and had a seizure; stopping a benzodiazepine suddenly can "
            "cause seizures.",
        )
    return _flag(
        "RX-BENZO-STOP", "urgent",
        f"You stopped {_names(stopped)} suddenly; stopping a benzodiazepine suddenly can cause withdrawal "
        "and seizures.",
    )


def rx_sedation(s: ConversationState) -> Optional[RedFlag]:
    # The policy names baclofen, tizanidine, gabapentin, diazepam, clonazepam and dantrolene; the other
    # members of those classes (pregabalin, other benzodiazepines) sedate just the same.
    meds = s.taking("muscle_relaxant", "gabapentinoid", "benzodiazepine")
    signs = s.new("drowsiness", "dizziness", "extreme_sleepiness")
    if not meds or not signs:
        return None
    if s.has("disrupts_daily_life"):
        return _flag(
            "RX-SEDATION", "routine",
            f"You feel {_plain(signs)} on {_names(meds)} and it gets in the way of daily life.",
        )
    return _flag(
        "RX-SEDATION", "self_care",
        f"{_plain(signs).capitalize()} is a common side effect of {_names(meds)}.",
    )


# ------------------------------------------------------------------------------ section 5


def rf_stroke(s: ConversationState) -> Optional[RedFlag]:
    signs = s.new("face_droop", "one_sided_weakness", "speech_problem", "balance_loss", "vision_loss")
    if not signs:
        return None
    return _flag("RF-STROKE", "emergency", f"You describe {_plain(signs)}; these can be signs of a stroke.")


def rf_cord(s: ConversationState) -> Optional[RedFlag]:
    signs = s.new("bladder_bowel_loss", "saddle_numbness", "both_legs_weak")
    if not signs:
        return None
    extra = " with back pain" if s.has("back_pain") else ""
    return _flag(
        "RF-CORD", "emergency",
        f"You describe {_plain(signs)}{extra}; this can mean pressure on the spinal cord or its nerves.",
    )


def rf_meningitis(s: ConversationState) -> Optional[RedFlag]:
    signs = s.new("stiff_neck", "severe_headache", "confusion", "photophobia")
    if "fever" not in s.features or not signs:
        return None
    return _flag(
        "RF-MENINGITIS", "emergency",
        f"You have a fever with {_plain(signs)}; this can be a sign of meningitis.",
    )


def rf_seizure(s: ConversationState) -> Optional[RedFlag]:
    if s.has("seizure"):
        return _flag("RF-SEIZURE", "emergency", "You describe a seizure.")
    if s.has("loss_of_consciousness", "unresponsive") and s.has(*CLONUS_FEATURES):
        return _flag("RF-SEIZURE", "emergency", "You describe jerking with passing out; this can be a seizure.")
    return None


def rf_liver(s: ConversationState) -> Optional[RedFlag]:
    if "condition_liver_disease" not in s.features:
        return None
    signs = s.new("confusion", "extreme_sleepiness", "unresponsive")
    if s.has("jaundice") and s.has(*CLONUS_FEATURES):
        signs += ["jaundice"] + [f for f in CLONUS_FEATURES if f in s.features][:1]
    if not signs:
        return None
    return _flag(
        "RF-LIVER", "emergency",
        f"You have liver disease and {_plain(signs)}; this can mean the liver is not clearing toxins.",
    )


def rf_breathing(s: ConversationState) -> Optional[RedFlag]:
    signs = s.new("breathing_trouble", "blue_lips")
    if not signs:
        return None
    return _flag("RF-BREATHING", "emergency", f"You describe {_plain(signs)}.")


def rf_injury(s: ConversationState) -> Optional[RedFlag]:
    if "recent_injury" not in s.features:
        return None
    signs = [f for f in CLONUS_FEATURES + ("one_sided_weakness", "both_legs_weak") if f in s.features]
    if not signs:
        return None
    return _flag(
        "RF-INJURY", "emergency",
        f"You describe {_plain(signs[:2])} after a head or spine injury; this needs to be checked right away.",
    )


def rf_self_harm(s: ConversationState) -> Optional[RedFlag]:
    if "self_harm" not in s.features:
        return None
    return _flag("RF-SELF-HARM", "emergency", "You mentioned thoughts of ending your life or hurting yourself.")


# ------------------------------------------------------------------------------ section 6


def _clonus(s: ConversationState) -> List[str]:
    return [f for f in CLONUS_FEATURES if f in s.features]


def _new_serotonergic(s: ConversationState) -> List[Med]:
    """Serotonergic agents started or increased within days (or 'new since I started X')."""
    recent = [
        m for m in s.serotonergic
        if m.started_recently and (m.days_since_start is None or m.days_since_start <= RECENT_START_DAYS)
    ]
    if recent:
        return recent
    return s.serotonergic if s.has("new_since_medicine") else []


def cl_sustained(s: ConversationState) -> Optional[RedFlag]:
    clonus = _clonus(s)
    how = [x for x, f in (("keeps going", "clonus_sustained"), ("keeps coming back", "clonus_recurring"),
                          ("is on one side", "one_side")) if f in s.features]
    if not clonus or not how:
        return None
    return _flag(
        "CL-SUSTAINED", "routine",
        f"Your clonus {join(how)}; a neurologist should check it.",
    )


def cl_new_serotonergic(s: ConversationState) -> Optional[RedFlag]:
    new = _new_serotonergic(s)
    jerks = [f for f in _clonus(s) if f not in s.chronic]
    signs = fda_signs(s)
    if not new or not jerks or set(signs) - {"muscle twitching or stiffness"} or s.new("hypertonia"):
        return None  # other signs: SS-SYMPTOMS / SS-HUNTER apply
    return _flag(
        "CL-NEW-SEROTONERGIC", "urgent",
        f"You have new {_plain(jerks[:1])} since starting or increasing {_names(new)}, which raises serotonin.",
    )


def cl_known_condition(s: ConversationState) -> Optional[RedFlag]:
    conditions = [KNOWN_CONDITIONS[c] for c in KNOWN_CONDITIONS if c in s.features]
    if not conditions or not _clonus(s) or not s.has("worse", "sudden_worse", "disrupts_daily_life"):
        return None
    how = "is getting worse" if s.has("worse", "sudden_worse") else "limits daily life"
    return _flag(
        "CL-KNOWN-CONDITION", "routine",
        f"You have {join(conditions)} and your clonus {how}; a neurologist can review your treatment.",
    )


def cl_sudden_worse(s: ConversationState) -> Optional[RedFlag]:
    if "sudden_worse" not in s.features:
        return None
    signs = [f for f in ("fever", "confusion") if f in s.features]
    if signs:
        return _flag(
            "CL-SUDDEN-WORSE", "emergency",
            f"Your spasticity or clonus got much worse suddenly, with {_plain(signs)}; this can be a sign of "
            "infection or a pump problem.",
        )
    return _flag(
        "CL-SUDDEN-WORSE", "urgent",
        "Your spasticity or clonus got much worse over hours or days; common causes are an infection or a "
        "pump problem.",
    )


# Features that do not count as "another symptom" for CL-BRIEF (they describe the clonus itself).
_CLONUS_DESCRIPTION = set(CLONUS_FEATURES) | {
    "clonus_brief", "clonus_sustained", "clonus_recurring", "one_side", "worse", "hyperreflexia",
}


def cl_brief(s: ConversationState, symptom_features: FrozenSet[str]) -> Optional[RedFlag]:
    if not _clonus(s) or "clonus_brief" not in s.features:
        return None
    if s.has("clonus_sustained", "clonus_recurring", "one_side") or s.serotonergic:
        return None
    if (symptom_features & s.features) - _CLONUS_DESCRIPTION:
        return None  # "no other symptom"
    return _flag(
        "CL-BRIEF", "self_care",
        "A few beats of clonus that stop on their own, with no other symptoms, are common and usually harmless.",
    )


# ------------------------------------------------------------------------------ all rules

_RULES: Tuple[Callable[[ConversationState], Optional[RedFlag]], ...] = (
    ss_hunter, ss_symptoms, combo_maoi, combo_washout, combo_high_opioid, combo_stack, combo_recreational,
    combo_serotonergic, combo_weak, rx_tizanidine, rx_resp_depression, rx_baclofen_withdrawal, rx_baclofen_stop,
    rx_dantrolene_liver, rx_benzo_stop, rx_sedation, rf_stroke, rf_cord, rf_meningitis, rf_seizure, rf_liver,
    rf_breathing, rf_injury, rf_self_harm, cl_new_serotonergic, cl_sudden_worse,
)
# Section 6 is "clonus without red flags": these three give way when a section 2 or 5 rule explains it.
_SECTION6_QUIET = ("CL-SUSTAINED", "CL-KNOWN-CONDITION", "CL-BRIEF")


def evaluate(s: ConversationState, symptom_features: FrozenSet[str] = frozenset()) -> List[RedFlag]:
    """Every rule that fires on this state, in policy order."""
    flags = [f for f in (rule(s) for rule in _RULES) if f is not None]
    if not any(f.id.startswith(("SS-", "RF-")) for f in flags):
        flags += [f for f in (cl_sustained(s), cl_known_condition(s), cl_brief(s, symptom_features)) if f is not None]
    order = {rule_id: i for i, rule_id in enumerate(RULE_IDS)}
    return sorted(flags, key=lambda f: order[f.id])


def level_of(flags: Iterable[RedFlag]) -> str:
    """The highest level among the flags; self_care when none fired."""
    best = "self_care"
    for f in flags:
        if RANK[f.level] > RANK[best]:
            best = f.level
    return best
