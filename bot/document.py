"""The words of the plan as a document families can read: labels for codes, dates as written in
England. Rendered by bot.render's one environment, which escapes every value in `.html.j2`.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

from bot import render

# Words a family reads for the codes the database stores. A code missing here still reads as
# words ("phone_call" -> "Phone call"), so a new code never breaks a document.
LABELS: dict[str, str] = {
    # SenStage
    "N": "No SEN",
    "K": "SEN Support",
    "E": "Education, Health and Care plan (EHCP)",
    # TargetStatus
    "open": "In progress",
    "achieved": "Achieved",
    "partly_achieved": "Partly achieved",
    "not_yet_achieved": "Not yet achieved",
    "discontinued": "Stopped",
    # TargetResult
    "partly": "Partly achieved",
    "not_yet": "Not yet achieved",
    # LinkedPlanKind
    "health_care": "Health care plan",
    "intimate_care": "Intimate care plan",
    "behaviour_support": "Behaviour support plan",
    "risk_assessment": "Risk assessment",
    "personal_education": "Personal Education Plan (PEP)",
    "family_networking": "Family networking plan",
    "early_help": "Early Help plan",
    "ehc_plan": "Education, Health and Care plan (EHCP)",
    "other": "Other plan",
    # TimelineKind
    "meeting": "Meeting",
    "phone_call": "Phone call",
    "email": "Email",
    "letter": "Letter",
    "note": "Staff note",
    "plan_change": "Plan changed",
    "review": "Review",
    "assignment": "Case holder",
    # AdjustmentKind
    "in_class": "In class",
    "access_arrangement": "Access arrangement",
    # NeedSource
    "assessment": "Assessment",
    "observation": "Observation",
    "report": "Report",
    "indes": "INDES descriptors",
    "ehcp": "EHCP",
    "family": "Family",
}


def render_html(name: str, **context: Any) -> str:
    """Renders an `.html.j2` template with every value HTML-escaped (autoescape on)."""
    return render.render_html(name, **context)


def long_date(value: date | datetime | None) -> str:
    """A date as people in England write it: 3 December 2026."""
    return f"{value.day} {value:%B %Y}" if value else "not set"


def label(value: Any) -> str:
    """A code (an enum member or its value) in the words a family reads."""
    code = value.value if isinstance(value, Enum) else str(value)
    return LABELS.get(code) or code.replace("_", " ").capitalize()


def yes_no(value: bool) -> str:
    return "Yes" if value else "No"


# The document's templates read codes and dates in these words: lent to the one environment once,
# rather than on every render.
render.add_filters(long_date=long_date, label=label, yes_no=yes_no)
