"""Server-side SVG chart geometry (no third-party JavaScript): stacked bars of triage levels per day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.db.models import LEVELS


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    level: str
    count: int
    day: date


@dataclass
class Chart:
    width: int
    height: int
    bars: list[Bar]
    labels: list[tuple[float, str]]  # x, text
    ticks: list[tuple[float, int]]  # y, value
    max_value: int
    plot_left: int
    plot_bottom: int


def levels_per_day(days: list[date], per_day: dict[date, dict[str, int]], width: int = 720, height: int = 260) -> Chart:
    left, right, top, bottom = 40, 10, 10, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(per_day.get(d, {}).values()) for d in days]
    max_value = max([*totals, 1])
    step = plot_w / max(len(days), 1)
    bar_w = max(step * 0.7, 1)
    bars: list[Bar] = []
    labels: list[tuple[float, str]] = []
    for i, d in enumerate(days):
        x = left + i * step + (step - bar_w) / 2
        y = top + plot_h
        for level in reversed(LEVELS):  # emergency at the bottom, where the eye starts
            count = per_day.get(d, {}).get(level, 0)
            if not count:
                continue
            h = plot_h * count / max_value
            y -= h
            bars.append(Bar(round(x, 1), round(y, 1), round(bar_w, 1), round(h, 1), level, count, d))
        if len(days) <= 16 or i % 2 == 0:
            labels.append((round(x + bar_w / 2, 1), d.strftime("%m-%d")))
    ticks = []
    for frac in (0, 0.5, 1):
        value = round(max_value * frac)
        ticks.append((round(top + plot_h - plot_h * value / max_value, 1), value))
    return Chart(width, height, bars, labels, ticks, max_value, left, top + plot_h)
