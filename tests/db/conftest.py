"""Database test fixtures: db_url (SQLite and PostgreSQL, migrated), db_connection, db_session,
fresh_db_url. They live in tests/fixtures_db.py, registered for every test folder by
`pytest_plugins = ["tests.fixtures_db"]` in tests/conftest.py."""
