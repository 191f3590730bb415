"""The printable letter with its QR code, and the pupil's emoji scales, in a real headless
Chromium with axe-core's accessibility check (as tests/test_family_browser.py, whose fixtures and
helpers these use). Without Chromium these skip with the reason printed; with
SSPBOT_REQUIRE_BROWSER=1 they fail instead.
"""

from __future__ import annotations

from tests import test_family_browser as chromium
from tests.family_harness import latest_dm, make_link
from tests.slack_harness import text_of
from tests.test_family_browser import accessible, birth_date, heading, press

# test_family_browser's fixtures: Chromium (or the reason it is skipped), the app with PUBLIC_URL.
browser = chromium.browser
slack = chromium.slack
fresh_limits = chromium.fresh_limits


def test_the_letter_in_chromium(slack, browser):
    from selenium.webdriver.common.by import By

    link = make_link(slack)
    browser.get(link + "/letter")
    assert heading(browser) == "For a parent or carer"
    assert "Ava" not in browser.find_element(By.TAG_NAME, "main").text
    qr = browser.find_element(By.CSS_SELECTOR, ".qr svg")
    # Drawn at a size a phone can scan (the stylesheet sizes it: no inline style is allowed).
    assert qr.size["width"] >= 150 and qr.size["height"] >= 150
    assert browser.find_element(By.CLASS_NAME, "letter-link").text == link
    # Chromium enforced the CSP and reported nothing refused.
    refused = [
        entry["message"]
        for entry in browser.get_log("browser")
        if "Content Security Policy" in entry["message"]
    ]
    assert refused == []
    accessible(browser)
    # Printed, the page is the letter alone: no banner, no note to staff.
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    assert not browser.find_element(By.CLASS_NAME, "top").is_displayed()
    assert not browser.find_element(By.CLASS_NAME, "no-print").is_displayed()
    assert browser.find_element(By.TAG_NAME, "h1").is_displayed()


def test_the_letter_for_a_link_that_does_not_work(slack, browser):
    browser.get(slack.public_url + "/f/guessed/letter")
    assert heading(browser) == "This link does not work"
    accessible(browser)


def test_the_emoji_scales_in_chromium(slack, browser):
    from selenium.webdriver.common.by import By

    browser.get(make_link(slack, purpose="pupil"))
    birth_date(browser, "4", "3", "2012")
    assert heading(browser) == "Hello Ava: tell us what you think"
    group = browser.find_element(By.ID, "q_feel_school")
    assert group.tag_name == "fieldset"
    assert group.find_element(By.TAG_NAME, "legend").text == "How do I feel about school?"
    # The name a screen reader gives the choice is its words, not the emoji's.
    choice = browser.find_element(By.ID, "q_feel_school-good")
    assert choice.accessible_name == "Good"
    accessible(browser)
    browser.find_element(By.CSS_SELECTOR, "label[for='q_feel_school-good']").click()
    assert choice.is_selected()
    press(browser, "Send my answers")
    assert heading(browser) == "Thank you: your answers were sent"
    dm = latest_dm(slack, "U0PRIYA", "sent their own views")
    assert "Ava Stone" in text_of(dm) and "Good" not in text_of(dm)
