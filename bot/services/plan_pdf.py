"""The plan document as a PDF: WeasyPrint lays out the same HTML the staff and family read
(templates/plan_document.html.j2), with a stylesheet for A4 paper on top.

Rendering fetches nothing: the document is self-contained (styles inline, no images), and a
URL fetcher that refuses every URL makes sure a value typed into the plan can never make the
server fetch something (a tracking pixel, an internal address) while printing it.
"""

from __future__ import annotations

import logging

from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher

from bot.document import render_html
from bot.services.plan_document import PlanDocument

TEMPLATE = "plan_document.html.j2"

log = logging.getLogger(__name__)
# WeasyPrint logs each step of every render at INFO ("Step 5 - Creating layout - Page 3"): noise
# in the server's log at its usual level. Its warnings and errors still come through.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

# Page furniture the screen version does without. WeasyPrint reads the template's own
# `@media print` rules as well (no page break inside a table row, list item or paragraph;
# headings kept with what follows; table headers repeated on each page).
# - the running header is the document's h1 ("Ava Stone: SEN Support Plan"), so a page that
#   comes loose from the rest still says whose plan it is;
# - the footer says which copy it is (a staff page must never pass for the family's) and
#   "Page n of m".
PRINT_CSS = """
@page {
  size: A4;
  margin: 20mm 16mm 20mm 16mm;
  @top-left {
    content: string(pupil);
    font-family: Arial, "Liberation Sans", "DejaVu Sans", sans-serif;
    font-size: 9pt;
    color: #333333;
  }
  @bottom-left {
    content: var(--copy);
    font-family: Arial, "Liberation Sans", "DejaVu Sans", sans-serif;
    font-size: 9pt;
    color: #333333;
  }
  @bottom-right {
    content: "Page " counter(page) " of " counter(pages);
    font-family: Arial, "Liberation Sans", "DejaVu Sans", sans-serif;
    font-size: 9pt;
    color: #333333;
  }
}
@page :first { @top-left { content: none; } }
html { font-family: Arial, "Liberation Sans", "DejaVu Sans", sans-serif; font-size: 11pt; }
h1 { string-set: pupil content(text); }
tr, li, dt, dd { break-inside: avoid; }
thead { display: table-header-group; }
h2, h3 { break-after: avoid; }
.visually-hidden { display: none; }
/* The template keeps this section on one page when printed from a browser; here that left the
   first page nearly empty, with the header alone. Its rows still never split. */
#personal-information { break-inside: auto !important; page-break-inside: auto !important; }
"""


class RefuseEveryURL(URLFetcher):
    """WeasyPrint's fetcher, refusing everything: nothing is fetched while rendering."""

    def fetch(self, url, headers=None):
        # The URL may come from text typed into the plan: log that it happened, not what it was.
        log.warning("refused a fetch while rendering a plan PDF")
        raise ValueError("SSP Bot fetches nothing while rendering a plan")


def html_to_pdf(html: str, footer: str = "") -> bytes:
    """PDF bytes for an HTML document that needs nothing from outside itself; `footer` (our own
    words, never plan text) at the foot of every page."""
    document = HTML(string=html, url_fetcher=RefuseEveryURL(), base_url=None)
    css = PRINT_CSS.replace("var(--copy)", _css_string(footer))
    return document.write_pdf(stylesheets=[CSS(string=css)])


def _css_string(text: str) -> str:
    """`text` as a CSS string literal."""
    return (
        '"'
        + "".join(c if c.isalnum() or c in " ,.:;()'-" else f"\\{ord(c):x} " for c in text)
        + '"'
    )


FOOTERS = {
    "staff": "Staff copy: contains staff-only notes",
    "family": "Family copy",
    "agency": "Copy for professionals outside the school",
}


def plan_html(document: PlanDocument) -> str:
    """The plan document as HTML, the copy `document.audience` may have."""
    return render_html(TEMPLATE, doc=document)


def plan_pdf(document: PlanDocument) -> bytes:
    """The plan document as a PDF for A4 paper, the copy `document.audience` may have."""
    return html_to_pdf(plan_html(document), FOOTERS[str(document.audience)])
