"""Spanish lay words for the triage policy's symptom features: `spanish_features(text) -> set[str]`.

The names returned are bot/symptoms.py's feature names (bot/knowledge/symptoms.yml), so the same
rules apply to a Spanish message: "estoy sudando muchísimo, tengo fiebre y las piernas se me mueven
solas" -> {"diaphoresis", "fever", "spontaneous_clonus"}. It covers the emergency features of the
policy (/work/shared/clinical/triage-policy.md: SS-HUNTER, SS-SYMPTOMS, RF-STROKE, RF-SEIZURE,
RF-BREATHING, RF-SELF-HARM, RX-RESP-DEPRESSION, RX-BACLOFEN-WITHDRAWAL, RF-CORD, RF-MENINGITIS) in
the words people type: accents optional ("convulsion" = "convulsión"), SMS shorthand ("toy" =
"estoy", "q" = "que"), Mexican and Caribbean lay terms ("calentura", "tieso", "se privó").

A feature is denied when a negation ("no", "sin", "ni", "nunca", "ya no", "nada de") stands before
it in the same clause, within a few words: "no tengo fiebre" -> denied. Phrases that are negative
in themselves ("no puede respirar", "no responde") are features, not denials. "no sé si tiene
fiebre" is not a denial (when unsure, the more cautious reading). Full Spanish (the engine reading
Spanish, replies in Spanish) comes later: this is what the emergency check needs now.

`english_gloss(features)` gives an English sentence that bot.symptoms.extract reads back as the
same features, for code that can only hand text to the English engine.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Dict, FrozenSet, Iterable, List, Pattern, Set, Tuple

# feature name (bot/knowledge/symptoms.yml) -> Spanish patterns, on text without accents, lower case.
# Each pattern carries the policy rule ids that use the feature in a comment.
_LEXICON: Dict[str, Tuple[str, ...]] = {
    # SS-HUNTER 1: clonus or jerking on its own
    "spontaneous_clonus": (
        r"\bse (?:me |le |les |nos )?(?:mueven?|sacuden?|brincan?|tiemblan?|jalan?|estiran?) sol[oa]s?\b",
        r"\b(?:sacudidas|espasmos|brincos|tirones|movimientos|temblores)\b[^.!?;,]{0,30}\b(?:sol[oa]s|sin (?:razon|motivo|querer|hacer nada|moverme|moverse))\b",
        r"\b(?:me |le )?(?:brinca|salta|tiembla|sacude|mueve)n? sol[oa]s?\b",
        r"\bno (?:paran?|dejan?) de (?:brincar|temblar|sacudirse|moverse|saltar)\b",
        r"\bmovimientos involuntarios\b|\bclonus espontaneo\b",
    ),
    # SS-HUNTER 3: rhythmic eye movements
    "ocular_clonus": (
        r"\bojos?\b[^.!?;,]{0,25}\b(?:se (?:me |le )?mueven? sol[oa]s|brincan?|tiemblan?|bailan?|de un lado (?:a|al) otro|van y vienen)\b",
    ),
    # SS-SYMPTOMS: muscle twitching or jerks
    "muscle_jerks": (
        r"\b(?:sacudidas?|espasmos?|tirones|brincos|contracciones|calambres|mioclon\w*|tics?)\b",
        r"\b(?:me |le |se )?(?:brincan?|sacuden?|saltan?) (?:el|los|la|las|mis|sus) (?:musculos?|piernas?|brazos?|pies?|manos?)\b",
        r"\bse (?:me |le )?sacuden?\b|\bsacudiendo\w*\b",
    ),
    # SS-HUNTER 4, SS-SYMPTOMS: tremor, shaking
    "tremor": (r"\b(?:temblor\w*|tembl\w*|tiembl\w*|tiritando)\b",),
    # SS-HUNTER 2-3, SS-SYMPTOMS: heavy sweating
    "diaphoresis": (r"\b(?:sud(?:o|a|an|ando|ar|ada|ado|oroso|orosa|or|ores)|empapad[oa] en sudor|transpir\w*)\b",),
    # SS-HUNTER 5, SS-SYMPTOMS, RF-MENINGITIS, RX-BACLOFEN-WITHDRAWAL: fever (numbers read in code)
    "fever": (
        r"\b(?:fiebre|calentura|febril|temperatura (?:alta|elevada)|mucha temperatura|ardiendo en fiebre)\b",
        r"\b(?:tiene|tengo|tienes|con) temperatura\b",
    ),
    # SS-HUNTER 5, SS-SYMPTOMS, RX-BACLOFEN-WITHDRAWAL: muscle rigidity
    "hypertonia": (
        r"\b(?:rigid[oa]s?|rigidez|ties[oa]s?|entiesad[oa]s?|engarrotad[oa]s?|agarrotad[oa]s?|duro como (?:una tabla|piedra|un palo))\b",
        r"\bmusculos? (?:muy )?dur[oa]s?\b|\bse puso (?:duro|dura|rigido|rigida|tieso|tiesa)\b",
    ),
    # SS-SYMPTOMS, RF-MENINGITIS, RF-LIVER, RX-BACLOFEN-WITHDRAWAL: confusion
    "confusion": (
        r"\b(?:confundid[oa]s?|confusion|desorientad[oa]s?|incoherente|atontad[oa])\b",
        r"\bno sabe (?:donde esta|quien es|que dia es|lo que dice)\b|\bno (?:me |nos )?reconoce\b",
        r"\bdice cosas (?:raras|sin sentido|que no tienen sentido)\b",
    ),
    "hallucinations": (r"\balucin\w*|\b(?:ve|veo|ven) cosas que no (?:estan|hay|existen)\b|\boye voces\b|\boigo voces\b",),
    "agitation": (r"\b(?:agitad[oa]s?|inquiet[oa]s?|no (?:me|se) (?:puedo|puede) (?:quedar|estar) (?:quiet[oa]|sentad[oa]))\b",),
    "tachycardia": (
        r"\btaquicardia\b|\bpalpitaciones\b",
        r"\b(?:corazon|pulso)\b[^.!?;,]{0,25}\b(?:rapid\w*|acelerad\w*|a mil|muy fuerte)\b",
    ),
    "shivering": (r"\bescalofrios?\b",),
    "gi_upset": (r"\b(?:nausea\w*|vomit\w*|diarrea|ganas de vomitar|guacarear\w*)\b",),
    # RF-SEIZURE: a seizure (not a panic or heart attack)
    "seizure": (
        r"\bconvulsi\w*|\bconvulsion\w*|\bepileptic[oa] (?:ataque|crisis)\b",
        r"\b(?:ataque|crisis) (?:epileptic[oa]|de epilepsia|convulsiv[oa])\b",
        r"\b(?:le|me|les) (?:dio|dan|da|esta dando) (?:un |otro )?ataques?\b(?! (?:de (?:panico|ansiedad|nervios|tos|risa)|al corazon|cardiaco))",
        r"\b(?:tuvo|tiene|tengo|tuve) (?:un |otro )?ataques?\b(?! (?:de (?:panico|ansiedad|nervios|tos|risa)|al corazon|cardiaco))",
    ),
    # RF-SEIZURE (with jerking), RX-TIZANIDINE-CYP1A2: fainting, loss of consciousness
    "loss_of_consciousness": (
        r"\bdesmay\w*|\bperdi\w* (?:el conocimiento|la conciencia|el sentido)\b|\binconsciente\b",
        r"\bse (?:me |le )?(?:privo|privaron|cayo redond[oa])\b|\bcolaps\w*",
    ),
    # RF-BREATHING
    "breathing_trouble": (
        r"\bno (?:puede|puedo|podia|pude|pudo|podemos) respirar\b|\bno respira\b|\bdejo de respirar\b|\bno esta respirando\b",
        r"\b(?:le|me) cuesta respirar\b|\bdificultad (?:para|al) respirar\b|\b(?:le |me )?falta (?:el )?aire\b",
        r"\b(?:se|me) (?:esta )?ahog\w*|\bahogando\w*|\basfixi\w*|\brespira (?:mal|con dificultad|raro)\b",
    ),
    # RX-RESP-DEPRESSION
    "slow_breathing": (
        r"\bno respira\b|\bdejo de respirar\b|\bno esta respirando\b|\bapenas respira\b",
        r"\brespira (?:muy )?(?:lento|despacio|poco|muy poco|debil)\b",
    ),
    "blue_lips": (r"\b(?:labios|dedos|unas|cara)\b[^.!?;,]{0,15}\b(?:azul\w*|morad\w*)\b|\bse puso (?:azul|morad[oa])\b",),
    # RX-RESP-DEPRESSION: cannot be woken
    "extreme_sleepiness": (
        r"\bno (?:lo |la |los |las )?(?:puedo|podemos|pude) despertar\b|\bno (?:se )?despierta\b",
        r"\b(?:muy|demasiado|super) (?:dormid[oa]|somnolient[oa])\b",
    ),
    # RX-RESP-DEPRESSION, and any stated emergency: unresponsive
    "unresponsive": (
        r"\bno (?:me |nos |le )?(?:responde|reacciona)\b|\bno (?:se )?despierta\b",
        r"\bno (?:me |nos )?contesta\b(?! (?:el|la|los|las|nadie|en) )",
        r"\bno (?:lo |la )?(?:puedo|podemos|pude) despertar\b",
    ),
    "drowsiness": (r"\b(?:somnolien\w*|adormilad[oa]|mucho sueno|con sueno)\b",),
    "dizziness": (r"\b(?:mare\w*)\b",),
    # RF-STROKE (BE FAST)
    "face_droop": (
        r"\bcara (?:caida|torcida|chueca|colgada)\b|\bse (?:le |me )?(?:cayo|cae|torcio|chueco) (?:la cara|la boca|un lado)\b",
        r"\bboca (?:torcida|chueca|caida|de lado)\b|\bun lado de la cara\b",
    ),
    "speech_problem": (
        r"\bno (?:puede|podia|pudo|puedo) hablar\b|\bhabla (?:raro|mal|arrastrando|enredado|trabado|chistoso)\b",
        r"\barrastra las palabras\b|\bse (?:le )?traba la lengua\b|\bno se le entiende\b|\bbalbuce\w*",
    ),
    "one_sided_weakness": (
        r"\bno (?:siente|siento|puede mover|puedo mover) (?:el|la|su|mi) (?:brazo|pierna|mano)\b",
        r"\b(?:brazo|pierna|mano) (?:derech[oa]|izquierd[oa])\b[^.!?;,]{0,20}\b(?:debil|dormid[oa]|entumid[oa]|sin fuerza|no (?:la|lo) siente)\b",
        r"\b(?:un lado del cuerpo|debilidad de un lado|se (?:le |me )?durmio (?:un|el) lado)\b",
    ),
    "balance_loss": (r"\bperdi\w* el equilibrio\b|\bno (?:se puede|puede|puedo) mantener en pie\b",),
    "vision_loss": (r"\bvision doble\b|\bveo doble\b|\bperdi\w* la vista\b|\bno (?:puede|puedo) ver\b|\bse quedo cieg[oa]\b",),
    # RF-CORD
    "bladder_bowel_loss": (
        r"\bno (?:puede|puedo) controlar (?:la vejiga|el intestino|la orina|el pipi)\b|\bincontinencia\b",
        r"\bse (?:orino|hizo pipi|hizo popo) (?:encima|en la ropa|sin darse cuenta)\b|\bme (?:orine|hice pipi|hice popo) encima\b",
    ),
    "saddle_numbness": (
        r"\bentrepierna\b[^.!?;,]{0,15}\b(?:entumid\w*|entumec\w*|dormid\w*|no (?:la )?siento)\b",
        r"\b(?:entumid\w*|entumec\w*|dormid\w*) (?:la |en la )?(?:entrepierna|zona intima|nalgas)\b",
    ),
    "both_legs_weak": (r"\bno (?:siento|siente|puedo mover|puede mover) las (?:dos )?piernas\b|\blas dos piernas\b[^.!?;,]{0,15}\b(?:debil\w*|sin fuerza)\b",),
    "back_pain": (r"\bdolor de espalda\b|\bme duele (?:mucho )?la espalda\b",),
    # RF-MENINGITIS
    "stiff_neck": (
        r"\bcuello (?:muy )?(?:ties[oa]|rigid[oa]|dur[oa])\b|\brigidez (?:de|en el) cuello\b",
        r"\bno (?:puede|puedo) (?:doblar|mover|bajar) el cuello\b",
    ),
    "severe_headache": (
        r"\bdolor de cabeza (?:muy )?(?:fuerte|terrible|horrible|intenso|insoportable)\b|\bel peor dolor de cabeza\b",
        r"\bme duele (?:mucho|muchisimo) la cabeza\b",
    ),
    "photophobia": (r"\b(?:la luz me molesta|le molesta la luz|me molesta la luz|sensib\w* a la luz)\b",),
    # RX-DANTROLENE-LIVER
    "jaundice": (r"\b(?:piel|ojos)\b[^.!?;,]{0,10}\bamarill\w*|\bse puso amarill\w*",),
    "dark_urine": (r"\borina\b[^.!?;,]{0,10}\boscura\b|\bpipi\b[^.!?;,]{0,10}\boscuro\b",),
    # RX-BACLOFEN-WITHDRAWAL
    "itching": (r"\bme pica\w*|\ble pica\w*|\bcomezon\b|\bpicazon\b",),
    "rash": (r"\b(?:ronchas|sarpullido|salpullido|erupcion\w*)\b",),
    "pump_alarm": (r"\bbomba\b[^.!?;,]{0,25}\b(?:sonando|pitando|suena|pita|alarma)\b|\balarma de la bomba\b",),
    "pump_refill_missed": (r"\b(?:se me olvido|no fui a|perdi|falte a) (?:la )?recarga\b",),
    "pump_context": (r"\bbomba de baclofen\w*|\bbomba intratecal\b",),
    "abrupt_stop": (r"\bdej\w* de tomar\b|\bse me acab\w* (?:el|la|las|los)\b|\bde golpe\b",),
    # RF-INJURY
    "recent_injury": (r"\bse (?:golpeo|pego) (?:en )?la cabeza\b|\bgolpe en la (?:cabeza|espalda)\b|\bme (?:pegue|golpee) (?:en )?la cabeza\b",),
    "new_since_medicine": (r"\bdesde que (?:empece|empezo|comence|comenzo|me (?:dieron|cambiaron|subieron|recetaron))\b|\bme subieron la dosis\b",),
    "worse": (r"\bempeor\w*|\b(?:esta|estan|estoy) peor\b|\bcada vez (?:mas|peor)\b"
              # "poco a poco peor", "mucho peor", "peor que antes", "peor en estos meses"
              r"|\b(?:poco a poco|mucho|bastante|un poco|algo|mas|todavia) peor\b|\bpeor (?:que antes|cada|en (?:estos|los ultimos|las ultimas))\b",),
    # CL-KNOWN-CONDITION: the known conditions and "it limits daily life", in Spanish
    "condition_ms": (r"\besclerosis multiple\b|\b(?:tengo|tiene|con|de) em\b",),
    "condition_stroke": (r"\b(?:derrame cerebral|ictus|embolia)\b(?=[^.!?;]{0,40}\b(?:hace|desde|despues|tuve|tuvo)\b)"
                         r"|\b(?:tuve|tuvo|despues de|desde) (?:un |el |mi |su )?(?:derrame|ictus|embolia)\b",),
    "condition_sci": (r"\blesion (?:de la )?medula(?: espinal)?\b|\blesion medular\b|\bparapleji\w*|\bcuadripleji\w*",),
    "condition_cp": (r"\bparalisis cerebral\b",),
    "condition_als": (r"\besclerosis lateral amiotrofica\b|\bela\b(?= [^.!?;]{0,20}\b(?:clonus|piernas|brazos))",),
    "disrupts_daily_life": (
        r"\b(?:me|le|nos|les) cuesta (?:mucho )?(?:caminar|andar|trabajar|dormir|vestirme|vestirse|manejar|subir)\b",
        r"\bno (?:puedo|puede) (?:caminar|andar|trabajar|dormir|manejar|vestirme|vestirse)\b",
        r"\b(?:falt\w*|perd\w*) (?:al |el )?(?:trabajo|escuela|clases)\b",
        # "me está afectando para caminar", "le impide dormir", "afecta mi trabajo"
        r"\bafect\w* (?:para |al |a la |el |la |mi |su |en )?(?:caminar|andar|trabajar|dormir|manejar|vida|trabajo|dia a dia)\b",
        r"\b(?:me|le|nos|les) impide\w* (?:caminar|andar|trabajar|dormir|manejar|vestirme|vestirse)\b",
    ),
    # RF-SELF-HARM
    "self_harm": (
        r"\b(?:quiero|quisiera|me quiero|voy a|pienso en|pensando en|ganas de) (?:morir(?:me)?|matarme|suicidarme|quitarme la vida|acabar con (?:todo|mi vida)|hacerme dano|lastimarme|cortarme)\b",
        r"\bme quiero (?:morir|matar|suicidar)\b|\bsuicid\w*",
        r"\bno quiero (?:vivir|seguir viviendo|seguir (?:asi|aqui|en este mundo))\b|\bno quiero seguir\s*(?:$|[.!?,;])",
        r"\bya no (?:quiero|aguanto) (?:vivir|mas)\b",
        r"\b(?:estarian|estaria|estan) mejor sin mi\b|\bno vale la pena vivir\b",
        r"\b(?:tengo|junte|guarde|he guardado|tengo guardadas) (?:muchas |un monton de |todas (?:mis|las) )?pastillas (?:guardadas|juntas)\b",
        r"\bguardando pastillas\b|\btomarme todas (?:las|mis) pastillas\b",
    ),
}

# A feature is not taken when this is found just before it (in the same clause, 25 characters).
_UNLESS_BEFORE: Dict[str, Pattern[str]] = {
    "spontaneous_clonus": re.compile(r"\bojos?\b"),  # eyes moving on their own: ocular clonus
    "hypertonia": re.compile(r"\bcuello (?:muy )?$"),  # a stiff neck is not muscle rigidity
}

# A feature that counts only when the message also says this (as bot/knowledge/symptoms.yml requires).
_REQUIRES: Dict[str, Pattern[str]] = {
    "balance_loss": re.compile(
        r"\b(?:de repente|repentin\w*|de golpe|de la nada|ahorita|hace (?:un rato|unos minutos|una hora|poco)|esta manana|empezo hoy)\b"
    ),
    "worse": re.compile(r"\b(?:clon\w*|espasm\w*|espastic\w*|sacud\w*|rigid\w*|ties[oa]s?|brinc\w*|tembl\w*|tiembl\w*|calambres?|tirones)\b"),
}

# A stated emergency: asking for an ambulance or 911, or saying it is one (a stroke happening now).
_EMERGENCY_REQUEST = re.compile(
    r"\bambulancia\b|\b(?:llam\w*|marc\w*|hablo|hablar|hable) (?:al |a )?(?:911|nueve uno uno|emergencias?)\b"
    r"|\bes una emergencia\b|\bemergencia\b|\b(?:le|me) esta dando (?:un |una )?(?:derrame|infarto|embolia|ataque)\b"
    r"|\b(?:es|creo que es|parece) (?:un |una )?(?:derrame|embolia)\b|\bsocorro\b|\bauxilio\b"
)

# A denial: the last of these before a feature, with at most _NEGATION_WINDOW words between.
_NEGATOR = re.compile(r"\b(?:no|sin|ni|nunca|jamas|tampoco|nada de|ya no|ningun[oa]?|niega)\b")
_NEGATION_WINDOW = 4
# Clause breaks end a negation's reach ("no tengo fiebre, pero estoy sudando").
_CLAUSE = re.compile(r"[.!?;,]|\b(?:pero|aunque|sino|y ahora|ahora)\b")
# "no sé si tiene fiebre" is doubt, not denial.
_DOUBT = re.compile(r"\bno (?:se|estoy segur[oa]) si\b")

_SHORTHAND = {
    "q": "que", "k": "que", "xq": "porque", "pq": "porque", "porq": "porque", "toy": "estoy", "tas": "estas",
    "ta": "esta", "tan": "estan", "tb": "tambien", "tmb": "tambien", "x": "por", "d": "de",
    "xfa": "por favor", "porfa": "por favor", "pa": "para", "mija": "mi hija", "mijo": "mi hijo",
}


def normalise(text: str) -> str:
    """Lower case, accents and ñ's tilde removed, SMS shorthand spelled out, spaces regular."""
    lowered = unicodedata.normalize("NFD", (text or "").lower())
    plain = "".join(ch for ch in lowered if unicodedata.category(ch) != "Mn")
    plain = plain.replace("¿", " ").replace("¡", " ")
    words = re.sub(r"[a-z]+", lambda m: _SHORTHAND.get(m.group(0), m.group(0)), plain)
    return " ".join(words.split())


@lru_cache(maxsize=1)
def _compiled() -> Dict[str, Pattern[str]]:
    return {name: re.compile("|".join(f"(?:{p})" for p in patterns)) for name, patterns in _LEXICON.items()}


def _excluded(name: str, text: str, start: int) -> bool:
    unless = _UNLESS_BEFORE.get(name)
    return bool(unless and unless.search(text[max(0, start - 25) : start]))


def _denied(text: str, start: int, match_text: str) -> bool:
    if match_text.startswith(("no ", "ya no ")):
        return False  # the phrase is negative in itself ("no puede respirar")
    clause_start = 0
    for m in _CLAUSE.finditer(text, 0, start):
        clause_start = m.end()
    prefix = _DOUBT.sub(" ", text[clause_start:start])
    last = None
    for m in _NEGATOR.finditer(prefix):
        last = m
    return bool(last) and len(prefix[last.end():].split()) <= _NEGATION_WINDOW


def spanish_findings(text: str) -> Tuple[FrozenSet[str], FrozenSet[str]]:
    """(features the message reports, features it denies), by bot/symptoms.py's feature names."""
    plain = normalise(text)
    present: Set[str] = set()
    denied: Set[str] = set()
    for name, pattern in _compiled().items():
        if name in _REQUIRES and not _REQUIRES[name].search(plain):
            continue
        for m in pattern.finditer(plain):
            if _excluded(name, plain, m.start()):
                continue
            (denied if _denied(plain, m.start(), m.group(0)) else present).add(name)
    fever = _temperature_fever(plain)
    if fever:
        present.add("fever")
    return frozenset(present), frozenset(denied - present)


def spanish_emergency_request(text: str) -> bool:
    """True when a Spanish message asks for an ambulance or 911 or says it is an emergency."""
    plain = normalise(text)
    m = _EMERGENCY_REQUEST.search(plain)
    return bool(m) and not _denied(plain, m.start(), m.group(0))


def spanish_features(text: str) -> Set[str]:
    """The symptom features a Spanish message reports (denied ones left out)."""
    return set(spanish_findings(text)[0])


def _temperature_fever(plain: str) -> bool:
    """A temperature over the policy's 38 °C / 100.4 °F: "39 grados", "fiebre de 101"."""
    for m in re.finditer(r"\b(\d{2,3})(?:[.,](\d))?\s*(?:grados|°|c\b|f\b|de (?:fiebre|temperatura|calentura))", plain):
        value = float(m.group(1) + "." + (m.group(2) or "0"))
        if 38.0 <= value <= 43.0 or 100.4 <= value <= 110.0:
            return True
    for m in re.finditer(r"\b(?:fiebre|temperatura|calentura) (?:de )?(\d{2,3})(?:[.,](\d))?\b", plain):
        value = float(m.group(1) + "." + (m.group(2) or "0"))
        if 38.0 <= value <= 43.0 or 100.4 <= value <= 110.0:
            return True
    return False


# English phrases that bot.symptoms.extract reads as each feature (checked by the tests).
_GLOSS = {
    "spontaneous_clonus": "my legs keep jerking on their own", "ocular_clonus": "my eyes are flicking side to side", "muscle_jerks": "muscle twitching",
    "tremor": "tremor", "diaphoresis": "heavy sweating", "fever": "fever", "hypertonia": "muscle rigidity",
    "confusion": "confused", "hallucinations": "hallucinations", "agitation": "agitated",
    "tachycardia": "my heart is racing", "shivering": "shivering", "gi_upset": "vomiting", "seizure": "seizure",
    "loss_of_consciousness": "fainted", "breathing_trouble": "trouble breathing",
    "slow_breathing": "stops breathing", "blue_lips": "blue lips", "extreme_sleepiness": "cant wake him up",
    "unresponsive": "unresponsive", "drowsiness": "drowsy", "dizziness": "dizzy", "face_droop": "face drooping",
    "speech_problem": "slurred speech", "one_sided_weakness": "weakness on one side",
    "balance_loss": "suddenly lost my balance", "vision_loss": "double vision",
    "bladder_bowel_loss": "lost control of my bladder", "saddle_numbness": "numbness in the groin",
    "both_legs_weak": "weakness in both legs", "back_pain": "back pain", "stiff_neck": "stiff neck",
    "severe_headache": "severe headache", "photophobia": "sensitive to light", "jaundice": "yellow skin",
    "dark_urine": "dark urine", "itching": "itching", "rash": "rash", "pump_alarm": "baclofen pump alarm",
    "pump_refill_missed": "missed my baclofen pump refill", "pump_context": "baclofen pump",
    "abrupt_stop": "stopped taking it suddenly", "recent_injury": "hit my head",
    "new_since_medicine": "since starting a new medicine", "worse": "the spasms are getting worse",
    "self_harm": "i want to kill myself",
    "condition_ms": "i have multiple sclerosis", "condition_stroke": "i had a stroke",
    "condition_sci": "spinal cord injury", "condition_cp": "cerebral palsy", "condition_als": "i have als",
    "disrupts_daily_life": "it makes it hard to walk",
}


def english_gloss(features: Iterable[str]) -> str:
    """An English sentence per feature, for code that can only give text to the English engine."""
    return ". ".join(_GLOSS[f] for f in sorted(features) if f in _GLOSS)


def lexicon_features() -> List[str]:
    """Every feature name this lexicon can return."""
    return sorted(_LEXICON)


# ------------------------------------------------------------------------------ mixed Spanish-English
#: Spanish words and phrases of a message that mixes both languages ("cuando camino my left foot starts
#: bouncing, no para"), written in English so that the English lexicon and its context (bot.symptoms,
#: bot.context) read the whole sentence: what sets a sign off, how long it lasts, a denial. Longest first.
_MIXED = (
    (r"\bcuando (?:subo|bajo) (?:las )?escaleras\b", "when i go up the stairs"),
    (r"\bcuando (?:camino|ando)\b", "when i walk"), (r"\bcuando me (?:paro|levanto|pongo de pie)\b", "when i stand"),
    (r"\bcuando (?:estiro|flexiono|doblo)\b", "when i stretch"), (r"\bcuando\b", "when"),
    (r"\bno (?:para|paran|se detiene|se detienen|se quita|se quitan)\b", "doesnt stop"),
    (r"\b(?:para|paran|se detiene|se quita) (?:sol[oa]s?|rapido|enseguida)\b", "stops by itself"),
    (r"\bno (?:tomo|tomamos|toma|estoy tomando|esta tomando) (?:ningun[oa]? |nada de )?(?:medicinas?|medicamentos?|pastillas|nada)\b",
     "i take no medicines"),
    (r"\b(\d+) segundos\b", r"\1 seconds"), (r"\b(\d+) minutos\b", r"\1 minutes"),
    (r"\bsegundos\b", "seconds"), (r"\bminutos\b", "minutes"),
    (r"\b(?:mi|el) pie (?:derecho)\b", "my right foot"), (r"\b(?:mi|el) pie (?:izquierdo)\b", "my left foot"),
    (r"\b(?:mi|la) pierna derecha\b", "my right leg"), (r"\b(?:mi|la) pierna izquierda\b", "my left leg"),
    (r"\bsolo (?:de )?un lado\b", "only one side"), (r"\bhasta que\b", "until"),
)
_MIXED_COMPILED = tuple((re.compile(p), r) for p, r in _MIXED)


def mixed_gloss(text: str) -> str:
    """The message with its Spanish phrases of `_MIXED` in English (accents dropped, as `normalise`);
    the text unchanged (returned as is) when it has none."""
    plain = normalise(text)
    out = plain
    for pattern, repl in _MIXED_COMPILED:
        out = pattern.sub(repl, out)
    return text if out == plain else out
