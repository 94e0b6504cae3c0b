"""Which language a message is written in: `detect(text) -> "en" | "es" | ...` (ISO 639-1).

The model is lingua-language-detector 2.1.1 (Apache-2.0, pinned in requirements/runtime.txt and
requirements/actions.txt), whose n-gram language models are compiled into the package's extension
module, so nothing is downloaded at run time. sha256 of that file
(lingua/lingua.cpython-310-x86_64-linux-gnu.so, which holds the models):
2532be4ad56dad180ccfbbf0f88b1f8e0ce11533101690496cb45e4849cec6ea (wheel
lingua_language_detector-2.1.1-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl:
deec7c9d5a72d7434144952cd5c3b85923d7a858264baa9c21018cb0e2e929fb). Results are deterministic
(no sampling); the detector is built once per process, its models loaded on first use (or by
`preload()`, about 5 s). High-accuracy mode: the models of English, Spanish and Polish take about
120 MiB of memory once loaded; low-accuracy mode would take 11 MiB but flagged 8 English messages
of the benchmark instead of 2 (both of those are Spanish greetings: "buenos dias", "hasta luego").

Only a short list of languages is considered (`LANGUAGES`), because every extra candidate is one
more way to misread a short English message. Chat is short and full of things that belong to no language, so
before the model is asked: digits, links, e-mail addresses and medicine names (the knowledge base's
aliases, and words within two letters of one, so "sertralina" is read as a medicine, not as Spanish)
are taken out. Then a message is English unless

- it is written mostly in a non-Latin script (then the model names the language), or
- it has at least two words and MIN_LETTERS letters left, less than ENGLISH_SHARE of its letters
  are in ordinary English words (bot/knowledge/english_words.txt for words of four letters or
  more, a short list of common English words below that), and the model gives another language at
  least MIN_CONFIDENCE (MIN_CONFIDENCE_NO_ENGLISH when not one word is English).

A message that is written like a person's name (two to six words, each capitalised, or a name
particle such as "de", "del", "la", "y": "María José Gutiérrez Sánchez", "Juan de Dios Batiz") is
English too: it is the answer to "what is the patient's name?", not a sentence in another language.

So "ok", "si", "911", names, medicine names and numbers are English, the default the rest of the
assistant works in. Accuracy on short chat messages: `benchmarks/langid_accuracy.py`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Dict, List, Tuple

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

from bot.text_utils import english_words, osa_distance

DEFAULT = "en"
# Latin-script candidates are kept few (English, Spanish, Polish: the Chicago area's largest
# languages after English that use it): each one more is a way to misread short English chat
# (with Tagalog and Vietnamese added, "is this chatgpt" became Tagalog). Languages with their own
# script are told apart by the script itself, so they cost English nothing.
LANGUAGES = (
    Language.ENGLISH, Language.SPANISH, Language.POLISH, Language.CHINESE, Language.ARABIC,
    Language.KOREAN, Language.RUSSIAN, Language.UKRAINIAN, Language.HINDI, Language.URDU, Language.GREEK,
)
#: Letters (after digits and medicine names are removed) below which a Latin-script message is English.
MIN_LETTERS = 7
#: Least confidence the model must give a language other than English.
MIN_CONFIDENCE = 0.6
#: The same when not one word is English ("hola, tomo sertralina" -> "hola tomo").
MIN_CONFIDENCE_NO_ENGLISH = 0.4
#: Fewest words outside English a Latin-script message needs to be called another language.
MIN_FOREIGN_WORDS = 2
#: A message whose letters are at least this share in ordinary English words is English.
ENGLISH_SHARE = 0.5

_NOISE = re.compile(r"https?://\S+|www\.\S+|\S+@\S+|[@#]\w+|\d+", re.I)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    return LanguageDetectorBuilder.from_languages(*LANGUAGES).build()


# Words of this assistant's subject that are the same in English and Spanish chat.
_NEUTRAL = frozenset({"clonus", "botox", "baclofen", "ms", "als", "er", "ok", "okay"})


@lru_cache(maxsize=1)
def _medicine_words() -> Tuple[frozenset, Tuple[str, ...]]:
    from bot.medications import knowledge

    words = set()
    for alias in knowledge().alias_index:
        words.update(w for w in _WORD.findall(alias.lower()) if len(w) >= 4)
    words -= english_words()
    words |= _NEUTRAL
    return frozenset(words), tuple(sorted(w for w in words if len(w) >= 6))


@lru_cache(maxsize=1)
def _long_words_by_start() -> Dict[Tuple[str, int], Tuple[str, ...]]:
    """The long medicine words by (first letter, length): a fuzzy look-up reads only its neighbours."""
    buckets: Dict[Tuple[str, int], List[str]] = {}
    for w in _medicine_words()[1]:
        buckets.setdefault((w[0], len(w)), []).append(w)
    return {key: tuple(words) for key, words in buckets.items()}


@lru_cache(maxsize=8192)
def _is_medicine(word: str) -> bool:
    exact, _ = _medicine_words()
    if word in exact:
        return True
    if len(word) < 6 or word in english_words():
        return False
    limit = 1 if len(word) < 9 else 2  # "sertralina" -> sertraline, but "cocina" is not cocaine
    buckets = _long_words_by_start()
    return any(
        osa_distance(w, word, limit) <= limit
        for size in range(len(word) - limit, len(word) + limit + 1)
        for w in buckets.get((word[0], size), ())
    )


def _words(text: str) -> List[str]:
    return [w for w in _WORD.findall(_NOISE.sub(" ", text.lower())) if not _is_medicine(w)]


# The word list holds many short foreign and abbreviated forms ("la", "se", "del"); short words
# count as English only when they are common English ones.
_SHORT_ENGLISH = frozenset(
    """a i an the to of in on at is it its my me we he she you u ur and or but not no so do did can be am are was
    has had have for with up if im ive id ill how who why what when yes yea yep ok oh hi hey his her him our us
    they them this that get got any all one two too out off now new old day bad sad lol idk omg pls plz thx ty
    bot pm am mom dad son way see saw say let may own try use ask dr doc""".split()
)


def _english_letters(words: List[str]) -> int:
    english = english_words()
    return sum(
        len(w) for w in words if (w.replace("'", "") in _SHORT_ENGLISH if len(w) <= 3 else w.replace("'", "") in english)
    )


def _english_count(words: List[str]) -> int:
    english = english_words()
    return sum(1 for w in words if (w.replace("'", "") in _SHORT_ENGLISH if len(w) <= 3 else w.replace("'", "") in english))


def _latin(word: str) -> bool:
    return all(ch < "\u0250" for ch in word)


# Particles of names written in lower case ("Juan de la Cruz", "Ludwig van Beethoven").
_NAME_PARTICLES = frozenset("de del la las los y e da das do dos di van von der den du le".split())
_NAME_TEXT = re.compile(r"[^\W\d_][^\W\d_'\-.]*(?:[ ,]+[^\W\d_][^\W\d_'\-.]*){1,5}\.?")


def _written_like_a_name(text: str) -> bool:
    """Two to six words, each capitalised (not all in capitals) or a name particle, nothing else."""
    stripped = (text or "").strip()
    if not _NAME_TEXT.fullmatch(stripped):
        return False
    words = [w for w in re.split(r"[ ,]+", stripped.rstrip(".")) if w]
    capitalised = [w for w in words if w[0].isupper()]
    if len(capitalised) < 2 or any(len(w) > 1 and w.isupper() for w in capitalised):
        return False
    return all(w[0].isupper() or w in _NAME_PARTICLES for w in words)


def preload() -> None:
    """Load the language models now (about 5 s) rather than on the first non-English message."""
    _medicine_words()
    _detector().compute_language_confidence_values("hola, necesito ayuda por favor")
    _detector().compute_language_confidence_values("dzień dobry, potrzebuję pomocy")


def detect(text: str) -> str:
    """The ISO 639-1 code of the language of a chat or SMS message; "en" when short or unclear."""
    return _detect(text) if isinstance(text, str) else DEFAULT


def _plainly_english(text: str) -> bool:
    """The checks of `_detect` that taking medicine names out can only confirm, done before the
    (slower) fuzzy medicine look-up: Latin script only, and too short, or English enough, or fewer
    than MIN_FOREIGN_WORDS other words. (Medicine names are never English words: removing them
    removes only other words' letters. The neutral words are removed first, as `_words` does.)"""
    words = [w for w in _WORD.findall(_NOISE.sub(" ", text.lower())) if w not in _NEUTRAL]
    if not words or not all(_latin(w) for w in words):
        return False
    letters = sum(len(w) for w in words)
    if len(words) < 2 or letters < MIN_LETTERS:
        return True
    if _english_letters(words) >= ENGLISH_SHARE * letters:
        return True
    return len(words) - _english_count(words) < MIN_FOREIGN_WORDS


@lru_cache(maxsize=4096)  # the Rasa server asks once per message, the triage engine again
def _detect(text: str) -> str:
    if _written_like_a_name(text):
        return DEFAULT
    if _plainly_english(text):
        return DEFAULT
    words = _words(text or "")
    if not words:
        return DEFAULT
    letters = sum(len(w) for w in words)
    latin_letters = sum(len(w) for w in words if _latin(w))
    if latin_letters * 2 < letters:  # mostly another script: the script itself is strong evidence
        found = _detector().detect_language_of(" ".join(w for w in words if not _latin(w)))
        return found.iso_code_639_1.name.lower() if found else DEFAULT
    if len(words) < 2 or letters < MIN_LETTERS:
        return DEFAULT
    english_letters = _english_letters(words)
    if english_letters >= ENGLISH_SHARE * letters:
        return DEFAULT
    if len(words) - _english_count(words) < MIN_FOREIGN_WORDS:
        # One unknown word among English ones is a name or a medicine ("zanaflex and brixadone").
        return DEFAULT
    needed = MIN_CONFIDENCE if english_letters else MIN_CONFIDENCE_NO_ENGLISH
    for value in _detector().compute_language_confidence_values(" ".join(words)):
        if value.language is Language.ENGLISH:
            continue
        if value.value >= needed:
            return value.language.iso_code_639_1.name.lower()
        break
    return DEFAULT
