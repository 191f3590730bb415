"""Previous and Next on page 2 of 3, through the signed endpoint, against an emulator that refuses
what real Slack refuses (two buttons with one action_id in a block): from the middle page on,
paging must still work."""

from __future__ import annotations

from datetime import timedelta

from models import Plan, PlanStatus, Pupil, SenStage, Staff, StaffRole
from tests.slack_harness import RESPONSE_URL, TODAY, buttons_of, text_of
from tests.test_plan_editor import add_strategies, click, modal_text, open_plan


def add_pupils(slack, n: int, *, plans: bool, holders: bool = False) -> None:
    with slack.sessions.begin() as session:
        for i in range(n):
            pupil = Pupil(
                school_id=slack.ids["school"],
                upn=f"C8201234{i:05d}",
                first_name=f"Pupil{i:02d}",
                last_name="Paged",
                year_group=8,
                date_of_birth=TODAY - timedelta(days=13 * 365),
                sen_stage=SenStage.SEN_SUPPORT,
            )
            session.add(pupil)
            if not plans:
                continue
            holder_id = slack.ids["tom"]
            if holders:
                holder = Staff(
                    school_id=slack.ids["school"],
                    email=f"holder{i:02d}@brookside.example.org",
                    first_name=f"Holder{i:02d}",
                    last_name="Paged",
                )
                holder.set_roles({StaffRole.CASE_HOLDER})
                session.add(holder)
                session.flush()
                holder_id = holder.id
            session.add(
                Plan(
                    school_id=slack.ids["school"],
                    pupil=pupil,
                    status=PlanStatus.ACTIVE,
                    case_holder_id=holder_id,
                    review_date=TODAY - timedelta(days=30 + i),
                )
            )


def page_through(slack, user: str, first: dict) -> None:
    """Next to page 2 of 3, Next to page 3, Previous back to 2: each answer reaches Slack."""
    assert "page 1 of 3" in text_of(first).lower()
    pager = {b["text"]["text"]: b for b in buttons_of(first) if b["text"]["text"] in ("Next",)}
    second = slack.click(user, pager["Next"]["action_id"], pager["Next"]["value"])
    assert "page 2 of 3" in text_of(second).lower()
    labels = {b["text"]["text"]: b for b in buttons_of(second)}
    assert {"Previous", "Next"} <= set(labels)
    third = slack.click(user, labels["Next"]["action_id"], labels["Next"]["value"])
    assert "page 3 of 3" in text_of(third).lower()
    back = {b["text"]["text"]: b for b in buttons_of(third)}["Previous"]
    again = slack.click(user, back["action_id"], back["value"])
    assert "page 2 of 3" in text_of(again).lower()
    refused = [c for c in slack.emulator.calls if c.method == RESPONSE_URL and c.http_status != 200]
    assert refused == []


def test_the_overdue_list_pages_from_the_middle_page(slack):
    add_pupils(slack, 35, plans=True)
    page_through(slack, "U0SENDCO", slack.ask("U0SENDCO", "overdue"))


def test_the_school_caseload_pages_from_the_middle_page(slack):
    add_pupils(slack, 45, plans=True, holders=True)
    page_through(slack, "U0SLT", slack.ask("U0SLT", "caseload"))


def test_the_priority_list_pages_from_the_middle_page(slack):
    add_pupils(slack, 35, plans=False)
    page_through(slack, "U0SENDCO", slack.ask("U0SENDCO", "priority"))


def test_a_plan_section_pages_from_the_middle_page(slack):
    add_strategies(slack, 45)
    overview = open_plan(slack, "U0PRIYA", "plan Ava Stone")
    entries = click(slack, "U0PRIYA", overview, "plan_open_section", "adjustments")
    assert "page 1 of 3" in modal_text(entries)

    def pager_button(view: dict, label: str) -> dict:
        return next(
            e
            for b in view["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if e["text"]["text"] == label
        )

    nxt = pager_button(entries, "Next")
    second = click(slack, "U0PRIYA", entries, nxt["action_id"], nxt["value"])
    assert "page 2 of 3" in modal_text(second)
    nxt = pager_button(second, "Next")
    updates = len(slack.emulator.calls_to("views.update"))
    third = click(slack, "U0PRIYA", second, nxt["action_id"], nxt["value"])
    assert slack.emulator.calls_to("views.update")[updates].ok
    assert "page 3 of 3" in modal_text(third) and "Strategy number 44" in modal_text(third)
    previous = pager_button(third, "Previous")
    back = click(slack, "U0PRIYA", third, previous["action_id"], previous["value"])
    assert "page 2 of 3" in modal_text(back)
    assert all(c.ok for c in slack.emulator.calls_to("views.update"))


def test_a_next_button_sent_before_the_pager_had_two_action_ids_still_pages(slack):
    # Messages already in Slack carry one "ssp_page" button; it must keep working.
    add_pupils(slack, 35, plans=True)
    first = slack.ask("U0SENDCO", "overdue")
    value = next(b["value"] for b in buttons_of(first) if b["text"]["text"] == "Next")
    assert "page 2 of 3" in text_of(slack.click("U0SENDCO", "ssp_page", value)).lower()
