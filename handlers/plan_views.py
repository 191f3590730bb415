"""The plan's modal views as handlers.plan_editor draws them, for the other features whose work
changes what they show (handlers.attachments: a file attached from the plan's Reports).

Feature listener modules stay independent of each other (pyproject, import-linter): the plan
editor provides its drawing here when it registers, and the others ask for it here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

# (runtime, viewer, pupil id, today, list_page) -> (overview, Reports list), or None when the
# viewer may no longer change the plan.
Reports = Callable[..., "tuple[dict, dict] | None"]
_reports: Reports | None = None


def provide_reports(draw: Reports) -> None:
    global _reports
    _reports = draw


def fresh_reports(
    runtime: Any, viewer: Any, pupil_id: Any, today: date, *, list_page: int = 1
) -> tuple[dict, dict] | None:
    """The plan's overview and its Reports list as they are now; None when the plan editor is
    not registered or the viewer may no longer change the plan."""
    if _reports is None:
        return None
    return _reports(runtime, viewer, pupil_id, today, list_page=list_page)
