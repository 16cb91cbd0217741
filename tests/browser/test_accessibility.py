"""WCAG 2.1 AA with axe-core on every page and step, and the whole flow by keyboard alone."""

import itertools

import pytest

from tests.browser.axe import assert_accessible
from tests.browser.flows import fill_terms, receiving_media, wait_for_state

PASSWORD = "Groene-Lamp-42"
_words = itertools.count()


def fresh_terms():
    return ("Toegankelijk", "Brugge", f"sleutel{next(_words)}")


@pytest.mark.parametrize("path", ["/?lang=en", "/check", "/faq", "/privacy"])
def test_pages_have_no_axe_violations(new_person, path):
    page = new_person()
    page.goto(path)
    if path == "/check":
        page.get_by_test_id("check-verdict").and_(page.locator("[data-verdict]:not([data-verdict=''])")).wait_for()
    assert_accessible(page, path)


def test_waiting_screen_has_no_axe_violations(new_person):
    page = new_person()
    fill_terms(page, *fresh_terms())
    page.get_by_test_id("join").click()
    page.get_by_test_id("waiting-screen").wait_for()
    assert_accessible(page, "the waiting screen")


def test_preview_call_and_password_prompt_have_no_axe_violations(new_person):
    counsellor, client = new_person(), new_person()
    terms = fresh_terms()
    fill_terms(counsellor, *terms)
    counsellor.get_by_test_id("start").click()
    counsellor.get_by_test_id("preview-enter").wait_for()
    counsellor.locator("#preview-enter:enabled").wait_for()
    assert_accessible(counsellor, "the preview")
    counsellor.get_by_test_id("preview-enter").click()

    counsellor.get_by_test_id("add-password").click()
    counsellor.get_by_test_id("password-set-input").fill(PASSWORD)
    counsellor.get_by_test_id("password-set-submit").click()
    wait_for_state(counsellor, lambda s: s["locked"], what="room locked")

    fill_terms(client, *terms)
    client.get_by_test_id("join").click()
    client.get_by_test_id("password-input").wait_for()
    assert_accessible(client, "the password prompt")
    client.get_by_test_id("password-input").fill("not the password")
    client.get_by_test_id("password-submit").click()
    client.get_by_test_id("password-error").wait_for()
    assert_accessible(client, "the password prompt with an error")
    client.get_by_test_id("password-input").fill(PASSWORD)
    client.get_by_test_id("password-submit").click()
    client.get_by_test_id("preview-enter").click()

    for page in (counsellor, client):
        wait_for_state(page, receiving_media, what="the call")
    assert_accessible(counsellor, "the call, counsellor with the password panel open")
    assert_accessible(client, "the call, client")


def tab_to(page, test_id, limit=40):
    """Press Tab until the element with this test id has focus; every stop must show focus."""
    unfocused = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate("""() => {
          const el = document.activeElement;
          const style = getComputedStyle(el);
          return { id: el.dataset.testid || el.id || el.tagName,
                   outlined: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0 };
        }""")
        if not focused["outlined"]:
            unfocused.append(focused["id"])
        if focused["id"] == test_id:
            assert not unfocused, f"no visible focus on {unfocused}"
            return
    raise AssertionError(f"Tab never reached {test_id}")


def type_terms_by_keyboard(page, terms):
    page.goto("/?lang=en")
    for test_id, value in zip(["term-name", "term-location", "term-word"], terms, strict=True):
        tab_to(page, test_id)
        page.keyboard.type(value)


def test_counsellor_and_client_reach_the_call_by_keyboard_alone(new_person):
    counsellor, client = new_person(), new_person()
    terms = fresh_terms()

    type_terms_by_keyboard(counsellor, terms)
    counsellor.keyboard.press("Enter")  # the form's first button: Start a session
    counsellor.wait_for_url("**/r/*")
    counsellor.locator("#preview-enter:enabled").wait_for()
    tab_to(counsellor, "preview-enter")
    counsellor.keyboard.press("Enter")
    assert counsellor.evaluate("document.activeElement.dataset.testid") == "mic-toggle"

    type_terms_by_keyboard(client, terms)
    tab_to(client, "join")
    client.keyboard.press("Enter")
    client.wait_for_url("**/r/*")
    client.locator("#preview-enter:enabled").wait_for()
    tab_to(client, "preview-mic-toggle")
    client.keyboard.press("Space")  # mute before entering: stays muted in the call
    tab_to(client, "preview-enter")
    client.keyboard.press("Enter")

    wait_for_state(counsellor, lambda s: s["joined"] and len(s["participants"]) == 2,
                   what="both in the call")
    wait_for_state(client, lambda s: any(m["framesDecoded"] > 0 for m in s["media"].values()),
                   what="the client sees the counsellor")
    mic = client.get_by_test_id("mic-toggle")
    assert mic.get_attribute("aria-pressed") == "true" and mic.inner_text() == "Unmute"

    # The counsellor sets a password by keyboard too.
    tab_to(counsellor, "add-password")
    counsellor.keyboard.press("Enter")
    assert counsellor.evaluate("document.activeElement.dataset.testid") == "password-set-input"
    counsellor.keyboard.type(PASSWORD)
    counsellor.keyboard.press("Enter")
    wait_for_state(counsellor, lambda s: s["locked"], what="room locked by keyboard")
