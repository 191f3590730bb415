"""The review meeting's page in a real headless Chromium, with axe-core's accessibility check on
each page: the meeting set and its link made in Slack, the date-of-birth check, the meeting page
with its errors beside the fields, the answer sent and the thank-you page, then the case holder's
DM and "Read it".

Without Chromium these tests skip with the reason printed; with SSPBOT_REQUIRE_BROWSER=1 (as CI
sets) they fail instead.
"""

from __future__ import annotations

from tests.family_harness import latest_dm
from tests.slack_harness import text_of
from tests.test_family_browser import (  # noqa: F401 - the fixtures, as test_family_browser's
    accessible,
    birth_date,
    browser,
    fresh_limits,
    heading,
    press,
    slack,
    source_without_secrets,
    type_into,
)
from tests.test_family_meeting import meeting_link, read_it
from tests.test_plan_editor import modal_text


def test_a_family_confirms_the_meeting_in_chromium(slack, browser):  # noqa: F811
    from selenium.webdriver.common.by import By

    browser.get(meeting_link(slack))
    assert heading(browser) == "A form from Brookside High about your child"
    assert "Room 4" not in source_without_secrets(browser)
    birth_date(browser, "4", "3", "2012")
    assert heading(browser) == "The review meeting for Ava"
    details = browser.find_element(By.CLASS_NAME, "details").text
    assert "Tuesday 1 December 2026 at 3:30pm" in details and "Room 4" in details
    accessible(browser)

    browser.find_element(By.ID, "can_come-another_time").click()
    press(browser, "Send my answer")
    summary = browser.find_element(By.CLASS_NAME, "error-summary")
    assert "Tell us which days and times would suit you." in summary.text
    assert "Enter your name." in browser.find_element(By.ID, "contributor_name-error").text
    accessible(browser)

    browser.find_element(By.ID, "can_come-yes").click()
    browser.find_element(By.ID, "join_by-phone").click()
    type_into(browser, "note", "I will need to leave by 4:15pm")
    type_into(browser, "contributor_name", "Mrs Stone")
    type_into(browser, "contributor_relationship", "mother")
    press(browser, "Send my answer")
    assert heading(browser) == "Thank you: your answer was sent"
    assert (
        "Tuesday 1 December 2026 at 3:30pm" in browser.find_element(By.CLASS_NAME, "details").text
    )
    accessible(browser)

    dm = latest_dm(slack, "U0PRIYA", "review meeting")
    assert text_of(dm).startswith("The family replied about Ava Stone's review meeting.")
    shown = modal_text(read_it(slack, dm))
    assert "from Mrs Stone (mother)" in shown and "By phone" in shown
    assert "I will need to leave by 4:15pm" in shown
