"""A database file moved away while the processes run is not replaced by an empty one (outside
test finding: SQLite's reopening of a new, empty file discarded the real one's write-ahead log)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bot import db


def test_an_existing_sqlite_file_moved_away_is_not_recreated(tmp_path):
    path = tmp_path / "clonus.sqlite3"
    url = f"sqlite:///{path}"
    with sa.create_engine(url).begin() as conn:  # the file exists, as after the migrations
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    engine = db._make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    engine.dispose()
    path.rename(tmp_path / "away.sqlite3")
    with pytest.raises(sa.exc.OperationalError):
        with engine.begin() as conn:
            conn.exec_driver_sql("SELECT 1 FROM t")
    assert not path.exists(), "an empty database was created in place of the moved one"
    (tmp_path / "away.sqlite3").rename(path)
    with engine.begin() as conn:  # back: the same data, no restart needed
        assert conn.exec_driver_sql("SELECT x FROM t").scalar() == 1
    engine.dispose()


def test_a_new_sqlite_file_is_still_created(tmp_path):
    engine = db._make_engine(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    assert (tmp_path / "new.sqlite3").exists()
    engine.dispose()
