"""bot.db.save_sms_pages / take_sms_page (clonus_sms_more_page, migration 0013), on SQLite and
PostgreSQL: pages come back in order and once, a new reply replaces the old rest, pages expire,
and MOREs at once from several servers (threads with connections of their own) share the pages
out without giving one twice."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot import db
from bot.db.models import SmsMorePage, utcnow

KEEP = timedelta(hours=24)


def test_pages_come_back_in_order_and_once(db_connection, db_url):
    db.save_sms_pages("+13125550161", ["page 2", "page 3", "page 4"], KEEP, db_url)
    assert [db.take_sms_page("+13125550161", db_url) for _ in range(4)] == ["page 2", "page 3", "page 4", None]


def test_a_new_reply_replaces_the_rest_and_an_empty_one_clears_it(db_connection, db_url):
    db.save_sms_pages("+13125550162", ["old 2", "old 3"], KEEP, db_url)
    db.save_sms_pages("+13125550162", ["new 2"], KEEP, db_url)
    assert db.take_sms_page("+13125550162", db_url) == "new 2"
    assert db.take_sms_page("+13125550162", db_url) is None
    db.save_sms_pages("+13125550162", ["x"], KEEP, db_url)
    db.save_sms_pages("+13125550162", [], KEEP, db_url)  # a short reply: nothing waits
    assert db.take_sms_page("+13125550162", db_url) is None


def test_each_number_has_its_own_pages(db_connection, db_url):
    db.save_sms_pages("+13125550163", ["a"], KEEP, db_url)
    db.save_sms_pages("+13125550164", ["b"], KEEP, db_url)
    assert db.take_sms_page("+13125550164", db_url) == "b"
    assert db.take_sms_page("+13125550163", db_url) == "a"


def test_pages_expire_and_expired_ones_are_deleted(db_connection, db_url):
    start = utcnow()
    db.save_sms_pages("+13125550165", ["soon gone"], KEEP, db_url, now=start)
    assert db.take_sms_page("+13125550165", db_url, now=start + KEEP + timedelta(seconds=1)) is None
    # the next save (any number) deletes expired rows, so they do not pile up
    db.save_sms_pages("+13125550166", ["fresh"], KEEP, db_url, now=start + KEEP + timedelta(seconds=1))
    left = db_connection.execute(sa.select(SmsMorePage.conversation_id)).scalars().all()
    assert "+13125550165" not in left and "+13125550166" in left


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_mores_at_once_give_every_page_exactly_once(fresh_db_url, backend):
    url = fresh_db_url(backend)
    phone = "+13125550167"
    pages = [f"page {i}" for i in range(40)]
    db.save_sms_pages(phone, pages, KEEP, url)
    got, errors = [], []
    barrier = threading.Barrier(8)

    def taker():
        barrier.wait()
        try:
            while True:
                page = db.take_sms_page(phone, url)
                if page is None:
                    return
                got.append(page)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=taker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sorted(got) == sorted(pages) and len(got) == len(set(got))
