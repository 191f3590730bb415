"""The family's agreement to the plan in a real headless Chromium (Debian's chromium and
chromium-driver), with axe-core's accessibility check on every page: the link made in Slack, the
date-of-birth check, the family copy of the plan, "Yes, I agree" with the sharing consent (after
an error shown beside its field), the thanks with the PDF offered, then the case holder's DM and
"Read it".

Without Chromium these tests skip with the reason printed; with SSPBOT_REQUIRE_BROWSER=1 (as CI
sets) they fail instead.
"""

from __future__ import annotations

import logging

import pytest

from handlers.web import family as web_family
from tests.family_harness import latest_dm, start_public_app
from tests.slack_harness import build_school, buttons_of, text_of
from tests.test_export import STAFF_ONLY, fill_avas_plan
from tests.test_family_agreement import AGENCY, agreement_link
from tests.test_family_browser import (  # noqa: F401 - the browser fixture
    accessible,
    birth_date,
    browser,
    heading,
    press,
    source_without_secrets,
    type_into,
)
from tests.test_plan_editor import modal_text


@pytest.fixture
def slack(emulator, sessions, clock):
    from handlers.scheduler import wait_for_deliveries

    emulator.reset()
    with sessions.begin() as session:
        ids = build_school(session, emulator)
        ids.update(fill_avas_plan(session, ids))
    running = start_public_app(emulator, sessions, clock)
    running.ids = ids
    yield running
    running.server.stop()
    wait_for_deliveries()


@pytest.fixture(autouse=True)
def quiet_webdriver():
    """Selenium's client logs every answer from Chromium at DEBUG, page text and all: this page
    shows the pupil's full name, which the run's log scan (tests/log_scan.py) rightly looks
    for. Those records are the test's browser talking, not SSP Bot, so they are not made."""
    webdriver_log = logging.getLogger("selenium.webdriver.remote.remote_connection")
    level = webdriver_log.level
    webdriver_log.setLevel(logging.INFO)
    yield
    webdriver_log.setLevel(level)


@pytest.fixture(autouse=True)
def fresh_limits(monkeypatch):
    monkeypatch.setattr(web_family, "PER_LINK", web_family.RateLimit(60, 600))
    monkeypatch.setattr(web_family, "PER_ADDRESS", web_family.RateLimit(120, 600))


def test_a_family_reads_the_plan_and_agrees_in_chromium(slack, browser):  # noqa: F811
    from selenium.webdriver.common.by import By

    link = agreement_link(slack)
    browser.get(link)
    assert heading(browser) == "A form from Brookside High about your child"
    assert "Ava" not in source_without_secrets(browser)
    accessible(browser)

    birth_date(browser, "4", "3", "2012")
    assert heading(browser) == "Ava Stone: SEN Support Plan"
    page = browser.find_element(By.TAG_NAME, "main").text
    assert "Family copy" in page and "Kind, funny and great at drawing dragons" in page
    assert not [s for s in STAFF_ONLY.values() if s in browser.page_source]
    # Today's date is filled in for them.
    assert browser.find_element(By.ID, "day").get_attribute("value") == "23"
    accessible(browser)

    # "No" without saying what: the error is beside the box, and the summary links to it.
    browser.find_element(By.ID, "decision-disagreed").click()
    type_into(browser, "name", "Mrs Stone")
    type_into(browser, "relationship", "mother")
    browser.find_element(By.ID, "sharing-school_staff").click()
    press(browser, "Send my answer")
    summary = browser.find_element(By.CLASS_NAME, "error-summary")
    assert "Tell us what you disagree with." in summary.text
    assert (
        "Tell us what you disagree with." in browser.find_element(By.ID, "disagreement-error").text
    )
    # What they typed is kept.
    assert browser.find_element(By.ID, "name").get_attribute("value") == "Mrs Stone"
    accessible(browser)

    # They agree after all, and name a service that may be sent the plan.
    browser.find_element(By.ID, "decision-agreed").click()
    browser.find_element(By.ID, "sharing-named_agencies").click()
    agency = browser.find_element(
        By.XPATH, f"//label[normalize-space()='{AGENCY}']/preceding-sibling::input"
    )
    agency.click()
    press(browser, "Send my answer")
    assert heading(browser) == "Thank you: your answer was sent"
    download = browser.find_element(By.LINK_TEXT, "Download the plan (PDF)")
    assert download.get_attribute("href") == link + "/plan.pdf"
    accessible(browser)

    # Coming back to the page in the same browser offers the download there too.
    browser.get(link + "/agreement")
    assert browser.find_element(By.LINK_TEXT, "Download the plan (PDF)")
    assert "Agreed by Mrs Stone (mother) on 23 November 2026." in browser.page_source
    accessible(browser)

    dm = latest_dm(slack, "U0PRIYA", "agreed to")
    assert text_of(dm).startswith("The family agreed to Ava Stone's plan.")
    read = next(b for b in buttons_of(dm) if b["action_id"] == "ssp_agreement_read")
    opened = len(slack.emulator.calls_to("views.open"))
    assert (
        slack.sender.button("U0PRIYA", read["action_id"], read["value"], message=dm).status == 200
    )
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    shown = " ".join(modal_text(slack.emulator.open_views("U0PRIYA")[-1]).split())
    assert "Mrs Stone (mother) answered about Ava Stone's plan" in shown
    assert "They agree with the plan." in shown and AGENCY in shown
