"""The counsellor's control of the room, in real browsers: password, knock, kick, end, reload."""

import itertools

from tests.browser.flows import (
    expect_security_state,
    fill_terms,
    join_session,
    receiving_media,
    start_session,
    state,
    wait_for_state,
)

PASSWORD = "Blauwe-Tafel-73"
_rounds = itertools.count()


def fresh_terms():
    return ("Moderation test", "Leuven", f"peer{next(_rounds)}")


def set_password(counsellor, password):
    counsellor.get_by_test_id("add-password").click()
    counsellor.get_by_test_id("password-set-input").fill(password)
    counsellor.get_by_test_id("password-set-submit").click()
    wait_for_state(counsellor, lambda s: s["locked"], what="room locked")


def enter_password(page, password):
    page.get_by_test_id("password-input").fill(password)
    page.get_by_test_id("password-submit").click()


def test_password_knock_kick_and_end(new_person, web):
    counsellor, client, third = new_person(), new_person(), new_person()
    terms = fresh_terms()
    start_session(counsellor, terms)
    assert "no password" in counsellor.get_by_test_id("security-status").inner_text().lower()
    set_password(counsellor, PASSWORD)

    # The client must pass the password before any media or peer list reaches them.
    join_session(client, terms)
    client.get_by_test_id("password-input").wait_for()
    assert client.evaluate("typeof window.praatbox") == "undefined"
    enter_password(client, "wrong password")
    assert "not right" in client.get_by_test_id("password-error").inner_text()
    enter_password(client, PASSWORD)
    client.get_by_test_id("preview-enter").click()
    for page in (counsellor, client):
        wait_for_state(page, receiving_media, what="1:1 call after the password")
        expect_security_state(page, "p2p")
    assert counsellor.get_by_test_id("third-person-warning").is_hidden()

    # Both sides read the same four safety words, from the certificates really in use.
    words = wait_for_state(counsellor, lambda s: len(s["safetyWords"]) == 4)["safetyWords"]
    assert wait_for_state(client, lambda s: len(s["safetyWords"]) == 4)["safetyWords"] == words
    assert " · ".join(words) == client.get_by_test_id("safety-words").text_content()

    # A third person with the right password knocks; the counsellor refuses, then admits.
    join_session(third, terms)
    enter_password(third, PASSWORD)
    third.get_by_test_id("preview-enter").click()
    counsellor.get_by_test_id("knock-notice").wait_for()
    assert "wants to join" in counsellor.get_by_test_id("knock-notice").inner_text()
    counsellor.get_by_test_id("deny").click()
    third.get_by_test_id("denied-notice").wait_for()
    assert len(state(client)["participants"]) == 2

    third.reload()
    counsellor.get_by_test_id("admit").click()
    for page in (counsellor, client, third):
        wait_for_state(page, lambda s: len(s["participants"]) == 3, what="three in the room")
        page.get_by_test_id("third-person-warning").wait_for()
    third_id = state(third)["self"]

    # The counsellor removes the third person: gone at once, cannot come back, others go on.
    counsellor.locator(f'.tile[data-peer="{third_id}"]').get_by_test_id("kick").click()
    third.get_by_test_id("kicked-notice").wait_for()
    for page in (counsellor, client):
        wait_for_state(page, lambda s: len(s["participants"]) == 2, what="third removed")
        wait_for_state(page, receiving_media, what="call continues after the kick")
        page.get_by_test_id("third-person-warning").wait_for(state="hidden")
    response = third.goto(counsellor.url)
    assert response.status == 403
    assert third.get_by_test_id("kicked-notice").is_visible()
    assert len(state(client)["participants"]) == 2

    # A reload gives the counsellor the role back, with new certificates and so new words.
    counsellor.reload()
    after_reload = wait_for_state(counsellor, receiving_media, what="call after reload")
    assert after_reload["moderator"] is True and after_reload["locked"] is True
    wait_for_state(client, receiving_media, what="client sees the counsellor again")
    new_words = wait_for_state(counsellor, lambda s: len(s["safetyWords"]) == 4)["safetyWords"]
    assert new_words != words
    assert wait_for_state(client, lambda s: s["safetyWords"] == new_words)

    # End for all: the client is told, and the terms now warn that they were used.
    counsellor.get_by_test_id("end-for-all").click()
    client.get_by_test_id("ended-notice").wait_for()
    assert "ended" in client.get_by_test_id("ended-notice").inner_text().lower()
    counsellor.get_by_test_id("ended-notice").wait_for()
    fill_terms(third, *terms)
    third.get_by_test_id("start").click()
    assert "used recently" in third.get_by_test_id("terms-reused").inner_text()

    assert PASSWORD.lower() not in web.log().lower()
