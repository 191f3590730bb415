"""The families' pages in a real headless Chromium (Debian's chromium and chromium-driver), with
axe-core's accessibility check on every page: a link made in Slack, opened in the browser, the
date-of-birth check (three wrong tries lock it, and the case holder is told), the form with its
errors shown beside the fields, then the case holder's DM, "Read them" and "Add to the plan".

Without Chromium these tests skip with the reason printed; with SSPBOT_REQUIRE_BROWSER=1 (as CI
sets) they fail instead.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest
from sqlalchemy import select

from handlers.web import family as web_family
from models import Plan, PlanVoice
from tests.family_harness import latest_dm, make_link, start_public_app, without_secrets
from tests.slack_harness import build_school, buttons_of, text_of
from tests.test_plan_editor import submit

REQUIRE_BROWSER = os.environ.get("SSPBOT_REQUIRE_BROWSER") == "1"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
# As the machines' notes say Chromium runs here: no sandbox as root, and no background
# connections, which this machine's closed network refuses.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=412,915",  # a phone first
)


@pytest.fixture
def browser():
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(p)]
    if missing:
        reason = (
            f"Chromium not installed ({', '.join(missing)} missing): "
            "apt-get install -y chromium chromium-driver"
        )
        if REQUIRE_BROWSER:
            pytest.fail(reason + " (SSPBOT_REQUIRE_BROWSER=1)")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="sspbot-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def slack(emulator, sessions, school_extras, clock):
    from handlers.scheduler import wait_for_deliveries

    emulator.reset()
    with sessions.begin() as session:
        ids = build_school(session, emulator)
    running = start_public_app(emulator, sessions, clock)
    running.ids = ids
    yield running
    running.server.stop()
    wait_for_deliveries()


@pytest.fixture(autouse=True)
def fresh_limits(monkeypatch):
    monkeypatch.setattr(web_family, "PER_LINK", web_family.RateLimit(30, 600))
    monkeypatch.setattr(web_family, "PER_ADDRESS", web_family.RateLimit(60, 600))


# The tags of the axe-core that axe-selenium-python bundles (3.x: it has no WCAG 2.2 tag, so the
# 2.2 rules axe added since are not run; the pages follow them by design, see the README).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "best-practice"]


def accessible(driver) -> None:
    """axe-core finds no violation of the WCAG A and AA rules, or its best practice, on the
    page shown."""
    from axe_selenium_python import Axe

    folder = os.environ.get("SSPBOT_SCREENSHOTS")  # to look at the pages: a folder to save them
    if folder:
        shots = len(os.listdir(folder))
        driver.save_screenshot(os.path.join(folder, f"{shots:02d}.png"))
    Axe(driver).inject()
    results = driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(function (r) { done(r); }, function (e) { done({error: String(e)}); });",
        AXE_TAGS,
    )
    assert "error" not in results, results
    assert results["passes"], "axe-core checked nothing"
    assert results["violations"] == [], [
        (v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in results["violations"]
    ]


def type_into(driver, field_id: str, text: str) -> None:
    from selenium.webdriver.common.by import By

    box = driver.find_element(By.ID, field_id)
    box.clear()
    box.send_keys(text)


def press(driver, label: str) -> None:
    """Clicks the button and waits for the next page to load."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.XPATH, f"//button[normalize-space()='{label}']").click()

    def gone(_driver) -> bool:
        # Chromium reports an element of the page that was replaced either as stale (what
        # Selenium's staleness_of expects) or, while the new page is being attached, as "Node
        # with given id does not belong to the document": both mean the old page is gone.
        try:
            page.is_enabled()
        except WebDriverException:
            return True
        return False

    WebDriverWait(driver, 15).until(gone)


def birth_date(driver, day: str, month: str, year: str) -> None:
    type_into(driver, "day", day)
    type_into(driver, "month", month)
    type_into(driver, "year", year)
    press(driver, "Continue")


def source_without_secrets(driver) -> str:
    return without_secrets(driver.page_source)


def heading(driver) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.TAG_NAME, "h1").text


def test_a_family_fills_in_the_form_in_chromium(slack, browser):
    from selenium.webdriver.common.by import By

    link = make_link(slack)
    browser.get(link)
    assert heading(browser) == "A form from Brookside High about your child"
    assert "Ava" not in source_without_secrets(browser)
    accessible(browser)

    birth_date(browser, "5", "3", "2012")
    summary = browser.find_element(By.CLASS_NAME, "error-summary")
    assert "You have 2 tries left" in summary.text
    assert summary.find_element(By.TAG_NAME, "a").get_attribute("href").endswith("#day")
    # Focus starts on the summary, whose link then takes it to the box to correct.
    assert browser.switch_to.active_element.get_attribute("class") == "error-summary"
    summary.find_element(By.TAG_NAME, "a").click()
    assert browser.switch_to.active_element.get_attribute("id") == "day"
    accessible(browser)

    birth_date(browser, "4", "3", "2012")
    assert heading(browser) == "Hello. Tell us your views about Ava"
    accessible(browser)

    type_into(browser, "q_not_working", "x" * 2001)
    press(browser, "Send my answers")
    assert "There is a problem" in browser.page_source
    error = browser.find_element(By.ID, "contributor_name-error")
    assert "Enter your name." in error.text
    assert (
        "Please keep this to 2,000 characters."
        in browser.find_element(By.ID, "q_not_working-error").text
    )
    accessible(browser)

    type_into(browser, "contributor_name", "Mrs Stone")
    type_into(browser, "contributor_relationship", "mother")
    type_into(browser, "q_not_working", "Homework ends in tears")
    type_into(browser, "q_hopes", "To enjoy school again")
    browser.find_element(By.ID, "q_take_part-video").click()
    press(browser, "Send my answers")
    assert heading(browser) == "Thank you: your answers were sent"
    accessible(browser)

    dm = latest_dm(slack, "U0PRIYA", "sent their views")
    assert text_of(dm).startswith("The family sent their views on Ava Stone's plan.")
    read = next(b for b in buttons_of(dm) if b["action_id"] == "ssp_contribution_read")
    opened = len(slack.emulator.calls_to("views.open"))
    assert (
        slack.sender.button("U0PRIYA", read["action_id"], read["value"], message=dm).status == 200
    )
    slack.emulator.wait_for(lambda calls: len(slack.emulator.calls_to("views.open")) > opened)
    modal = slack.emulator.open_views("U0PRIYA")[-1]
    assert "By video call" in text_of({"blocks": modal["blocks"]})
    submit(slack, "U0PRIYA", modal)
    with slack.sessions() as session:
        plan = session.scalar(select(Plan).where(Plan.pupil_id == slack.ids["ava"]))
        voice = session.get(PlanVoice, plan.id)
        assert "To enjoy school again (contributed by the family (Mrs Stone, mother)" in (
            voice.family_hopes
        )


def test_three_wrong_dates_in_chromium_lock_the_link(slack, browser):
    link = make_link(slack)
    browser.get(link)
    birth_date(browser, "1", "1", "2011")
    birth_date(browser, "2", "1", "2011")
    birth_date(browser, "3", "1", "2011")
    assert heading(browser) == "This link does not work"
    accessible(browser)
    browser.get(link)
    assert heading(browser) == "This link does not work"
    dm = latest_dm(slack, "U0PRIYA", "locked after three wrong dates of birth")
    assert "Ava Stone" in text_of(dm)


def test_the_pupil_page_in_chromium(slack, browser):
    browser.get(make_link(slack, purpose="pupil"))
    birth_date(browser, "4", "3", "2012")
    assert heading(browser) == "Hello Ava: tell us what you think"
    accessible(browser)
