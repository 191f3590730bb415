"""The provision map for governors and the local authority: a CSV file and a printable document
(HTML, and PDF through WeasyPrint as bot.services.plan_pdf lays out the plan).

Figures only, no pupil: the export leaves the school (governors' papers, the local authority),
and a governor's or an officer's question about provision is answered by numbers; a pupil's
name next to an intervention says they have SEN, which their plan's sharing consent governs,
not the map. The SENDCo sees the pupils in Slack (`/ssp provision`, "Pupils").

CSV: one table, one row per intervention, then one per year group, one per area of need and a
total; the `section` column says which (README "The provision map" lists the columns). Every
cell that a spreadsheet could read as a formula (starting with =, +, -, @, a tab or a carriage
return) is prefixed with an apostrophe, so a library item named "=HYPERLINK(…)" stays text.
"""

from __future__ import annotations

import csv
import io

from bot.document import render_html
from bot.services.plan_pdf import html_to_pdf
from bot.services.provision_map import Breakdown, Intervention, ProvisionMap, pounds

TEMPLATE = "provision_map.html.j2"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = (
    "section",
    "name",
    "area_of_need",
    "tier",
    "pupils",
    "groups",
    "sessions_planned",
    "sessions_delivered",
    "sessions_not_yet_logged",
    "delivery_rate_percent",
    "cost_pounds",
    "progress",
    "reviews_continue",
    "reviews_adapt",
    "reviews_stop",
    "effectiveness_average",
    "effectiveness_rated",
)
FOOTER = "Provision map: figures only, no pupil named"


def neutralise(value) -> str:
    """A cell as text a spreadsheet will not run: a leading formula character gets a `'`."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _rate(planned: int, delivered: int) -> str:
    return f"{100 * delivered / planned:.0f}" if planned else ""


def _money(pence: int) -> str:
    return f"{pence / 100:.2f}"


def _intervention_row(i: Intervention) -> list:
    d = i.decisions
    return [
        "intervention",
        i.name,
        i.area.label,
        i.tier.label,
        i.pupils,
        i.groups,
        i.sessions.planned,
        i.sessions.delivered,
        i.sessions.awaiting,
        _rate(i.sessions.planned, i.sessions.delivered),
        _money(i.cost_pence),
        "; ".join(p.describe() for p in i.progress),
        d.continued,
        d.adapted,
        d.stopped,
        f"{d.effectiveness:.2f}" if d.effectiveness is not None else "",
        d.rated,
    ]


def _breakdown_row(section: str, b: Breakdown) -> list:
    area = b.label if section == "area_of_need" else ""
    return [
        section,
        b.label,
        area,
        "",
        b.pupils,
        "",
        b.sessions.planned,
        b.sessions.delivered,
        b.sessions.awaiting,
        _rate(b.sessions.planned, b.sessions.delivered),
        _money(b.cost_pence),
        "",
        "",
        "",
        "",
        "",
        "",
    ]


def map_csv(document: ProvisionMap) -> bytes:
    """The map as CSV (UTF-8 with a byte order mark, so Excel reads £ and accents)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    # First, which period the figures cover, as its own row (the columns stay as they were).
    rows = [["period", document.covers] + [""] * (len(COLUMNS) - 2)]
    rows += [_intervention_row(i) for i in document.interventions]
    rows += [_breakdown_row("year_group", b) for b in document.by_year]
    rows += [_breakdown_row("area_of_need", b) for b in document.by_area]
    total = document.sessions
    rows.append(
        [
            "total",
            "All interventions",
            "",
            "",
            document.pupils,
            document.groups,
            total.planned,
            total.delivered,
            total.awaiting,
            _rate(total.planned, total.delivered),
            _money(document.cost_pence),
            "",
            sum(i.decisions.continued for i in document.interventions),
            sum(i.decisions.adapted for i in document.interventions),
            sum(i.decisions.stopped for i in document.interventions),
            "",
            sum(i.decisions.rated for i in document.interventions),
        ]
    )
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def map_html(document: ProvisionMap) -> str:
    return render_html(TEMPLATE, map=document, pounds=pounds)


def map_pdf(document: ProvisionMap) -> bytes:
    return html_to_pdf(map_html(document), FOOTER)
