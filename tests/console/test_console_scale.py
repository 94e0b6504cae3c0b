"""The console's queries at scale (issue 11) give the answers the simple ones gave: the dashboard
counted in the database, the list's counts and pages, the text search. No timing here (see
benchmarks/bench_console.py)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot.db.models import LEVELS, ConversationReview, ConversationSummary, ConversationText
from console import conversations as conv
from tests.console.helpers import UTC

NEW_YORK = ZoneInfo("America/New_York")
# Noon in New York on the Monday after the switch to summer time (2026-03-08): the 14 days shown
# hold a 23-hour day.
AFTER_DST = datetime(2026, 3, 16, 12, 0, tzinfo=NEW_YORK).astimezone(UTC)
RULES = ("SS-HUNTER", "COMBO-MAOI", "CL-SUSTAINED", "CL-BRIEF", "RF-SELF-HARM")


def _summaries(s, now: datetime, n: int = 400, seed: int = 4) -> list[ConversationSummary]:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    out = []
    for i in range(n):
        # around local midnights on purpose: a UTC-day or fixed-offset count would misplace them
        day = rng.randrange(-16, 2)
        local_midnight = datetime.combine((now.astimezone(NEW_YORK) + timedelta(days=day)).date(), datetime.min.time())
        first = local_midnight.replace(tzinfo=NEW_YORK).astimezone(UTC) + timedelta(
            minutes=rng.choice((-61, -1, 0, 1, 59, 600))
        )
        rank = rng.choice((-1, 0, 1, 2, 3))
        rules = rng.sample(RULES, rng.randrange(0, 3))
        row = ConversationSummary(
            conversation_id=f"scale-{i:04d}",
            ref=f"{i:04x}",
            first_at=first,
            last_at=first + timedelta(minutes=rng.randrange(0, 90), microseconds=i),  # no ties
            channel=rng.choice(("rest", "twilio", None)),
            level_rank=rank,
            triage_level=LEVELS[rank] if rank >= 0 else None,
            rule_ids="," + ",".join(rules) + "," if rules else "",
            message_count=rng.randrange(1, 30),
        )
        s.add(row)
        s.add(ConversationText(conversation_id=row.conversation_id, text=f"message {i} " + " ".join(rules).lower()))
        if rng.random() < 0.3:
            s.add(ConversationReview(conversation_id=row.conversation_id, reviewed=rng.random() < 0.8))
        out.append(row)
    s.flush()
    return out


def test_dashboard_counts_each_conversation_on_its_clinic_day(db_session) -> None:
    rows = _summaries(db_session, AFTER_DST)
    d = conv.dashboard(db_session, NEW_YORK, now=AFTER_DST)
    # the reference: every conversation's first message turned into a New York date, one by one
    start = datetime.combine(d.days[0], datetime.min.time()).replace(tzinfo=NEW_YORK).astimezone(UTC)
    per_day = {day: dict.fromkeys(LEVELS, 0) for day in d.days}
    flags: Counter[str] = Counter()
    for r in rows:
        if r.first_at < start:
            continue
        local = r.first_at.astimezone(NEW_YORK).date()
        if local in per_day and r.triage_level:
            per_day[local][r.triage_level] += 1
        flags.update(x for x in r.rule_ids.split(",") if x)
    assert d.per_day == per_day
    assert sum(sum(v.values()) for v in per_day.values()) > 100
    assert sorted(d.top_flags) == sorted(flags.most_common(10))
    assert d.total == len(rows)
    assert d.last_7_days == sum(r.last_at >= AFTER_DST - timedelta(days=7) for r in rows)


def _reviewed(s) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    return dict(s.execute(sa.select(ConversationReview.conversation_id, ConversationReview.reviewed)).all())


def _expected_order(rows, reviewed: dict[str, bool]) -> list[str]:  # type: ignore[no-untyped-def]
    def attention(r) -> bool:  # type: ignore[no-untyped-def]
        return not reviewed.get(r.conversation_id, False) and r.level_rank >= 2

    first = sorted(
        (r for r in rows if attention(r)), key=lambda r: (-r.level_rank, -r.last_at.timestamp(), r.conversation_id)
    )
    rest = sorted((r for r in rows if not attention(r)), key=lambda r: (-r.last_at.timestamp(), r.conversation_id))
    return [r.conversation_id for r in first + rest]


def _pages(s, f: conv.Filters, page_size: int) -> tuple[list[str], set[int]]:  # type: ignore[no-untyped-def]
    got: list[str] = []
    totals = set()
    for page in range(1, 100):
        listed = conv.list_conversations(s, f, UTC, page=page, page_size=page_size)
        totals.add(listed.total)
        assert not listed.more
        if not listed.rows:
            break
        got += [r.conversation_id for r in listed.rows]
    return got, totals


def test_every_page_of_the_list_in_order_with_its_total(db_session) -> None:
    rows = _summaries(db_session, AFTER_DST, n=230)
    got, totals = _pages(db_session, conv.Filters(), 40)
    assert got == _expected_order(rows, _reviewed(db_session))
    assert totals == {len(rows)}


def test_filtered_and_searched_pages_match_the_filter(db_session) -> None:
    rows = _summaries(db_session, AFTER_DST, n=300)
    reviewed = _reviewed(db_session)
    number = {r.conversation_id: int(r.conversation_id[-4:]) for r in rows}
    cases = [
        (
            conv.Filters(level="emergency", reviewed=False),
            lambda r: r.level_rank == 3 and not reviewed.get(r.conversation_id, False),
        ),
        (conv.Filters(reviewed=True), lambda r: reviewed.get(r.conversation_id, False)),
        (conv.Filters(q="combo-maoi"), lambda r: ",COMBO-MAOI," in r.rule_ids),
        (conv.Filters(q="Message 1"), lambda r: str(number[r.conversation_id]).startswith("1")),
        (conv.Filters(q="ge 2"), lambda r: str(number[r.conversation_id]).startswith("2")),
        (conv.Filters(q="ss-hunter", level="urgent"), lambda r: ",SS-HUNTER," in r.rule_ids and r.level_rank == 2),
        (
            conv.Filters(rule_id="CL-BRIEF", channel="rest"),
            lambda r: ",CL-BRIEF," in r.rule_ids and r.channel == "rest",
        ),
        (conv.Filters(q="no such words"), lambda r: False),
    ]
    for f, keep in cases:
        want = [r for r in rows if keep(r)]
        got, totals = _pages(db_session, f, 25)
        assert got == _expected_order(want, reviewed), f
        assert totals == {len(want)}, f


def test_counts_stop_at_the_cap_and_say_more(db_session, monkeypatch) -> None:
    """Past conv.COUNT_CAP matches the list says "more than" instead of counting every match, and
    every page is still there, in order (a search broad enough to pass the cap walks the list)."""
    monkeypatch.setattr(conv, "COUNT_CAP", 60)
    rows = _summaries(db_session, AFTER_DST, n=150)
    reviewed = _reviewed(db_session)
    for f, keep in (
        (conv.Filters(), lambda r: True),
        (conv.Filters(q="message"), lambda r: True),  # every text: past the cap
        (conv.Filters(q="e 1"), lambda r: str(int(r.conversation_id[-4:])).startswith("1")),  # 61 of 150
        (conv.Filters(q="message", channel="rest"), lambda r: r.channel == "rest"),  # broad text, 57 rows
        (
            conv.Filters(q="message 1", level="emergency"),
            lambda r: r.level_rank == 3 and str(int(r.conversation_id[-4:])).startswith("1"),
        ),
    ):
        want = _expected_order([r for r in rows if keep(r)], reviewed)
        got: list[str] = []
        for page in range(1, 20):
            listed = conv.list_conversations(db_session, f, UTC, page=page, page_size=25)
            assert (listed.total, listed.more) == (min(len(want), 60), len(want) > 60), f
            got += [r.conversation_id for r in listed.rows]
        assert got == want, f


def test_list_page_says_more_than_past_the_cap(staff, seeded, monkeypatch) -> None:
    monkeypatch.setattr(conv, "COUNT_CAP", 3)
    html = staff.get("/conversations").text
    assert "(more than 3)" in html
    assert "page 1</span>" not in html  # six rows, PAGE_SIZE 50: one page
    small = staff.get("/conversations", query_string={"level": "emergency"}).text
    assert 'Conversations <span class="muted">(2)</span>' in small


def test_channels_are_the_distinct_channels_in_order(db_session) -> None:
    rows = _summaries(db_session, AFTER_DST, n=80)
    assert conv.channels(db_session) == sorted({r.channel for r in rows if r.channel is not None})
    db_session.execute(sa.delete(ConversationSummary))
    assert conv.channels(db_session) == []
