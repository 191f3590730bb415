"""Schools: the tenants. A trust can run several schools in one database."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.errors import UserError
from models import PupilDisplay, School


def add_school(
    session: Session,
    name: str,
    *,
    slack_team_id: str | None = None,
    timezone: str = "Europe/London",
) -> School:
    """Creates a school. Raises UserError if the name or Slack team is already taken."""
    name = " ".join(name.split())
    if not name:
        raise UserError("A school needs a name.")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(
            f"{timezone!r} is not a time zone name: use one like Europe/London."
        ) from None
    if session.scalar(select(School).where(func.lower(School.name) == name.lower())):
        raise UserError(f"There is already a school called {name!r}.")
    if slack_team_id:
        owner = session.scalar(select(School).where(School.slack_team_id == slack_team_id))
        if owner:
            raise UserError(f"Slack workspace {slack_team_id} already belongs to {owner.name!r}.")
    school = School(name=name, slack_team_id=slack_team_id or None, timezone=timezone)
    session.add(school)
    session.flush()
    return school


def update_school(
    session: Session,
    school: School,
    *,
    timezone: str | None = None,
    slack_team_id: str | None = None,
    pupil_display: str | None = None,
) -> School:
    """Changes a school's settings; raises UserError for a bad value or a taken workspace."""
    if timezone is not None:
        _check_timezone(timezone)
        school.timezone = timezone
    if slack_team_id is not None:
        owner = session.scalar(select(School).where(School.slack_team_id == slack_team_id))
        if owner is not None and owner.id != school.id:
            raise UserError(f"Slack workspace {slack_team_id} already belongs to {owner.name!r}.")
        school.slack_team_id = slack_team_id
    if pupil_display is not None:
        try:
            school.pupil_display = PupilDisplay(pupil_display)
        except ValueError:
            raise UserError("--pupil-display is `name` or `initials`.") from None
    session.flush()
    return school


def list_schools(session: Session) -> list[School]:
    return list(session.scalars(select(School).order_by(School.name)))


def find_school(session: Session, name: str | None) -> School:
    """The school named (any letter case), or the only school when no name is given.

    Raises UserError saying which schools exist when the choice is missing or ambiguous.
    """
    schools = list_schools(session)
    if not schools:
        raise UserError(
            "There is no school yet: add one with `sspbot school add NAME` "
            "(or try `sspbot demo-data` for a synthetic one)."
        )
    if name is None:
        if len(schools) == 1:
            return schools[0]
        names = ", ".join(repr(s.name) for s in schools)
        raise UserError(
            f"There are {len(schools)} schools ({names}): say which with --school NAME."
        )
    wanted = " ".join(name.split()).lower()
    for school in schools:
        if school.name.lower() == wanted:
            return school
    names = ", ".join(repr(s.name) for s in schools)
    raise UserError(f"There is no school called {name!r}. Schools: {names}.")


def bind_workspace(session: Session, team_id: str) -> School | None:
    """The school for a Slack workspace, binding it if exactly one school has no workspace yet.

    A single-school install then needs no team id: the bot's own workspace (from `auth.test`)
    claims the one unbound school the first time the bot starts. Returns None when the
    workspace belongs to no school and cannot claim one.
    """
    school = session.scalar(select(School).where(School.slack_team_id == team_id))
    if school is not None:
        return school
    unbound = list(session.scalars(select(School).where(School.slack_team_id.is_(None)).limit(2)))
    if len(unbound) != 1:
        return None
    unbound[0].slack_team_id = team_id
    session.flush()
    return unbound[0]


def _check_timezone(timezone: str) -> None:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(
            f"{timezone!r} is not a time zone name: use one like Europe/London."
        ) from None
