"""rasa_ext.logsafe.redact: phone numbers go, file names made of a date and a time stay readable."""

import pytest

from rasa_ext.logsafe import redact


@pytest.mark.parametrize(
    "spelling",
    ["+13125550188", "13125550188", "3125550188", "(312) 555-0188", "312-555-0188", "312.555.0188",
     "555-0188", "+44 20 7946 0958", "+20 100 555 0188"],
)
def test_phone_numbers_are_redacted(spelling):
    out = redact(f"call me on {spelling} please")
    assert "0188" not in out and "0958" not in out
    assert "[phone]" in out


@pytest.mark.parametrize(
    "name",
    ["models/20261202-181509-kind-null.tar.gz", "/work/main/models/20261202-140408-counting-skyscraper.tar.gz"],
)
def test_rasa_model_file_names_stay_readable(name):
    # Rasa names a model <date>-<time>-<two words>; it is not a phone number.
    assert redact(f"Loading model {name}...") == f"Loading model {name}..."


def test_a_phone_number_next_to_a_word_is_still_redacted():
    assert "0188" not in redact("text 312-555-0188-ok")
    assert "0188" not in redact("sms:+13125550188-me")
