"""Crisis mode (issue 10) is marked for staff: the list and the transcript show it, from the stored events."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from console import demo
from console.consumer import catch_up
from tests.console.conftest import _scenario

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def _seed(db_connection, db_url: str) -> None:  # type: ignore[no-untyped-def]
    crisis = _scenario(
        "crisis",
        [("everyone would be better off without me", "out_of_scope", [], "Call 911 now. You can also call or text 988.")],
        "emergency",
        ["RF-SELF-HARM"],
    )
    other = _scenario("stroke", [("my face is drooping", "report_symptom", [], "Call 911 now.")], "emergency", ["RF-STROKE"])
    rows = demo.conversation_events("conv-crisis", NOW - timedelta(minutes=5), crisis, "dev")
    rows += demo.conversation_events("conv-stroke", NOW - timedelta(minutes=4), other, "dev")
    demo.insert_events(db_connection, rows)
    catch_up(db_url)  # the consumer's work: page views never write summaries


def test_crisis_is_marked_in_the_list_and_the_transcript(staff, db_connection, db_url) -> None:  # type: ignore[no-untyped-def]
    _seed(db_connection, db_url)
    html = staff.get("/conversations").text
    rows = re.findall(r"<tr class=.*?</tr>", html, flags=re.S)
    crisis_rows = [r for r in rows if 'class="crisis"' in r]
    assert len(crisis_rows) == 1 and "RF-SELF-HARM" in crisis_rows[0]
    ref = re.search(r'href="/conversations/([0-9a-f]+)" class="conv-link"', crisis_rows[0]).group(1)
    transcript = staff.get(f"/conversations/{ref}").text
    assert re.search(r"<h1>.*class=\"crisis\".*</h1>", transcript, flags=re.S)
    other = [r for r in rows if "RF-STROKE" in r][0]
    other_ref = re.search(r'href="/conversations/([0-9a-f]+)"', other).group(1)
    assert 'class="crisis"' not in staff.get(f"/conversations/{other_ref}").text.split("</h1>")[0]
