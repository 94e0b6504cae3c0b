"""Spanish, CL-KNOWN-CONDITION (issue 9, routine -> self_care): a worsening said with a degree word
("poco a poco peor", "mucho peor que antes") and a limit on daily life said with "afectar"/"impedir".
Phrasings are mine."""

from __future__ import annotations

import pytest

from bot.triage import assess


@pytest.mark.parametrize("text", [
    "tengo esclerosis multiple y el clonus de mi pie va poco a poco peor desde el verano",
    "mi hijo tiene paralisis cerebral y el clonus le impide dormir",
    "tengo una lesion medular, el clonus me esta afectando para trabajar",
])
def test_known_condition_with_worse_or_limiting_clonus_is_routine(text):
    a = assess([text], strict=True)
    assert a.triage_level == "routine" and "CL-KNOWN-CONDITION" in a.rule_ids


def test_no_worse_stays_self_care():
    assert assess(["tengo esclerosis multiple y el clonus sigue igual, no esta peor"], strict=True).triage_level == "self_care"
