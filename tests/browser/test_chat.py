"""The ephemeral chat in real Chromium: direct between two browsers, sealed in a group.

Every page here records what it sends over its signaling socket (an init script wraps
WebSocket.send before the page's own code runs): the chat's text must never be among it, so
the server cannot have seen it, in a call of two (data channel) or in a group (each copy sealed
with the recipient's pairwise key).
"""

from __future__ import annotations

import itertools

import pytest

from tests.browser.flows import join_session, receiving_media, start_session, wait_for_state
from tests.live import start_relay

_words = itertools.count()
RECORD_SIGNALING = """
window.sentFrames = [];
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (data) {
  window.sentFrames.push(String(data));
  return send.call(this, data);
};
"""
INJECTION = '<img src=x onerror="window.pwned=1"><b>bold</b>'


@pytest.fixture(scope="module")
def relay(web, tmp_path_factory):
    process = start_relay(tmp_path_factory.mktemp("relay"), web)
    yield process
    process.stop()


def recording(page):
    page.context.add_init_script(RECORD_SIGNALING)
    return page


def say(page, text):
    if page.get_by_test_id("chat-input").is_hidden():
        page.get_by_test_id("chat-toggle").click()
    page.get_by_test_id("chat-input").fill(text)
    page.get_by_test_id("chat-send").click()


def messages(page):
    return page.get_by_test_id("chat-message").all_inner_texts()


def wait_for_message(page, text, count=1):
    page.get_by_test_id("chat-message").filter(has_text=text).nth(count - 1).wait_for(
        state="attached")


def never_sent_to_the_server(page, *texts):
    frames = "\n".join(page.evaluate("window.sentFrames"))
    assert frames, "the page's signaling frames were not recorded"
    for text in texts:
        assert text not in frames


def test_two_people_chat_directly_and_html_stays_text(new_person, web):
    counsellor, client = recording(new_person()), recording(new_person())
    terms = ("Praatbox Gent", "Zürich", f"babbel{next(_words)}")
    start_session(counsellor, terms)
    join_session(client, terms)
    for page in (counsellor, client):
        wait_for_state(page, receiving_media, what="the call")

    say(counsellor, "Kunt u vrijuit praten? Typ gerust hier.")
    # The client's panel is closed: a badge counts the unread message.
    client.locator("#chat-unread:not([hidden])").wait_for()
    assert client.locator("#chat-unread").inner_text() == "1"
    client.get_by_test_id("chat-toggle").click()
    wait_for_message(client, "vrijuit praten")
    assert client.locator("#chat-unread").is_hidden()

    say(client, INJECTION)
    wait_for_message(counsellor, "<img")
    assert any(INJECTION in text for text in messages(counsellor))
    assert counsellor.locator("#chat-log img, #chat-log b").count() == 0
    assert counsellor.evaluate("window.pwned") is None

    for page in (counsellor, client):
        never_sent_to_the_server(page, "vrijuit praten", "onerror")
    assert "vrijuit" not in web.log() and "onerror" not in web.log()

    # Nothing is kept: after a reload the conversation is gone.
    client.reload()
    client.locator("#room").wait_for(state="attached")
    wait_for_state(client, receiving_media, what="the call after the reload")
    assert messages(client) == []


def test_a_group_chat_reaches_everyone_sealed_through_the_server(new_person, web, relay):
    terms = ("Praatbox Gent", "Zürich", f"groepchat{next(_words)}")
    pages = [recording(new_person()) for _ in range(3)]
    start_session(pages[0], terms)
    for page in pages[1:]:
        join_session(page, terms)
    for page in pages:
        wait_for_state(page, lambda s: s["mode"] == "group" and s["e2ee"]
                       and len(s["safetyWords"]) == 4, timeout=40, what="an encrypted group")

    say(pages[2], "Ik spel het: B-O-O-M")
    for page in pages[:2]:
        wait_for_message(page, "B-O-O-M")
    say(pages[0], "Dank u, genoteerd.")
    for page in pages[1:]:
        wait_for_message(page, "genoteerd")
    for page in pages:
        never_sent_to_the_server(page, "B-O-O-M", "genoteerd")
    assert "B-O-O-M" not in web.log() and "genoteerd" not in web.log()
