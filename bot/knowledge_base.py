"""The medicine knowledge base (bot/knowledge/medicines.yml): its loader and validation.

`load_knowledge(path)` reads and validates the YAML (bot.medications.knowledge() is the process's copy). The recogniser
that finds these medicines in a person's words is bot.medications; it compiles its lookup tables from a
Knowledge and caches them (bot.medications._Index).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, FrozenSet, List, Optional, Tuple

from bot.text_utils import KNOWLEDGE_DIR
from bot.vocab import SEROTONERGIC_CLASSES

DEFAULT_PATH = KNOWLEDGE_DIR / "medicines.yml"

#: Classes the triage rules refer to; the knowledge base must define each of them.
REQUIRED_CLASSES = SEROTONERGIC_CLASSES | {
    "gabapentinoid", "benzodiazepine", "opioid", "muscle_relaxant", "cyp1a2_inhibitor",
    "cyp1a2_contraindicated", "fluoroquinolone", "other",
}
_FIELDS = {"name", "classes", "synonyms", "brands", "street", "misspellings", "context_only", "exact_case", "no_fuzzy", "source"}
_ALIAS_FIELDS = ("synonyms", "brands", "street", "misspellings")


class KnowledgeError(ValueError):
    """The medicine knowledge base is invalid; the message names the file and the entry."""


@dataclass(frozen=True)
class Medicine:
    name: str
    classes: FrozenSet[str]
    source: str
    aliases: Tuple[str, ...]  # every written form, the name included
    context_only: FrozenSet[str] = frozenset()  # lowercased
    exact_case: FrozenSet[str] = frozenset()  # as written
    brands: FrozenSet[str] = frozenset()  # lowercased brand names (the `brands` field)
    no_fuzzy: FrozenSet[str] = frozenset()  # lowercased: matched only as written, never as a misspelling

    @property
    def serotonergic(self) -> bool:
        return bool(self.classes & SEROTONERGIC_CLASSES)


@dataclass(frozen=True)
class Knowledge:
    classes: Dict[str, str]
    sources: Dict[str, str]
    medicines: Dict[str, Medicine]  # by canonical name
    alias_index: Dict[str, str]  # lowercased alias -> canonical name

    def get(self, name: str) -> Optional[Medicine]:
        return self.medicines.get(name)

    def lookup(self, alias: str) -> Optional[Medicine]:
        """The medicine a written name stands for (exact alias, any capitalisation), or None."""
        name = self.alias_index.get(_alias_key(alias))
        return self.medicines.get(name) if name else None


def _alias_key(alias: str) -> str:
    return re.sub(r"\s+", " ", alias.strip().lower())


def _strings(value: Any, where: str) -> List[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
        raise KnowledgeError(f"{where}: expected a list of names, got {value!r}")
    out = [str(v).strip() for v in value]
    if any(not v for v in out):
        raise KnowledgeError(f"{where}: empty name in list")
    return out


def load_knowledge(path: Optional[Path] = None) -> Knowledge:
    """Read and validate the knowledge base. Raises KnowledgeError naming the faulty entry for an
    unknown class, a duplicate alias, a missing or unknown source, or a malformed entry."""
    import yaml  # local: only needed when the compiled cache is stale (bot.medications)

    path = Path(path or DEFAULT_PATH)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 (safe loader, C build)
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeError(f"{path}: cannot read medicine knowledge base: {exc}") from exc
    if not isinstance(raw, dict):
        raise KnowledgeError(f"{path}: expected a mapping with classes, sources and medicines")
    classes = raw.get("classes")
    sources = raw.get("sources")
    entries = raw.get("medicines")
    if not isinstance(classes, dict) or not classes:
        raise KnowledgeError(f"{path}: 'classes' must be a non-empty mapping of class -> meaning")
    if not isinstance(sources, dict) or not sources:
        raise KnowledgeError(f"{path}: 'sources' must be a non-empty mapping of key -> citation")
    if not isinstance(entries, list) or not entries:
        raise KnowledgeError(f"{path}: 'medicines' must be a non-empty list")
    missing_classes = sorted(REQUIRED_CLASSES - set(classes))
    if missing_classes:
        raise KnowledgeError(f"{path}: classes used by the triage rules are not defined: {', '.join(missing_classes)}")

    medicines: Dict[str, Medicine] = {}
    alias_index: Dict[str, str] = {}
    for number, entry in enumerate(entries, start=1):
        label = f"{path}: medicine #{number}"
        if not isinstance(entry, dict):
            raise KnowledgeError(f"{label}: expected a mapping, got {entry!r}")
        name = str(entry.get("name") or "").strip()
        if not name:
            raise KnowledgeError(f"{label}: missing name")
        label = f"{path}: medicine #{number} ({name!r})"
        if name != name.lower():
            raise KnowledgeError(f"{label}: the canonical name must be lowercase")
        unknown_fields = sorted(set(entry) - _FIELDS)
        if unknown_fields:
            raise KnowledgeError(f"{label}: unknown field(s) {', '.join(unknown_fields)}")
        entry_classes = _strings(entry.get("classes"), f"{label}: classes")
        if not entry_classes:
            raise KnowledgeError(f"{label}: missing classes")
        unknown = [c for c in entry_classes if c not in classes]
        if unknown:
            raise KnowledgeError(f"{label}: unknown class {unknown[0]!r} (known: {', '.join(sorted(classes))})")
        source = str(entry.get("source") or "").strip()
        if not source:
            raise KnowledgeError(f"{label}: missing source (where its classification comes from)")
        if source not in sources:
            raise KnowledgeError(f"{label}: unknown source {source!r} (not a key of 'sources')")
        aliases = [name]
        for fld in _ALIAS_FIELDS:
            aliases.extend(_strings(entry.get(fld), f"{label}: {fld}"))
        seen: Dict[str, str] = {}
        for alias in aliases:
            key = _alias_key(alias)
            if key in seen:
                raise KnowledgeError(f"{label}: duplicate alias {alias!r} (listed twice in this entry)")
            if key in alias_index:
                raise KnowledgeError(f"{label}: duplicate alias {alias!r} (already used by {alias_index[key]!r})")
            seen[key] = alias
        context_only = _strings(entry.get("context_only"), f"{label}: context_only")
        exact_case = _strings(entry.get("exact_case"), f"{label}: exact_case")
        no_fuzzy = _strings(entry.get("no_fuzzy"), f"{label}: no_fuzzy")
        for alias in context_only + exact_case + no_fuzzy:
            if _alias_key(alias) not in seen:
                raise KnowledgeError(f"{label}: {alias!r} is in context_only/exact_case/no_fuzzy but is not one of its names")
        if name in medicines:
            raise KnowledgeError(f"{label}: duplicate medicine name")
        for key in seen:
            alias_index[key] = name
        medicines[name] = Medicine(
            name=name,
            classes=frozenset(entry_classes),
            source=source,
            aliases=tuple(aliases),
            context_only=frozenset(_alias_key(a) for a in context_only),
            exact_case=frozenset(exact_case),
            no_fuzzy=frozenset(_alias_key(a) for a in no_fuzzy),
            brands=frozenset(_alias_key(a) for a in _strings(entry.get("brands"), f"{label}: brands")),
        )
    return Knowledge(classes=dict(classes), sources=dict(sources), medicines=medicines, alias_index=alias_index)
