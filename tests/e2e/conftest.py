"""End-to-end tests use `rasa_stack` from tests/conftest.py (one stack for the whole session)."""
