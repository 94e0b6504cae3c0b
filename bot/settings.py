"""Settings from the environment and the clinic profile (clinic.yml); one place for both."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Dict, Optional, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class ConfigError(ValueError):
    """The clinic profile or an environment setting is invalid."""


@dataclass(frozen=True)
class Clinic:
    name: str
    phone: str
    address: str
    timezone: str
    emergency_number: str
    crisis_line: str
    # weekday index (0 = Monday) -> (opens, closes)
    opening_hours: Dict[int, Tuple[time, time]] = field(default_factory=dict)

    def hours_text(self) -> str:
        """Opening hours in plain words, e.g. 'Monday to Thursday 8:30 AM to 5:00 PM; ...'."""
        parts = []
        for day in range(7):
            if day not in self.opening_hours:
                continue
            opens, closes = self.opening_hours[day]
            parts.append(f"{WEEKDAYS[day].capitalize()} {_fmt(opens)} to {_fmt(closes)}")
        return "; ".join(parts) if parts else "by appointment only"

    def is_open(self, weekday: int, at: time) -> bool:
        hours = self.opening_hours.get(weekday)
        return bool(hours) and hours[0] <= at < hours[1]

    def as_slots(self) -> Dict[str, str]:
        """Values that responses interpolate ({clinic_name}, {emergency_number}, ...)."""
        return {
            "clinic_name": self.name,
            "clinic_phone": self.phone,
            "clinic_address": self.address,
            "clinic_hours": self.hours_text(),
            "emergency_number": self.emergency_number,
            "crisis_line": self.crisis_line,
        }


def _fmt(t: time) -> str:
    hour = t.hour % 12 or 12
    return f"{hour}:{t.minute:02d} {'AM' if t.hour < 12 else 'PM'}"


def _parse_time(value: str, where: str) -> time:
    try:
        hh, mm = str(value).split(":")
        return time(int(hh), int(mm))
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{where}: expected HH:MM, got {value!r}") from exc


def load_clinic(path: Optional[Path] = None) -> Clinic:
    """Read and validate the clinic profile."""
    path = Path(path or os.environ.get("CLINIC_PROFILE") or ROOT / "clinic.yml")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read clinic profile {path}: {exc}") from exc
    missing = [k for k in ("name", "phone", "address") if not raw.get(k)]
    if missing:
        raise ConfigError(f"{path}: missing {', '.join(missing)}")
    hours: Dict[int, Tuple[time, time]] = {}
    for day, span in (raw.get("opening_hours") or {}).items():
        if str(day).lower() not in WEEKDAYS:
            raise ConfigError(f"{path}: unknown weekday {day!r} in opening_hours")
        if not isinstance(span, (list, tuple)) or len(span) != 2:
            raise ConfigError(f"{path}: opening_hours.{day} must be [opens, closes]")
        opens = _parse_time(span[0], f"{path}: opening_hours.{day}")
        closes = _parse_time(span[1], f"{path}: opening_hours.{day}")
        if closes <= opens:
            raise ConfigError(f"{path}: opening_hours.{day} closes before it opens")
        hours[WEEKDAYS.index(str(day).lower())] = (opens, closes)
    return Clinic(
        name=str(raw["name"]),
        phone=str(raw["phone"]),
        address=str(raw["address"]),
        timezone=str(raw.get("timezone") or "UTC"),
        emergency_number=str(raw.get("emergency_number") or "911"),
        crisis_line=str(raw.get("crisis_line") or "988"),
        opening_hours=hours,
    )


@lru_cache(maxsize=1)
def clinic() -> Clinic:
    """The clinic profile of this process (read once)."""
    return load_clinic()


def data_dir() -> Path:
    path = Path(os.environ.get("CLONUS_DATA_DIR") or ROOT / "var")
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    """DATABASE_URL (any SQLAlchemy URL); an SQLite file in the data directory by default."""
    url = os.environ.get("DATABASE_URL")
    if url:
        # Heroku-style URLs name the dialect "postgres", which SQLAlchemy 1.4 rejects.
        return "postgresql://" + url[len("postgres://"):] if url.startswith("postgres://") else url
    return f"sqlite:///{data_dir() / 'clonus.sqlite3'}"


def db_timeout() -> float:
    """CLONUS_DB_TIMEOUT: how many seconds a conversation turn waits for the database (a lock, a
    connection) before it gives up and the channel answers with the fail-safe notice. Default 2."""
    try:
        value = float(os.environ.get("CLONUS_DB_TIMEOUT", "") or 2.0)
    except ValueError:
        return 2.0
    return max(0.1, value)
