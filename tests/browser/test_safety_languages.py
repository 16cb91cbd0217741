"""Safety words across languages: both ends of a call read the same ones, whatever each page's
language, and a browser that only sends its own default language still gets them."""

import itertools
import re

from tests.browser import flows

SAFETY_WORDS = 4
_rounds = itertools.count()


def fresh_terms():
    return ("Praatbox Brussel", "Liège", f"taal{next(_rounds)}")


def record_errors(page, errors):
    """Collect uncaught errors and rejections, and console errors, from the page."""
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    page.on("console", lambda message: message.type == "error" and errors.append(
        f"console: {message.text}"))


def pick_language(page, lang):
    """Choose the language with the home page's picker, as a person would."""
    page.goto("/")
    page.get_by_test_id("lang-select").select_option(lang)
    page.wait_for_url(f"**/?lang={lang}")


def safety_words(page):
    current = flows.wait_for_state(page, lambda s: len(s["safetyWords"]) == SAFETY_WORDS,
                                   what="safety words")
    words = current["safetyWords"]
    assert all(re.fullmatch(r"\d{3}", word) for word in words), words
    assert page.get_by_test_id("safety-words").text_content() == " · ".join(words)
    assert page.get_by_test_id("safety-problem").is_hidden()
    return words


def html_lang(page):
    return page.locator("html").get_attribute("lang")


def test_dutch_counsellor_and_french_client_read_the_same_safety_words(new_person):
    counsellor, client = new_person(), new_person()
    errors = []
    for page in (counsellor, client):
        record_errors(page, errors)
    pick_language(counsellor, "nl")
    pick_language(client, "fr")
    terms = fresh_terms()
    flows.start_session(counsellor, terms, lang=None)
    flows.join_session(client, terms, lang=None)
    assert (html_lang(counsellor), html_lang(client)) == ("nl", "fr")

    for page in (counsellor, client):
        flows.wait_for_state(page, flows.receiving_media, what="the 1:1 call")
    words = safety_words(counsellor)
    assert safety_words(client) == words
    assert flows.state(client)["mode"] == flows.state(counsellor)["mode"] == "p2p"
    assert errors == []


def test_browser_sending_nl_be_gets_a_dutch_page_and_safety_words(browser, web, new_person):
    counsellor = new_person()
    errors = []
    record_errors(counsellor, errors)
    terms = fresh_terms()
    flows.start_session(counsellor, terms)
    with flows.people(browser, web.url, locale="nl-BE") as belgian:
        client = belgian()
        record_errors(client, errors)
        flows.join_session(client, terms, lang=None)  # never touches the picker
        assert client.evaluate("navigator.language") == "nl-BE"
        assert html_lang(client) == "nl"
        assert client.evaluate(
            "JSON.parse(document.getElementById('room-config').textContent).language") == "nl"
        flows.wait_for_state(client, flows.receiving_media, what="the call of the nl-BE browser")
        assert safety_words(client) == safety_words(counsellor)
    assert errors == []


def test_safety_words_that_cannot_be_worked_out_are_reported_not_thrown(browser, web, new_person):
    counsellor = new_person()
    errors = []
    terms = fresh_terms()
    flows.start_session(counsellor, terms)
    with flows.people(browser, web.url) as without_webcrypto:
        client = without_webcrypto()
        record_errors(client, errors)
        # As in a browser without WebCrypto for this origin: deriving the words fails.
        client.add_init_script(
            "crypto.subtle.digest = () => Promise.reject(new Error('no WebCrypto here'));")
        flows.join_session(client, terms)
        flows.wait_for_state(client, flows.receiving_media, what="the call without WebCrypto")
        problem = client.get_by_test_id("safety-problem")
        problem.wait_for(state="visible")
        assert "could not" in problem.inner_text()
        assert flows.state(client)["safetyWords"] == []
        assert len(safety_words(counsellor)) == SAFETY_WORDS
    assert errors == []
