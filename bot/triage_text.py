"""The plain-language message a person reads for an assessment (policy section 7).

Short sentences at about a grade-6 reading level. Every emergency message gives the number to call
and says not to wait for an appointment. The text never tells a person to stop a medicine: it sends
them to the prescriber or a pharmacist instead.
"""

from __future__ import annotations

from typing import List

from bot.rules import PLAIN, RULES, SEROTONIN_SIGNS
from bot.settings import Clinic
from bot.triage import Assessment

DISCLAIMER = "I am an automated tool, not a doctor."

def _signs_for(rule_id: str) -> str:
    """The warning signs that would make this rule's problem an emergency (declared with the rule)."""
    rule = RULES.get(rule_id)
    return rule.escalation if rule is not None and rule.escalation else SEROTONIN_SIGNS


def _reasons(assessment: Assessment, level: str) -> List[str]:
    return [f.reason for f in assessment.red_flags if f.level == level]


def describe(assessment: Assessment, clinic: Clinic) -> str:
    """The message for the person, by level, with the reasons and what to do next."""
    level = assessment.triage_level
    lines: List[str] = []
    if level == "emergency":
        lines.append(
            f"This could be an emergency. Call {clinic.emergency_number} now, or go to the nearest "
            "emergency department. Do not wait for an appointment."
        )
        lines.extend(_reasons(assessment, "emergency"))
        if any(f.id == "RF-SELF-HARM" for f in assessment.red_flags):
            lines.append(
                f"You can also call or text {clinic.crisis_line} any time to talk to someone at the "
                "Suicide and Crisis Lifeline. You are not alone."
            )
        elif any(f.id == "RF-OVERDOSE" for f in assessment.red_flags):
            # an overdose may be self-harm that was not said: the crisis line too, once
            lines.append(
                f"If the medicine was taken to cause harm, you can also call or text {clinic.crisis_line} "
                "any time to talk to someone at the Suicide and Crisis Lifeline."
            )
        lines.append("If you can, bring your medicines or a list of them with you.")
    elif level == "urgent":
        lines.append(
            f"Please talk to your prescriber, call {clinic.name} at {clinic.phone}, or speak to a "
            "pharmacist today."
        )
        lines.extend(_reasons(assessment, "urgent"))
        signs = [_signs_for(f.id) for f in assessment.red_flags if f.level == "urgent"]
        lines.append(
            f"Call {clinic.emergency_number} right away if you get any of these: {'; or '.join(dict.fromkeys(signs))}."
        )
        lines.append("Talk to your prescriber or pharmacist before you change how you take any prescribed medicine.")
    elif level == "routine":
        lines.append(
            f"This should be checked by a neurologist, but it is not urgent. I can help you book an "
            f"appointment with {clinic.name}."
        )
        lines.extend(_reasons(assessment, "routine"))
        if any(f.id.startswith(("COMBO", "RX")) for f in assessment.red_flags):
            lines.append("You can also ask your pharmacist or prescriber about your medicines.")
        signs = [_signs_for(f.id) for f in assessment.red_flags if f.id.startswith(("COMBO", "RX"))]
        if signs:
            lines.append(
                f"Call {clinic.emergency_number} right away if you get any of these: "
                f"{'; or '.join(dict.fromkeys(signs))}."
            )
    else:
        reasons = _reasons(assessment, "self_care")
        lines.append("From what you told me, there is no sign that you need care right now.")
        lines.extend(reasons)
        if any(f.id == "RX-SEDATION" for f in assessment.red_flags):
            lines.append(
                "Do not drive or use machines while you feel drowsy or dizzy. Tell your prescriber how you feel."
            )
        if any(f.id == "COMBO-WEAK" for f in assessment.red_flags):
            lines.append(f"Call {clinic.emergency_number} right away if you get {SEROTONIN_SIGNS}.")
        lines.append(
            f"Gentle stretching and staying active can help. If it keeps happening, gets worse, or worries "
            f"you, call {clinic.name} at {clinic.phone} to book a visit. Call {clinic.emergency_number} "
            "if you have trouble breathing, a seizure, or sudden weakness."
        )
    for flag in assessment.asked:
        lines.append(
            f"{flag.reason} Ask a pharmacist or your prescriber before you take them together. Warning signs "
            f"to call {clinic.emergency_number} for: {_signs_for(flag.id)}."
        )
    for word in assessment.unrecognised:
        lines.append(f"I did not recognise {word}; please confirm the name with a pharmacist.")
    lines.append(DISCLAIMER)
    return "\n".join(lines)


def plain_symptom(feature: str) -> str:
    """A feature name in plain words ("diaphoresis" -> "heavy sweating")."""
    return PLAIN.get(feature, feature.replace("_", " "))
