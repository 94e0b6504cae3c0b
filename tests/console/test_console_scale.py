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
        text = f"message {i} " + " ".join(rules).lower()
        s.add(
            ConversationText(conversation_id=row.conversation_id, text=text, level_rank=rank)
        )  # as _rebuild writes it
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


def _word_rows(s, now: datetime) -> list[ConversationSummary]:  # type: ignore[no-untyped-def]
    """1,300 conversations: "ankle" in 1,150 without a level the list puts first and in a few
    emergencies and urgent cases (reviewed or not); "maoi" in 1,050 urgent cases and no emergency;
    80 unreviewed emergencies hold neither."""
    kinds = (
        [(rank, None, "ankle") for rank in (-1, 0, 1) for _ in range(383)]
        + [(-1, None, "ankle")]
        + [(3, False, "ankle")] * 4
        + [(3, True, "ankle")]
        + [(2, False, "ankle")] * 3
        + [(2, True, "ankle")] * 2
        + [(2, i % 2 == 0, "maoi") for i in range(1050)]
        + [(3, False, "neither")] * 80
    )
    rng = random.Random(7)
    rng.shuffle(kinds)
    rows = []
    for i, (rank, reviewed, word) in enumerate(kinds):
        row = ConversationSummary(
            conversation_id=f"word-{i:05d}",
            ref=f"w{i:05x}",
            first_at=now - timedelta(days=3),
            last_at=now - timedelta(seconds=rng.randrange(0, 200_000), microseconds=i),  # no ties
            channel=("rest", "twilio")[i % 2],
            level_rank=rank,
            triage_level=LEVELS[rank] if rank >= 0 else None,
            rule_ids="",
            message_count=2,
        )
        s.add(row)
        s.add(ConversationText(conversation_id=row.conversation_id, text=f"my {word} hurts", level_rank=rank))
        if reviewed is not None:
            s.add(ConversationReview(conversation_id=row.conversation_id, reviewed=reviewed))
        rows.append(row)
    s.flush()
    return rows


def test_search_past_a_thousand_matches_is_in_list_order(db_session) -> None:
    """More than COUNT_CAP (1,000) matches, with the unreviewed emergencies and urgent cases that
    hold the word few among many that do not: every page in the list's order, nothing missing,
    the count "more than 1,000"."""
    rows = _word_rows(db_session, AFTER_DST)
    reviewed = _reviewed(db_session)
    text = {r.conversation_id: r for r in rows}
    word = {cid: t for cid, t in db_session.execute(sa.select(ConversationText.conversation_id, ConversationText.text))}
    for f, keep in (
        (conv.Filters(q="ANKLE"), lambda r: "ankle" in word[r.conversation_id]),
        (conv.Filters(q="maoi"), lambda r: "maoi" in word[r.conversation_id]),
        (
            conv.Filters(q="ankle", level="emergency"),
            lambda r: "ankle" in word[r.conversation_id] and r.level_rank == 3,
        ),
        (
            conv.Filters(q="maoi", reviewed=False),
            lambda r: "maoi" in word[r.conversation_id] and not reviewed.get(r.conversation_id),
        ),
        (conv.Filters(q="hurts", channel="twilio"), lambda r: r.channel == "twilio"),
    ):
        want = _expected_order([r for r in rows if keep(r)], reviewed)
        got: list[str] = []
        for page in range(1, 40):
            listed = conv.list_conversations(db_session, f, UTC, page=page)
            assert (listed.total, listed.more) == (min(len(want), 1000), len(want) > 1000), f
            if not listed.rows:
                break
            got += [r.conversation_id for r in listed.rows]
        assert got == want, f
        assert all(cid in text for cid in got)
    first = conv.list_conversations(db_session, conv.Filters(q="ankle"), UTC).rows
    assert [(r.triage_level, r.reviewed) for r in first[:7]] == [("emergency", False)] * 4 + [("urgent", False)] * 3


def test_search_reads_each_attention_levels_text_from_its_own_index(
    db_url, db_connection, db_session, db_backend
) -> None:
    """The list's first parts search the text of their level alone: on PostgreSQL by that level's
    trigram index (migration 0015), whose expression the query repeats exactly."""
    from importlib import import_module

    migration = import_module("bot.db.migrations.versions.0015_console_search_levels")
    assert migration.INDEXES == conv.LEVEL_TEXT_INDEXES
    _word_rows(db_session, AFTER_DST)
    statements: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):  # type: ignore[no-untyped-def]
        statements.append((statement, parameters))

    sa.event.listen(db_connection, "before_cursor_execute", capture)
    try:
        conv.list_conversations(db_session, conv.Filters(q="ankle"), UTC)
    finally:
        sa.event.remove(db_connection, "before_cursor_execute", capture)
    by_level = [st for st in statements if "CASE WHEN" in st[0]]
    assert len(by_level) == 2  # the unreviewed emergencies, then the unreviewed urgent cases
    if db_backend != "postgresql":
        return
    db_connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    ct = ConversationText
    for name, rank in conv.LEVEL_TEXT_INDEXES.items():
        assert f"level_rank = {rank})" in by_level[conv.ATTENTION_RANKS.index(rank)][0]
        # the level's matches, as the list's part selects them: from the level's own index
        query = sa.select(ct.conversation_id).where(conv._text_matches("ankle", conv._level_text(rank)))
        compiled = query.compile(dialect=db_connection.dialect)
        plan = "\n".join(r[0] for r in db_connection.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params))
        assert name in plan, plan
