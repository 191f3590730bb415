"""The synthetic school behind `sspbot demo` and the benchmarks says the same thing everywhere:

- a pupil's census code of need and its broad area agree, by the one mapping in
  models/codes.py (OTH and NSA belong to no area: they are not SEMH, nor cognition and
  learning), on the roster, in the plan's needs and in the counts;
- the numbers the demo prints first are the ones `/ssp caseload` then shows the SENDCo.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlalchemy import select

from bot import cli
from bot.demo.school import create_demo_school
from models import BroadArea, NeedCode, Plan, School
from tests.slack_harness import TODAY, start_app, text_of

OTHER = "Other or not yet assessed"


@pytest.mark.parametrize(("pupils", "seed"), [(60, 1), (240, 7), (600, 2026)])
def test_census_codes_and_broad_areas_agree_on_the_roster_and_in_every_plan(
    db_url, session, pupils, seed
):
    summary = create_demo_school(session, pupils=pupils, seed=seed, today=TODAY)
    session.flush()
    plans = session.scalars(select(Plan)).all()
    uncoded = 0
    for plan in plans:
        pupil = plan.pupil
        for need in plan.needs:
            if need.census_code is not None:
                # A code on a plan is always in its own area, and never OTH or NSA.
                assert need.census_code.broad_area == need.broad_area, (plan.id, need.census_code)
        (primary,) = [n for n in plan.needs if n.is_primary]
        if pupil.primary_need.broad_area is None:
            # OTH / NSA: the plan describes the need without claiming an area for the code.
            assert primary.census_code is None
            uncoded += 1
        else:
            assert primary.census_code == pupil.primary_need
            assert primary.broad_area == pupil.primary_need.broad_area
        # Every code on the plan is one the roster gives the pupil, and the roster's
        # secondary need is on the plan.
        coded = {n.census_code for n in plan.needs if n.census_code is not None}
        assert coded <= {pupil.primary_need, pupil.secondary_need}
        if pupil.secondary_need is not None:
            assert pupil.secondary_need in coded
    if pupils >= 600:
        assert uncoded, "a school this size has pupils with OTH or NSA plans"

    # The summary counts plans by the roster's code through the same mapping.
    open_plans = [p for p in plans if p.status.value != "closed"]
    areas = Counter(p.pupil.primary_need.broad_area for p in open_plans)
    expected = [(a.label, areas[a]) for a in BroadArea if areas[a]]
    expected += [(OTHER, areas[None])] if areas[None] else []
    assert summary.plans_by_area == expected
    assert {code for code in NeedCode if code.broad_area is None} == {NeedCode.OTH, NeedCode.NSA}


def caseload_numbers(text: str) -> dict:
    totals = re.search(
        r"(\d+) open\s+·\s+(\d+) reviews\s+due\s+soon\s+·\s+(\d+) overdue\s+·\s+(\d+) "
        r"awaiting\s+quality\s+assurance",
        text,
    )
    unassigned = re.search(r"No case holder\W+(\d+) plans?", text)
    return {
        "open": int(totals[1]),
        "due_soon": int(totals[2]),
        "overdue": int(totals[3]),
        "qa": int(totals[4]),
        "no_case_holder": int(unassigned[1]) if unassigned else 0,
        "areas": {
            label: int(n)
            for label, n in re.findall(
                r"^\s*(" + "|".join([a.label for a in BroadArea] + [OTHER]) + r"): (\d+)$",
                text,
                re.MULTILINE,
            )
        },
    }


def header_numbers(header: str) -> dict:
    reviews = re.search(
        r"Reviews: (\d+) overdue, (\d+) due in the next 14 days; (\d+) plans? awaiting quality",
        header,
    )
    areas = re.search(r"Plans by area of primary need: ([^.]*)\.", header)[1]
    labels = {a.label.lower(): a.label for a in BroadArea} | {OTHER.lower(): OTHER}
    return {
        "open": int(re.search(r"(\d+) pupils have an SEN Support Plan", header)[1]),
        "due_soon": int(reviews[2]),
        "overdue": int(reviews[1]),
        "qa": int(reviews[3]),
        "no_case_holder": int(re.search(r"(\d+) plans? ha(?:s|ve) no case holder", header)[1]),
        "areas": {
            labels[label]: int(n) for label, n in re.findall(r"([a-z/, ]+?) (\d+)(?:, |$)", areas)
        },
    }


@pytest.mark.parametrize(("pupils", "seed"), [(150, 3), (1200, 2026)])
def test_the_demos_header_counts_are_what_ssp_caseload_shows(
    db_url, sessions, emulator, clock, pupils, seed
):
    emulator.reset()
    with sessions.begin() as session:
        summary = create_demo_school(session, pupils=pupils, seed=seed, today=TODAY)
        school = session.scalars(select(School)).one()
        school.slack_team_id = emulator.team_id
    emulator.add_user(summary.sendco.slack_user_id, real_name=summary.sendco.name)
    app = start_app(emulator, sessions, clock=clock)
    try:
        shown = text_of(app.ask(summary.sendco.slack_user_id, "caseload"))
    finally:
        app.server.stop()
    from_caseload = caseload_numbers(shown)
    assert header_numbers(summary.render()) == from_caseload
    assert from_caseload["overdue"] and from_caseload["due_soon"] and from_caseload["qa"]
    assert from_caseload["no_case_holder"]


def test_sspbot_demo_prints_the_counts_its_own_caseload_then_shows(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["demo", "--pupils", "150", "--seed", "11"]) == 0
    out = capsys.readouterr().out
    header = out.split("Connected to Slack workspace")[0]
    caseload = out.split("types  /ssp caseload")[1].split("types  /ssp overdue")[0]
    # The tour prints blocks as a person reads them: strip its "│" gutter and wrapping.
    caseload = "\n".join(line.split("│", 1)[-1].strip() for line in caseload.splitlines())
    assert header_numbers(" ".join(header.split())) == caseload_numbers(caseload)
