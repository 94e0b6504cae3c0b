"""Spanish lay words for the policy's emergency features (bot.lang_es)."""

from __future__ import annotations

import pytest

from bot.lang_es import (
    english_gloss,
    lexicon_features,
    normalise,
    spanish_emergency_request,
    spanish_features,
    spanish_findings,
)
from bot.symptoms import extract, lexicon

# (message, features it must report, features it must report as denied)
AFFIRMED = [
    # the outside testers' message (issue 10)
    ("Hola, tomo sertralina y me dieron tramadol ayer. Ahora estoy sudando muchísimo, tengo fiebre y las piernas se me mueven solas",
     {"diaphoresis", "fever", "spontaneous_clonus"}),
    # jerking
    ("las piernas se me mueven solas", {"spontaneous_clonus"}),
    ("el tobillo me brinca solo", {"spontaneous_clonus"}),
    ("tengo sacudidas sin razon en los brazos", {"spontaneous_clonus", "muscle_jerks"}),
    ("me dan espasmos en las piernas", {"muscle_jerks"}),
    ("los ojos se le mueven de un lado a otro", {"ocular_clonus"}),
    # sweating, fever, stiffness
    ("estoy sudando mucho", {"diaphoresis"}),
    ("toy sudando y con escalofrios", {"diaphoresis", "shivering"}),
    ("tengo fiebre", {"fever"}),
    ("tiene calentura desde anoche", {"fever"}),
    ("tiene 39 grados", {"fever"}),
    ("tengo el cuerpo tieso", {"hypertonia"}),
    ("los musculos estan muy rigidos", {"hypertonia"}),
    ("se puso rigida", {"hypertonia"}),
    # confusion, hallucinations, agitation
    ("mi esposo esta confundido", {"confusion"}),
    ("esta desorientada y no me reconoce", {"confusion"}),
    ("esta alucinando", {"hallucinations"}),
    ("estoy muy inquieto, no me puedo quedar quieto", {"agitation"}),
    # fainting, seizure
    ("se desmayó", {"loss_of_consciousness"}),
    ("perdio el conocimiento", {"loss_of_consciousness"}),
    ("mi hijo tiene una convulsión", {"seizure"}),
    ("esta convulsionando", {"seizure"}),
    ("le dio un ataque", {"seizure"}),
    # breathing
    ("no puede respirar", {"breathing_trouble"}),
    ("mi papá no respira", {"breathing_trouble", "slow_breathing"}),
    ("le falta el aire", {"breathing_trouble"}),
    ("tiene los labios morados", {"blue_lips"}),
    # stroke signs
    ("tiene la cara caída", {"face_droop"}),
    ("se le torcio la boca", {"face_droop"}),
    ("no puede hablar", {"speech_problem"}),
    ("habla arrastrando las palabras", {"speech_problem"}),
    ("no siente el brazo derecho", {"one_sided_weakness"}),
    ("perdi el equilibrio de repente", {"balance_loss"}),
    ("veo doble", {"vision_loss"}),
    # unresponsive
    ("no responde", {"unresponsive"}),
    ("mi mama no despierta", {"unresponsive", "extreme_sleepiness"}),
    ("no lo puedo despertar", {"unresponsive", "extreme_sleepiness"}),
    ("esta temblando y no contesta", {"tremor", "unresponsive"}),
    # self-harm
    ("quiero morirme", {"self_harm"}),
    ("me quiero suicidar", {"self_harm"}),
    ("ya no quiero vivir", {"self_harm"}),
    ("todos estarian mejor sin mi", {"self_harm"}),
    ("tengo muchas pastillas guardadas", {"self_harm"}),
    ("pienso en hacerme daño", {"self_harm"}),
    ("estoy muy triste y no quiero seguir", {"self_harm"}),
    # cord, meningitis, baclofen withdrawal
    ("no puedo controlar la vejiga", {"bladder_bowel_loss"}),
    ("tengo dolor de cabeza muy fuerte y el cuello tieso", {"severe_headache", "stiff_neck"}),
    ("la luz me molesta", {"photophobia"}),
    ("la bomba de baclofeno esta pitando", {"pump_alarm", "pump_context"}),
    ("los espasmos empeoraron", {"muscle_jerks", "worse"}),
]

DENIED = [
    ("no tengo fiebre", set(), {"fever"}),
    ("no tiene calentura", set(), {"fever"}),
    ("sin fiebre", set(), {"fever"}),
    ("ya no tengo fiebre", set(), {"fever"}),
    ("no estoy sudando", set(), {"diaphoresis"}),
    ("nunca se ha desmayado", set(), {"loss_of_consciousness"}),
    ("no tiene convulsiones", set(), {"seizure"}),
    ("no estoy confundido", set(), {"confusion"}),
    ("no quiero morirme", set(), {"self_harm"}),
    ("ni fiebre ni sudor", set(), {"fever", "diaphoresis"}),
    ("no tengo fiebre, pero estoy sudando muchisimo", {"diaphoresis"}, {"fever"}),
    ("me pica todo pero no tengo ronchas", {"itching"}, {"rash"}),
    ("no se si tiene fiebre", {"fever"}, set()),  # doubt is not a denial: the cautious reading
]

NOTHING = [
    "hola", "quiero una cita", "muchas gracias", "el martes a las 10", "mi nombre es Maria Gonzalez",
    "tuve un derrame cerebral el año pasado", "que es el clonus", "tengo un ataque de panico", "no le entiendo",
    "se ha ido a trabajar", "me siento peor", "no quiero seguir con la cita",  # "peor" without spasticity is not "worse"
]


@pytest.mark.parametrize("text, features", AFFIRMED)
def test_spanish_lay_words_map_to_the_features(text, features):
    assert features <= spanish_features(text)


@pytest.mark.parametrize("text, present, denied", DENIED)
def test_denied_features_are_not_reported(text, present, denied):
    found, negated = spanish_findings(text)
    assert present <= found
    assert not (denied & found)
    assert denied <= negated


@pytest.mark.parametrize("text", NOTHING)
def test_no_emergency_feature_in_everyday_spanish(text):
    emergency = {"seizure", "breathing_trouble", "unresponsive", "self_harm", "loss_of_consciousness",
                 "face_droop", "speech_problem", "spontaneous_clonus", "fever", "worse"}
    assert not (spanish_features(text) & emergency)


def test_the_table_is_large_enough():
    assert len(AFFIRMED) + len(DENIED) >= 40


def test_accents_and_shorthand_are_optional():
    assert normalise("¿Convulsión? Está sudando, q hago") == "convulsion? esta sudando, que hago"
    assert spanish_features("convulsion") == spanish_features("convulsión") == {"seizure"}
    assert spanish_features("toy sudando") == {"diaphoresis"}


def test_every_feature_name_is_one_the_engine_knows():
    assert set(lexicon_features()) <= set(lexicon())


def test_the_english_gloss_is_read_back_as_the_same_features():
    for name in lexicon_features():
        assert name in extract(english_gloss([name])).present, name
    features = spanish_features("estoy sudando, tengo fiebre y las piernas se me mueven solas")
    assert features <= extract(english_gloss(features)).present


@pytest.mark.parametrize(
    "text, expected",
    [
        ("necesito una ambulancia", True), ("llamen al 911", True), ("es una emergencia", True),
        ("creo que le esta dando un derrame", True), ("socorro", True),
        ("no es una emergencia", False), ("quiero una cita", False), ("tuve un derrame el año pasado", False),
    ],
)
def test_stated_emergencies_in_spanish(text, expected):
    assert spanish_emergency_request(text) is expected
