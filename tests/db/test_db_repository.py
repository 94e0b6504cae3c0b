"""The helpers other parts call (bot.db.record_*, SMS opt-out) and transaction behaviour."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from bot import db
from bot.db.models import AppointmentRequest, TriageAssessment

TZ_PLUS2 = timezone(timedelta(hours=2))


def test_appointment_request_round_trip_in_utc(db_url: str, db_connection) -> None:
    when = datetime(2026, 3, 2, 9, 30, tzinfo=TZ_PLUS2)
    rid = db.record_appointment_request(
        "conv-a",
        "Alex Example",
        "+15555550101",
        when,
        "leg jerks at night",
        "routine",
        url=db_url,
    )
    assert isinstance(rid, int)
    with db.session_scope(db_url) as s:
        row = s.get(AppointmentRequest, rid)
        assert row.status == "new"
        assert row.preferred_time == when
        assert row.preferred_time.utcoffset() == timedelta(0)
        assert row.preferred_time.hour == 7
        assert row.created_at.tzinfo is not None and row.updated_at.tzinfo is not None
        assert row.triage_level == "routine"


def test_naive_datetimes_are_refused(db_url: str, db_connection) -> None:
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        db.record_appointment_request(
            "conv-b",
            "Sam Example",
            "+15555550102",
            datetime(2026, 3, 2, 9, 30),
            None,
            None,
            url=db_url,
        )


def test_unknown_status_is_refused(db_url: str, db_connection) -> None:
    rid = db.record_appointment_request("conv-c", "Jo Example", "+15555550103", None, None, "urgent", url=db_url)
    with pytest.raises(sa.exc.IntegrityError), db.session_scope(db_url) as s:
        s.get(AppointmentRequest, rid).status = "lost"


@pytest.mark.parametrize("status", ["new", "contacted", "booked", "cancelled"])
def test_known_statuses_are_accepted(db_url: str, db_connection, status: str) -> None:
    rid = db.record_appointment_request("conv-d", "Jo Example", "+15555550103", None, None, None, url=db_url)
    with db.session_scope(db_url) as s:
        s.get(AppointmentRequest, rid).status = status
    with db.session_scope(db_url) as s:
        assert s.get(AppointmentRequest, rid).status == status


def test_unknown_triage_level_is_refused(db_url: str, db_connection) -> None:
    with pytest.raises(ValueError):
        db.record_assessment("conv-e", "critical", [], [], [], url=db_url)
    with pytest.raises(ValueError):
        db.record_appointment_request("conv-e", "A", "+15555550104", None, None, "soon", url=db_url)


def test_assessment_keeps_json(db_url: str, db_connection) -> None:
    meds = [{"name": "phenelzine", "classes": ["MAOI"], "status": "current"}]
    aid = db.record_assessment(
        "conv-f",
        "urgent",
        ["COMBO-MAOI", "COMBO-SEROTONERGIC"],
        ["You take phenelzine and sertraline together."],
        meds,
        url=db_url,
    )
    with db.session_scope(db_url) as s:
        row = s.get(TriageAssessment, aid)
        assert row.rule_ids == ["COMBO-MAOI", "COMBO-SEROTONERGIC"]
        assert row.reasons == ["You take phenelzine and sertraline together."]
        assert row.medications == meds
        assert row.level == "urgent"


def test_sms_opt_out(db_url: str, db_connection) -> None:
    phone = "+15555550199"
    assert db.is_sms_opted_out(phone, url=db_url) is False
    db.set_sms_opt_out(phone, True, url=db_url)
    assert db.is_sms_opted_out(phone, url=db_url) is True
    db.set_sms_opt_out(phone, False, url=db_url)
    assert db.is_sms_opted_out(phone, url=db_url) is False
    assert db.is_sms_opted_out("+15555550198", url=db_url) is False


def test_session_scope_rolls_back_on_error(db_url: str, db_connection) -> None:
    with pytest.raises(RuntimeError), db.session_scope(db_url) as s:
        s.add(
            TriageAssessment(
                conversation_id="conv-g",
                level="routine",
                rule_ids=[],
                reasons=[],
                medications=[],
            )
        )
        s.flush()
        raise RuntimeError("boom")
    with db.session_scope(db_url) as s:
        n = s.execute(
            sa.select(sa.func.count()).select_from(TriageAssessment).where(TriageAssessment.conversation_id == "conv-g")
        ).scalar_one()
    assert n == 0


class TestIsolation:
    """Two tests in order: what the first writes is gone in the second."""

    def test_1_write(self, db_url: str, db_connection) -> None:
        db.record_assessment("conv-isolation", "emergency", ["SS-HUNTER"], [], [], url=db_url)
        with db.session_scope(db_url) as s:
            assert (
                s.execute(
                    sa.select(sa.func.count())
                    .select_from(TriageAssessment)
                    .where(TriageAssessment.conversation_id == "conv-isolation")
                ).scalar_one()
                == 1
            )

    def test_2_gone(self, db_url: str, db_connection) -> None:
        with db.session_scope(db_url) as s:
            assert (
                s.execute(
                    sa.select(sa.func.count())
                    .select_from(TriageAssessment)
                    .where(TriageAssessment.conversation_id == "conv-isolation")
                ).scalar_one()
                == 0
            )


def test_session_scope_commits_for_real(fresh_db_url) -> None:
    url = fresh_db_url("sqlite")
    db.set_sms_opt_out("+15555550111", True, url=url)
    db.dispose_engines()  # a new connection sees the committed row
    assert db.is_sms_opted_out("+15555550111", url=url) is True


def test_helpers_never_log_phone_numbers(db_url: str, db_connection, caplog) -> None:
    caplog.set_level("DEBUG")
    db.record_appointment_request(
        "+15555550177", "Pat Example", "+15555550177", None, "leg jerks", "urgent", url=db_url
    )
    db.record_assessment("+15555550177", "urgent", ["COMBO-MAOI"], ["reason"], [], url=db_url)
    db.set_sms_opt_out("+15555550177", True, url=db_url)
    assert "5550177" not in caplog.text and "Pat" not in caplog.text and "leg jerks" not in caplog.text


def test_database_errors_do_not_repeat_bound_values(db_url: str, db_connection) -> None:
    # SQLAlchemy leaves the parameters out (PostgreSQL's own DETAIL line may still quote the row,
    # so the console logs exception types only: see console.app)
    with pytest.raises(sa.exc.IntegrityError) as err, db.session_scope(db_url) as s:
        s.execute(
            sa.text("INSERT INTO clonus_sms_opt_out (phone_e164, opted_out, updated_at) VALUES (:p, NULL, NULL)"),
            {"p": "+15555550166"},
        )
    assert "parameters hidden" in str(err.value)
    assert "{'p': '+15555550166'}" not in str(err.value)
