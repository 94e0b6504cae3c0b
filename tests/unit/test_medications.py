"""Medicine recognition: a table of 200+ phrasings (brand, generic, street, misspelled, glued, past,
negated, none) and the knowledge-base loader's validation errors."""

from __future__ import annotations

import textwrap

import pytest

from bot.medications import KnowledgeError, analyse, knowledge, load_knowledge, recognise

# Written name -> canonical generic (hand-written, not read from the YAML, so the test can fail).
NAMES = [
    ("sertraline", "sertraline"), ("Zoloft", "sertraline"), ("fluoxetine", "fluoxetine"), ("Prozac", "fluoxetine"),
    ("Sarafem", "fluoxetine"), ("Symbyax", "fluoxetine"), ("paroxetine", "paroxetine"), ("Paxil", "paroxetine"),
    ("Pexeva", "paroxetine"), ("citalopram", "citalopram"), ("Celexa", "citalopram"), ("escitalopram", "escitalopram"),
    ("Lexapro", "escitalopram"), ("fluvoxamine", "fluvoxamine"), ("Luvox", "fluvoxamine"), ("vilazodone", "vilazodone"),
    ("Viibryd", "vilazodone"), ("vortioxetine", "vortioxetine"), ("Trintellix", "vortioxetine"),
    ("venlafaxine", "venlafaxine"), ("Effexor", "venlafaxine"), ("desvenlafaxine", "desvenlafaxine"),
    ("Pristiq", "desvenlafaxine"), ("duloxetine", "duloxetine"), ("Cymbalta", "duloxetine"),
    ("milnacipran", "milnacipran"), ("Savella", "milnacipran"), ("levomilnacipran", "levomilnacipran"),
    ("Fetzima", "levomilnacipran"), ("clomipramine", "clomipramine"), ("Anafranil", "clomipramine"),
    ("imipramine", "imipramine"), ("Tofranil", "imipramine"), ("amitriptyline", "amitriptyline"),
    ("nortriptyline", "nortriptyline"), ("doxepin", "doxepin"), ("desipramine", "desipramine"),
    ("phenelzine", "phenelzine"), ("Nardil", "phenelzine"), ("tranylcypromine", "tranylcypromine"),
    ("Parnate", "tranylcypromine"), ("isocarboxazid", "isocarboxazid"), ("Marplan", "isocarboxazid"),
    ("selegiline", "selegiline"), ("Emsam", "selegiline"), ("Eldepryl", "selegiline"), ("Zelapar", "selegiline"),
    ("rasagiline", "rasagiline"), ("Azilect", "rasagiline"), ("moclobemide", "moclobemide"), ("Manerix", "moclobemide"),
    ("linezolid", "linezolid"), ("Zyvox", "linezolid"), ("methylene blue", "methylene blue"),
    ("ProvayBlue", "methylene blue"), ("procarbazine", "procarbazine"), ("isoniazid", "isoniazid"),
    ("Syrian rue", "syrian rue"), ("ayahuasca", "ayahuasca"), ("tramadol", "tramadol"), ("Ultram", "tramadol"),
    ("Ultracet", "tramadol"), ("tapentadol", "tapentadol"), ("Nucynta", "tapentadol"), ("meperidine", "meperidine"),
    ("pethidine", "meperidine"), ("Demerol", "meperidine"), ("methadone", "methadone"), ("Dolophine", "methadone"),
    ("fentanyl", "fentanyl"), ("Duragesic", "fentanyl"), ("dextromethorphan", "dextromethorphan"),
    ("Robitussin DM", "dextromethorphan"), ("Delsym", "dextromethorphan"), ("DXM", "dextromethorphan"),
    ("buprenorphine", "buprenorphine"), ("oxycodone", "oxycodone"), ("OxyContin", "oxycodone"),
    ("Percocet", "oxycodone"), ("sumatriptan", "sumatriptan"), ("Imitrex", "sumatriptan"),
    ("rizatriptan", "rizatriptan"), ("Maxalt", "rizatriptan"), ("zolmitriptan", "zolmitriptan"), ("Zomig", "zolmitriptan"),
    ("eletriptan", "eletriptan"), ("Relpax", "eletriptan"), ("naratriptan", "naratriptan"),
    ("almotriptan", "almotriptan"), ("frovatriptan", "frovatriptan"), ("ondansetron", "ondansetron"),
    ("Zofran", "ondansetron"), ("granisetron", "granisetron"), ("metoclopramide", "metoclopramide"),
    ("Reglan", "metoclopramide"), ("lithium", "lithium"), ("buspirone", "buspirone"), ("Buspar", "buspirone"),
    ("trazodone", "trazodone"), ("Desyrel", "trazodone"), ("mirtazapine", "mirtazapine"), ("Remeron", "mirtazapine"),
    ("nefazodone", "nefazodone"), ("St John's wort", "st john's wort"), ("St. John's Wort", "st john's wort"),
    ("st johns wort", "st john's wort"), ("Panax ginseng", "panax ginseng"), ("ginseng", "panax ginseng"),
    ("L-tryptophan", "l-tryptophan"), ("5-HTP", "5-htp"), ("SAMe", "s-adenosylmethionine"), ("MDMA", "mdma"),
    ("LSD", "lsd"), ("cocaine", "cocaine"), ("amphetamine", "amphetamine"), ("Adderall", "amphetamine"),
    ("methamphetamine", "methamphetamine"), ("bath salts", "cathinones"), ("baclofen", "baclofen"),
    ("Lioresal", "baclofen"), ("Ozobax", "baclofen"), ("tizanidine", "tizanidine"), ("Zanaflex", "tizanidine"),
    ("dantrolene", "dantrolene"), ("Dantrium", "dantrolene"), ("gabapentin", "gabapentin"),
    ("Neurontin", "gabapentin"), ("Gralise", "gabapentin"), ("Horizant", "gabapentin"), ("pregabalin", "pregabalin"),
    ("Lyrica", "pregabalin"), ("diazepam", "diazepam"), ("Valium", "diazepam"), ("clonazepam", "clonazepam"),
    ("Klonopin", "clonazepam"), ("lorazepam", "lorazepam"), ("Ativan", "lorazepam"), ("alprazolam", "alprazolam"),
    ("Xanax", "alprazolam"), ("Vicodin", "hydrocodone"), ("Norco", "hydrocodone"), ("hydrocodone", "hydrocodone"),
    ("morphine", "morphine"), ("codeine", "codeine"), ("ciprofloxacin", "ciprofloxacin"), ("Cipro", "ciprofloxacin"),
    ("levofloxacin", "levofloxacin"), ("Botox", "botulinum toxin"), ("amiodarone", "amiodarone"),
    ("mexiletine", "mexiletine"), ("propafenone", "propafenone"), ("verapamil", "verapamil"),
    ("cimetidine", "cimetidine"), ("famotidine", "famotidine"), ("Pepcid", "famotidine"),
    ("birth control pills", "oral contraceptive"), ("acyclovir", "acyclovir"), ("ticlopidine", "ticlopidine"),
    ("zileuton", "zileuton"),
]

CASES = []
for i, (written, name) in enumerate(NAMES):
    # Vary the sentence and the capitalisation so each row tests something slightly different.
    variant = (written, written.lower(), written.upper())[i % 3]
    if written == "SAMe":
        variant = written  # only this capitalisation: "same" and "SAME" are ordinary words
    template = ("I take {} every day", "my doctor put me on {} last month", "{} 50mg twice a day",
                "currently on {}", "she's been taking {} for a while")[i % 5]
    CASES.append((template.format(variant), [(name, "current")]))

CASES += [
    # street names in a drug context
    ("took molly last night", [("mdma", "current")]),
    ("rolled on molly at a rave", [("mdma", "current")]),
    ("I'm on molly right now", [("mdma", "current")]),
    ("did some acid at the weekend", [("lsd", "current")]),
    ("dropped acid", [("lsd", "current")]),
    ("took ecstasy", [("mdma", "current")]),
    ("smoking meth", [("methamphetamine", "current")]),
    ("I snorted coke", [("cocaine", "current")]),
    ("did a line of coke", [("cocaine", "current")]),
    ("took some speed to stay up", [("amphetamine", "current")]),
    ("smoked ice", [("methamphetamine", "current")]),
    ("took some blues", [("fentanyl", "current")]),
    ("crystal meth", [("methamphetamine", "current")]),
    ("zoloft, tramadol and molly", [("sertraline", "current"), ("tramadol", "current"), ("mdma", "current")]),
    # ordinary words that are street names elsewhere
    ("I'm feeling blue", []),
    ("my molly cat", []),
    ("I took a walk", []),
    ("Addy is my daughter", []),
    ("acid reflux is bad tonight", []),
    ("I take something for acid reflux", []),
    ("went over a speed bump", []),
    ("I'm on a roll", []),
    ("the water was ice cold", []),
    ("crystal clear", []),
    ("I had a coke with lunch", []),
    ("in a state of ecstasy", []),
    ("I put some ice on it", []),
    ("same as before", []),
    ("my lips are blue", []),
    ("she looks blue", []),
    ("the pill box is empty", []),
    ("I lean on my cane", []),
    ("my son Charlie has clonus", []),
    ("I try to relax", []),
    ("lyrical music helps", []),
    ("ultra tired", []),
    # misspellings and fuzzy
    ("I take zolof 50mg", [("sertraline", "current")]),
    ("tramadoll for my back", [("tramadol", "current")]),
    ("baclophen 10 mg", [("baclofen", "current")]),
    ("on sertaline", [("sertraline", "current")]),
    ("gabapentine 300", [("gabapentin", "current")]),
    ("clonopin at night", [("clonazepam", "current")]),
    ("klonipin", [("clonazepam", "current")]),
    ("zanax", [("alprazolam", "current")]),
    ("tizanadine", [("tizanidine", "current")]),
    ("lexapo", [("escitalopram", "current")]),
    ("Cymbalt", [("duloxetine", "current")]),
    ("prozak", [("fluoxetine", "current")]),
    ("amitriptiline", [("amitriptyline", "current")]),
    ("trazadone for sleep", [("trazodone", "current")]),
    ("methodone clinic", [("methadone", "current")]),
    ("dantrolen", [("dantrolene", "current")]),
    ("venlafaxin", [("venlafaxine", "current")]),
    ("phenelzene", [("phenelzine", "current")]),
    # glued to doses and odd punctuation
    ("baclofen10mg", [("baclofen", "current")]),
    ("Zoloft50mg daily", [("sertraline", "current")]),
    ("tizanidine4mg, gabapentin300mg", [("tizanidine", "current"), ("gabapentin", "current")]),
    ("zoloft+tramadol", [("sertraline", "current"), ("tramadol", "current")]),
    ("zoloft/tramadol", [("sertraline", "current"), ("tramadol", "current")]),
    ("ZOLOFT AND TRAMADOL", [("sertraline", "current"), ("tramadol", "current")]),
    ("St John\u2019s wort", [("st john's wort", "current")]),
    ("Tylenol with codeine", [("codeine", "current")]),
    ("lithium carbonate", [("lithium", "current")]),
    # lists
    ("zoloft, tramadol and ginseng", [("sertraline", "current"), ("tramadol", "current"), ("panax ginseng", "current")]),
    ("I take prozac, lithium, and buspar", [("fluoxetine", "current"), ("lithium", "current"), ("buspirone", "current")]),
    # past
    ("I was on Paxil years ago", [("paroxetine", "past")]),
    ("stopped Prozac two weeks ago", [("fluoxetine", "past")]),
    ("I used to take zoloft", [("sertraline", "past")]),
    ("came off effexor in march", [("venlafaxine", "past")]),
    ("I quit xanax", [("alprazolam", "past")]),
    ("I ran out of baclofen", [("baclofen", "past")]),
    ("I don't take prozac anymore", [("fluoxetine", "past")]),
    ("switched from paxil to zoloft", [("paroxetine", "past"), ("sertraline", "current")]),
    ("I stopped the paxil and started nardil", [("paroxetine", "past"), ("phenelzine", "current")]),
    ("took xanax for a year, quit suddenly", [("alprazolam", "past")]),
    ("I haven't taken my baclofen for 2 days", [("baclofen", "past")]),
    ("I was taking lexapro but not now", [("escitalopram", "past")]),
    ("no longer on tramadol", [("tramadol", "past")]),
    ("I used to take zoloft and tramadol", [("sertraline", "past"), ("tramadol", "past")]),
    # negated
    ("I don't take tramadol", [("tramadol", "negated")]),
    ("never took MDMA", [("mdma", "negated")]),
    ("I'm not on tramadol", [("tramadol", "negated")]),
    ("no tramadol", [("tramadol", "negated")]),
    ("I do not take lithium or tramadol", [("lithium", "negated"), ("tramadol", "negated")]),
    ("I have never been on an MAOI like nardil", [("phenelzine", "negated")]),
    ("I don't take tramadol, only zoloft", [("tramadol", "negated"), ("sertraline", "current")]),
    # not negated
    ("I'm not sure tramadol is safe with my zoloft", [("tramadol", "current"), ("sertraline", "current")]),
    # no medicine at all
    ("my ankle bounces when I stand", []),
    ("what is clonus?", []),
    ("", []),
    ("hello there", []),
    ("I take my dog for a walk every day", []),
    ("I'm on holiday next week", []),
]

assert len(CASES) >= 200, len(CASES)


@pytest.mark.parametrize("text, expected", CASES, ids=[f"{i}:{t[:40]}" for i, (t, _) in enumerate(CASES)])
def test_recognition(text, expected):
    found = [(m.name, m.status) for m in recognise(text, include_negated=True)]
    assert found == expected


def test_offsets_point_at_the_words():
    text = "I take Zoloft 50mg and tramadoll"
    mentions = recognise(text)
    assert [(text[m.start:m.end], m.name) for m in mentions] == [("Zoloft", "sertraline"), ("tramadoll", "tramadol")]
    assert all(m.text == text[m.start:m.end] for m in mentions)
    assert mentions[1].fuzzy and not mentions[0].fuzzy


def test_offsets_survive_curly_quotes_and_control_characters():
    text = "\x07I\u2019m on baclofen\u2014and St John\u2019s wort"
    mentions = recognise(text)
    assert [text[m.start:m.end] for m in mentions] == ["baclofen", "St John\u2019s wort"]


def test_negated_left_out_by_default():
    assert recognise("I don't take tramadol") == []


def test_days_since_stop():
    (m,) = recognise("I stopped prozac two weeks ago")
    assert m.status == "past" and m.stopped and m.days_since_stop == 14
    (m,) = recognise("I was on Paxil years ago")
    assert m.status == "past" and m.days_since_stop >= 365
    (m,) = recognise("ran out of baclofen yesterday")
    assert m.stopped and m.days_since_stop == 1


def test_recent_start():
    mentions = recognise("started sertraline 3 days ago")
    assert mentions[0].started_recently and mentions[0].days_since_start == 3
    assert recognise("my venlafaxine dose went up on Tuesday")[0].started_recently


@pytest.mark.parametrize(
    "text, word",
    [("I take xylophrine 20mg", "xylophrine"), ("started on Flurbexa", "Flurbexa"),
     ("my doctor prescribed zembravix", "zembravix"), ("zoloft, quelitrane and tramadol", "quelitrane"),
     ("plonkazine 5 mg at night", "plonkazine")],
)
def test_unrecognised_are_said_back(text, word):
    assert word in analyse(text).unrecognised


@pytest.mark.parametrize(
    "text",
    ["I take my dog for a walk", "I'm on holiday", "started on Monday", "took Jessica to school",
     "I take the bus to work", "I'm on a roll", "took a selfie"],
)
def test_ordinary_words_are_not_unrecognised(text):
    assert analyse(text).unrecognised == []


def test_knowledge_base_loads_and_covers_the_policy():
    kb = knowledge()
    for name in ("sertraline", "phenelzine", "linezolid", "tramadol", "sumatriptan", "ondansetron", "lithium",
                 "st john's wort", "mdma", "baclofen", "tizanidine", "dantrolene", "gabapentin", "pregabalin",
                 "diazepam", "clonazepam", "oxycodone", "hydrocodone", "morphine", "codeine", "ciprofloxacin",
                 "botulinum toxin", "amiodarone", "zileuton", "famotidine"):
        med = kb.get(name)
        assert med is not None, name
        assert med.source in kb.sources
    assert "cyp1a2_contraindicated" in kb.get("fluvoxamine").classes
    assert kb.get("clomipramine").classes >= {"tca", "tca_strong"}
    assert kb.lookup("ZOLOFT").name == "sertraline"


# ----------------------------------------------------------------------------- loader validation

GOOD_HEAD = """
classes: {ssri: x, snri: x, tca: x, tca_strong: x, maoi: x, hidden_maoi: x, serotonergic_opioid: x,
  serotonergic_opioid_weak: x, triptan: x, antiemetic: x, other_serotonergic: x, herbal: x, recreational: x,
  gabapentinoid: x, benzodiazepine: x, opioid: x, muscle_relaxant: x, cyp1a2_inhibitor: x,
  cyp1a2_contraindicated: x, fluoroquinolone: x, other: x}
sources: {label: "a label"}
"""


def _write(tmp_path, body: str):
    path = tmp_path / "medicines.yml"
    path.write_text(GOOD_HEAD + textwrap.dedent(body), encoding="utf-8")
    return path


def test_loader_accepts_a_good_file(tmp_path):
    kb = load_knowledge(_write(tmp_path, """
        medicines:
          - {name: sertraline, classes: [ssri], brands: [Zoloft], source: label}
        """))
    assert kb.lookup("zoloft").name == "sertraline"


@pytest.mark.parametrize(
    "body, message",
    [
        ("medicines:\n  - {name: sertraline, classes: [ssri, magic], source: label}\n", "unknown class 'magic'"),
        ("medicines:\n  - {name: sertraline, classes: [ssri], brands: [Zoloft], source: label}\n"
         "  - {name: fakeline, classes: [ssri], brands: [zoloft], source: label}\n",
         "duplicate alias 'zoloft' (already used by 'sertraline')"),
        ("medicines:\n  - {name: sertraline, classes: [ssri], brands: [Zoloft]}\n", "missing source"),
        ("medicines:\n  - {name: sertraline, classes: [ssri], source: nowhere}\n", "unknown source 'nowhere'"),
        ("medicines:\n  - {name: Sertraline, classes: [ssri], source: label}\n", "must be lowercase"),
        ("medicines:\n  - {name: sertraline, source: label}\n", "missing classes"),
        ("medicines:\n  - {classes: [ssri], source: label}\n", "missing name"),
        ("medicines:\n  - {name: sertraline, classes: [ssri], source: label, colour: blue}\n", "unknown field"),
        ("medicines:\n  - {name: sertraline, classes: [ssri], source: label, context_only: [molly]}\n",
         "'molly' is in context_only"),
        ("medicines:\n  - {name: sertraline, classes: [ssri], brands: [Zoloft, zoloft], source: label}\n",
         "listed twice"),
        ("medicines: [\n", "cannot read"),
        ("medicines: []\n", "non-empty list"),
    ],
)
def test_loader_rejects_bad_files(tmp_path, body, message):
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(_write(tmp_path, body))
    assert message in str(err.value)
    if "sertraline" in body and "fakeline" not in body and "Sertraline" not in body:
        assert "'sertraline'" in str(err.value)  # the message names the entry


def test_loader_rejects_missing_required_class(tmp_path):
    path = tmp_path / "m.yml"
    path.write_text("classes: {ssri: x}\nsources: {a: b}\nmedicines:\n  - {name: x, classes: [ssri], source: a}\n")
    with pytest.raises(KnowledgeError, match="not defined: .*maoi"):
        load_knowledge(path)
