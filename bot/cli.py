"""`sspbot`: the one entry point. Every failure a user can cause ends in one clear line."""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Callable, Sequence
from datetime import date
from functools import cached_property, partial
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot import db
from bot.config import ConfigError, Settings
from bot.errors import UserError

Command = Callable[[argparse.Namespace, "Context"], int]


class Context:
    """What a command needs, made on first use so `sspbot --help` touches nothing."""

    def __init__(self, settings_loader: Callable[[], Settings] = Settings.from_env) -> None:
        self._settings_loader = settings_loader

    @cached_property
    def settings(self) -> Settings:
        return self._settings_loader()

    @cached_property
    def engine(self) -> Engine:
        return db.make_engine(self.settings.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        """Sessions on an up-to-date schema: upgrades the database first if it is behind."""
        if db.upgrade(self.engine):
            print(f"Database at {db.describe(self.engine)} brought up to date.", file=sys.stderr)
        return db.make_session_factory(self.engine)

    def unit_of_work(self):
        return db.unit_of_work(self.sessions)


def main(argv: Sequence[str] | None = None, context: Context | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    context = context or Context()
    try:
        return args.run(args, context)
    except (ConfigError, UserError, db.DatabaseUnavailable) as error:
        print(f"sspbot: {error}", file=sys.stderr)
        return 1 if not isinstance(error, ConfigError) else 2
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        # The database went away or stopped answering part-way (it answered at the start):
        # one line, as for the other failures a person can do something about.
        if not db.is_unavailable(error):
            raise
        print(
            f"sspbot: lost the database part-way: {db.unavailable_reason(error)}. "
            "Check that it is running, then run the command again.",
            file=sys.stderr,
        )
        return 1


# --- commands -------------------------------------------------------------------------------


def db_upgrade(args: argparse.Namespace, ctx: Context) -> int:
    if db.upgrade(ctx.engine):
        print(f"Upgraded {db.describe(ctx.engine)} to schema {db.head_revision()}.")
    else:
        print(f"{db.describe(ctx.engine)} is already at the latest schema ({db.head_revision()}).")
    return 0


def db_current(args: argparse.Namespace, ctx: Context) -> int:
    current = db.current_revision(ctx.engine)
    head = db.head_revision()
    if current == head:
        print(f"Schema {current}: up to date.")
    else:
        print(f"Schema {current or 'empty'}; latest is {head}. Run `sspbot db upgrade`.")
    return 0


def school_add(args: argparse.Namespace, ctx: Context) -> int:
    from bot.services.schools import add_school

    with ctx.unit_of_work() as session:
        school = add_school(
            session, args.name, slack_team_id=args.slack_team, timezone=args.timezone
        )
        bound = f", Slack workspace {school.slack_team_id}" if school.slack_team_id else ""
        print(f"Added {school.name} ({school.timezone}{bound}).")
    return 0


def school_set(args: argparse.Namespace, ctx: Context) -> int:
    from bot.services.schools import clock, find_school, parse_school_hours, update_school

    starts, ends = parse_school_hours(args.school_hours) if args.school_hours else (None, None)
    with ctx.unit_of_work() as session:
        school = update_school(
            session,
            find_school(session, args.name),
            timezone=args.timezone,
            slack_team_id=args.slack_team,
            pupil_display=args.pupil_display,
            review_notice_school_days=args.review_notice_days,
            review_interval_school_days=args.review_interval_days,
            school_day_starts=starts,
            school_day_ends=ends,
        )
        if args.retention_years is not None:
            from bot.services.retention import set_years

            set_years(school, args.retention_years)
        print(
            f"{school.name}: time zone {school.timezone}, Slack workspace "
            f"{school.slack_team_id or 'not yet linked'}, pupils named in Slack messages by "
            f"{'initials' if school.pupil_display.value == 'initials' else 'name'}.\n"
            f"School hours {clock(school.school_day_starts)} to {clock(school.school_day_ends)}; "
            f"review prompt {school.review_notice_school_days} school days before the review "
            f"date; next review proposed {school.review_interval_school_days} school days after "
            f"a review. Records destroyed at date of birth + {school.retention_years} years, "
            "once the pupil has left (`sspbot retention`)."
        )
    return 0


def retention(args: argparse.Namespace, ctx: Context) -> int:
    from datetime import UTC, datetime

    from bot.services import retention as rules
    from bot.services.schools import find_school

    today = date.fromisoformat(args.today) if args.today else date.today()
    with ctx.unit_of_work() as session:
        school = find_school(session, args.school)
        if args.hold or args.release:
            if args.hold and args.release:
                raise UserError("Use --hold or --release, not both.")
            if args.release:
                pupil = rules.release(session, school, args.release)
                print(f"UPN {pupil.upn}: legal hold lifted; the retention rule applies again.")
            else:
                pupil = rules.hold(session, school, args.hold, args.reason or "", today)
                print(f"UPN {pupil.upn}: under legal hold; retention will skip these records.")
            return 0
        if args.apply:
            report = rules.apply(
                session,
                school,
                today,
                now=datetime.now(UTC),
                run_by=f"cli:{_who()}",
            )
        else:
            report = rules.review(session, school, today)
        print("\n".join(report.lines()))
    return 0


def subject_access(args: argparse.Namespace, ctx: Context) -> int:
    from datetime import UTC, datetime

    from bot.services import sar
    from bot.services.schools import find_school

    if bool(args.upn) == bool(args.staff):
        raise UserError("Give a pupil's UPN, or --staff EMAIL for a member of staff (one of them).")
    with ctx.unit_of_work() as session:
        school = find_school(session, args.school)
        out, now = Path(args.out).expanduser(), datetime.now(UTC)
        key = ctx.settings.attachment_key
        if args.staff:
            result = sar.staff_archive(
                session, school, args.staff, out, now=now, attachment_key=key
            )
        else:
            result = sar.pupil_archive(session, school, args.upn, out, now=now, attachment_key=key)
        print("\n".join(result.lines()))
    return 0


def _who() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def school_list(args: argparse.Namespace, ctx: Context) -> int:
    from bot.services.schools import list_schools

    with ctx.unit_of_work() as session:
        schools = list_schools(session)
        if not schools:
            print("No schools yet. Add one with `sspbot school add NAME`.")
        for school in schools:
            team = school.slack_team_id or "not yet linked to Slack"
            print(f"{school.name}\t{school.timezone}\t{team}")
    return 0


def import_roster(args: argparse.Namespace, ctx: Context) -> int:
    from bot.services.roster import import_csv

    return _import_file(args, ctx, partial(import_csv, kind=args.kind))


def import_terms(args: argparse.Namespace, ctx: Context) -> int:
    from bot.services.calendar import import_terms_csv

    return _import_file(args, ctx, import_terms_csv)


def import_provision(args: argparse.Namespace, ctx: Context) -> int:
    from bot.services.provision_library import import_provision_csv

    return _import_file(args, ctx, import_provision_csv)


def _import_file(args: argparse.Namespace, ctx: Context, run: Callable) -> int:
    """Imports the file `args.file` into `args.school` with `run(session, school, path=...,
    today=...)`, in one transaction, and prints the result's summary."""
    from bot.services.schools import find_school

    path = Path(args.file)
    if not path.is_file():
        raise UserError(f"There is no file at {path}.")
    with ctx.unit_of_work() as session:
        school = find_school(session, args.school)
        print(run(session, school, path=path, today=date.today()).summary())
    return 0


def sync_m365(args: argparse.Namespace, ctx: Context) -> int:
    from datetime import UTC, datetime

    from bot.services.m365 import sync_m365 as sync
    from handlers.slack_api import link_synced_staff

    now = datetime.now(UTC)
    result = sync(
        ctx.sessions, ctx.settings, now=now, school_name=args.school, dry_run=args.dry_run
    )
    link_synced_staff(ctx.sessions, ctx.settings, result, now)
    for line in result.lines():
        print(line)
    return 0


def demo_data(args: argparse.Namespace, ctx: Context) -> int:
    from bot.demo.school import create_demo_school

    with ctx.unit_of_work() as session:
        summary = create_demo_school(
            session, name=args.school, seed=args.seed, pupils=args.pupils, today=date.today()
        )
        print(summary.render())
    return 0


def serve(args: argparse.Namespace, ctx: Context) -> int:
    from handlers.app import create_app, workspaces_of
    from handlers.server import (
        HttpServer,
        link_staff_in_background,
        link_workspace,
        socket_mode_handler,
    )

    settings = ctx.settings
    needed = ["SLACK_APP_TOKEN" if args.socket_mode else "SLACK_SIGNING_SECRET"]
    if not settings.oauth:
        needed.insert(0, "SLACK_BOT_TOKEN")
    try:
        settings.require(*needed)
    except ConfigError as error:
        print(f"sspbot: {error}", file=sys.stderr)
        print("To see SSP Bot work without a Slack workspace, run `sspbot demo`.", file=sys.stderr)
        return 2
    _configure_logging(settings.log_level)
    app = create_app(settings, session_factory=ctx.sessions, socket_mode=args.socket_mode)
    workspaces = workspaces_of(app)
    if settings.oauth:
        _describe_installs(ctx, workspaces)
        _link_everywhere_in_background(ctx, workspaces)
    else:
        workspace = link_workspace(app, ctx.sessions)
        print(workspace.describe(), flush=True)
        link_staff_in_background(app, ctx.sessions, workspace)
    if settings.scheduler:
        import threading
        from datetime import UTC, datetime

        from handlers.scheduler import run_every_minute

        nightly = None
        if settings.m365_sync_at is not None:
            from bot.services.m365 import NightlySync
            from handlers.slack_api import link_synced_staff

            nightly = NightlySync(
                ctx.sessions,
                settings,
                after_sync=partial(
                    link_synced_staff, ctx.sessions, settings, workspaces=workspaces
                ),
            )
        run_every_minute(
            ctx.sessions, workspaces, lambda: datetime.now(UTC), threading.Event(), nightly=nightly
        )
        print(
            "Sending prompts and reminders every minute (SSPBOT_SCHEDULER=off to use "
            "`sspbot tick` from cron instead).",
            flush=True,
        )
        if nightly is not None:
            print(
                f"Syncing the roster from Microsoft 365 every night at "
                f"{settings.m365_sync_at:%H:%M} (M365_SYNC_AT), school time.",
                flush=True,
            )
    if args.socket_mode:
        # Slack's side comes over the socket; families' pages and staff's download links are
        # still opened in a browser, so they are served on PORT (without /slack/events).
        pages = HttpServer(app, host=args.host, port=settings.port, web_only=True).start()
        print(
            f"Serving the families' pages and download links on http://{args.host}:{pages.port}/ "
            "(PUBLIC_URL should reach this, through the school's HTTPS reverse proxy).",
            flush=True,
        )
        print("Listening to Slack over Socket Mode. Press Ctrl+C to stop.", flush=True)
        socket_mode_handler(app, settings.slack_app_token).start()
    else:
        server = HttpServer(app, host=args.host, port=settings.port)
        print(
            f"Listening on http://{args.host}:{server.port}/slack/events. Ctrl+C stops.", flush=True
        )
        server.run_forever()
    return 0


def _describe_installs(ctx: Context, workspaces) -> None:
    """OAuth mode: which schools' workspaces have SSP Bot installed, and where to install it."""
    from sqlalchemy import select

    from models import School

    installed = set(workspaces.installed_teams())
    with ctx.sessions() as session:
        schools = session.execute(
            select(School.name, School.slack_team_id).order_by(School.name)
        ).all()
    print(
        "One install per Slack workspace (SLACK_CLIENT_ID): each school's workspace installs "
        "SSP Bot from https://<this server>/slack/install.",
        flush=True,
    )
    for name, team_id in schools:
        if team_id is None:
            state = (
                "no Slack workspace yet: name it with "
                f'`sspbot school set "{name}" --slack-team T…`, then install'
            )
        elif team_id in installed:
            state = f"installed in Slack workspace {team_id}"
        else:
            state = f"Slack workspace {team_id}, not installed there yet"
        print(f"  {name}: {state}", flush=True)


def _link_everywhere_in_background(ctx: Context, workspaces) -> None:
    import threading
    from datetime import UTC, datetime

    from handlers.workspaces import link_staff_everywhere

    log = logging.getLogger("handlers.workspaces")

    def run() -> None:
        try:
            for line in link_staff_everywhere(ctx.sessions, workspaces, datetime.now(UTC)):
                log.info(line)
        except Exception:  # noqa: BLE001 - people are matched on their first request anyway
            log.exception("matching staff to Slack accounts failed")

    threading.Thread(target=run, name="link-staff", daemon=True).start()


def demo_tour(args: argparse.Namespace, ctx: Context) -> int:
    from bot.demo.tour import run_tour

    return run_tour(sys.stdout, pupils=args.pupils, seed=args.seed)


def tick(args: argparse.Namespace, ctx: Context) -> int:
    from datetime import UTC, datetime

    from handlers.scheduler import sweep
    from handlers.workspaces import workspaces_for

    if args.now:
        try:
            now = datetime.fromisoformat(args.now)
        except ValueError:
            raise UserError(
                f"--now {args.now!r} is not an ISO 8601 time, e.g. 2026-11-23T09:00:00+00:00."
            ) from None
        now = now if now.tzinfo else now.replace(tzinfo=UTC)
    else:
        now = datetime.now(UTC)
    # SLACK_BOT_TOKEN's one workspace, or each school's install (SLACK_CLIENT_ID).
    workspaces = workspaces_for(ctx.settings, ctx.engine)
    for line in sweep(ctx.sessions, workspaces, now):
        print(line)
    return 0


def show_config(args: argparse.Namespace, ctx: Context) -> int:
    width = max(len(name) for name, _ in ctx.settings.describe())
    for name, shown in ctx.settings.describe():
        print(f"{name.ljust(width)}  {shown}")
    return 0


# --- argument parsing -----------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sspbot",
        description="SSP Bot: SEN Support Plans, reviews and monitoring for schools, in Slack.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    database = _group(commands, "db", "Manage the database schema.")
    _command(database, "upgrade", db_upgrade, "Bring the database to the latest schema.")
    _command(database, "current", db_current, "Show the database's schema version.")

    school = _group(commands, "school", "Add and list schools.")
    add = _command(school, "add", school_add, "Add a school.")
    add.add_argument("name", metavar="NAME", help="the school's name, e.g. 'Oakfield Academy'")
    add.add_argument("--slack-team", metavar="TEAM_ID", help="its Slack workspace id (T…)")
    add.add_argument("--timezone", default="Europe/London", help="default: Europe/London")
    _command(school, "list", school_list, "List schools.")
    settings = _command(school, "set", school_set, "Change a school's settings.")
    settings.add_argument("name", metavar="NAME", help="the school")
    settings.add_argument("--timezone", help="e.g. Europe/London")
    settings.add_argument("--slack-team", metavar="TEAM_ID", help="its Slack workspace id (T…)")
    settings.add_argument(
        "--pupil-display",
        choices=("name", "initials"),
        help="how messages in Slack name pupils (forms and private replies always show names)",
    )
    settings.add_argument(
        "--review-notice-days",
        type=int,
        metavar="N",
        help="school days before a review date that the case holder is prompted (1 to 60)",
    )
    settings.add_argument(
        "--review-interval-days",
        type=int,
        metavar="N",
        help="school days from one review to the next, as proposed after a review (5 to 195)",
    )
    settings.add_argument(
        "--school-hours",
        metavar="HH:MM-HH:MM",
        help="when prompts may go out on school days, local time, e.g. 08:30-16:00",
    )
    settings.add_argument(
        "--retention-years",
        type=int,
        metavar="N",
        help="destroy a pupil's records at date of birth + N years, once left (default 31)",
    )

    imports = _group(
        commands, "import", "Import a roster CSV exported from the school MIS, or term dates."
    )
    for kind, what in (
        ("staff", "staff: email, names, roles"),
        ("pupils", "pupils: UPN, names, year, SEN stage and needs"),
        ("classes", "classes: class code, subject, teachers, pupils"),
    ):
        sub = _command(imports, kind, import_roster, f"Import {what}.")
        sub.add_argument("file", metavar="FILE", help="a CSV file (see README for the columns)")
        sub.add_argument("--school", metavar="NAME", help="which school (if there are several)")
        sub.set_defaults(kind=kind)
    terms = _command(
        imports, "terms", import_terms, "Import term dates and closure days (replaces them all)."
    )
    terms.add_argument("file", metavar="FILE", help="kind,name,start_date,end_date (see README)")
    terms.add_argument("--school", metavar="NAME", help="which school (if there are several)")
    provision = _command(
        imports,
        "provision",
        import_provision,
        "Import the school's provision library (adds, or updates by name).",
    )
    provision.add_argument(
        "file", metavar="FILE", help="name,area_of_need,tier,... (see README for the columns)"
    )
    provision.add_argument("--school", metavar="NAME", help="which school (if there are several)")

    sync = _group(commands, "sync", "Sync the roster from elsewhere.")
    m365 = _command(
        sync,
        "m365",
        sync_m365,
        "Sync staff, pupils and classes from Microsoft 365 (School Data Sync, via Graph).",
    )
    m365.add_argument(
        "--dry-run", action="store_true", help="say what would change, and write nothing"
    )
    m365.add_argument("--school", metavar="NAME", help="which school (default: M365_SCHOOL)")

    demo = _command(
        commands, "demo-data", demo_data, "Create a synthetic secondary school to try SSP Bot on."
    )
    demo.add_argument("--school", default="Oakfield Academy (demo)", metavar="NAME")
    demo.add_argument("--seed", type=int, default=2026, help="same seed, same school")
    demo.add_argument("--pupils", type=int, default=1200, help="pupils on roll (default 1200)")

    tour = _command(
        commands,
        "demo",
        demo_tour,
        "See SSP Bot work with no Slack workspace: the real app, an emulated Slack, a guided tour.",
    )
    tour.add_argument("--pupils", type=int, default=1200, help="size of the synthetic school")
    tour.add_argument("--seed", type=int, default=2026, help="same seed, same school")

    serve_parser = _command(
        commands, "serve", serve, "Run the Slack app (HTTP on PORT, or --socket-mode)."
    )
    serve_parser.add_argument(
        "--socket-mode",
        action="store_true",
        help="connect out to Slack over Socket Mode (no public URL needed; needs SLACK_APP_TOKEN)",
    )
    serve_parser.add_argument("--host", default="0.0.0.0", help="address to listen on (HTTP)")

    tick_parser = _command(
        commands,
        "tick",
        tick,
        "One sweep: queue reminders that are due and send the prompts owed (for cron).",
    )
    tick_parser.add_argument("--now", metavar="ISO-8601", help="pretend it is this time")

    keep = _command(
        commands,
        "retention",
        retention,
        "List the pupils' records due for destruction under the school's retention rule "
        "(a dry run); --apply destroys them.",
    )
    keep.add_argument("--school", metavar="NAME", help="which school (if there are several)")
    keep.add_argument("--apply", action="store_true", help="destroy what is due (not a dry run)")
    keep.add_argument("--hold", metavar="UPN", help="put a pupil's records under legal hold")
    keep.add_argument("--reason", help="why they are held (with --hold)")
    keep.add_argument("--release", metavar="UPN", help="lift a pupil's legal hold")
    keep.add_argument("--today", metavar="YYYY-MM-DD", help=argparse.SUPPRESS)

    sar = _command(
        commands,
        "sar",
        subject_access,
        "Answer a subject access request: write everything held about a pupil (by UPN) or a "
        "member of staff (--staff EMAIL) as one archive.",
    )
    sar.add_argument("upn", metavar="UPN", nargs="?", help="the pupil's UPN")
    sar.add_argument("--staff", metavar="EMAIL", help="a member of staff instead of a pupil")
    sar.add_argument("--out", metavar="FILE", required=True, help="the archive to write (.zip)")
    sar.add_argument("--school", metavar="NAME", help="which school (if there are several)")

    _command(commands, "config", show_config, "Show the settings in use (secrets hidden).")
    return parser


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class PrivateFormatter(logging.Formatter):
    """Log lines as usual, but a traceback shows where it failed (file, line, function) and
    the exception's type, never the exception's message or the source lines: a message can
    quote data (a KeyError's key, a PostgreSQL DETAIL naming the clashing UPN, a template
    value), and logs must carry no pupil data at any level."""

    def formatException(self, ei) -> str:
        chain, error, seen = [], ei[1], set()
        while error is not None and id(error) not in seen:
            seen.add(id(error))
            chain.append(error)
            error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
        lines = []
        for n, exc in enumerate(reversed(chain)):
            if n:
                lines.append("which led to:")
            lines.append("Traceback (most recent call last):")
            lines += [
                f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}'
                for frame in traceback.extract_tb(exc.__traceback__)
            ]
            kind = type(exc)
            lines.append(
                f"{kind.__module__}.{kind.__qualname__} (message withheld: it may quote data)"
            )
        return "\n".join(lines)


def _configure_logging(level: str) -> None:
    # Message texts and payloads are never logged: they can hold pupils' names. Slack's libraries
    # and SQLAlchemy are held back where they are made (handlers.app, bot.db).
    handler = logging.StreamHandler()
    handler.setFormatter(PrivateFormatter(LOG_FORMAT))
    logging.basicConfig(level=level, handlers=[handler])


def _group(commands, name: str, help_text: str):
    parser = commands.add_parser(name, help=help_text, description=help_text)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    parser.set_defaults(run=lambda args, ctx: (parser.print_help(), 2)[1])
    return sub


def _command(commands, name: str, run: Command, help_text: str) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=help_text, description=help_text)
    parser.set_defaults(run=run)
    return parser
