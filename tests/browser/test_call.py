"""A real 1:1 call between two independent headless Chromium users."""

import itertools
import re

from tests.browser.flows import (
    expect_security_state,
    join_session,
    receiving_media,
    start_session,
    state,
    wait_for_state,
)

_words = itertools.count()


def fresh_terms():
    return ("Praatbox Gent", "Zürich", f"appel{next(_words)}")


def typed_differently(terms):
    name, location, word = terms
    return (f"  {name.upper()} ", location.replace("ü", "u").lower() + " ", word.capitalize())


def test_counsellor_and_client_see_and_hear_each_other_directly(new_person, web):
    counsellor, client = new_person(), new_person()
    requests = []
    for page in (counsellor, client):
        page.on("request", lambda request: requests.append(request.url))
    terms = fresh_terms()
    start_session(counsellor, terms)
    join_session(client, typed_differently(terms))
    assert counsellor.url == client.url

    for page in (counsellor, client):
        current = wait_for_state(page, receiving_media, what="decoded remote video and audio")
        assert current["joined"] and len(current["participants"]) == 2
        (media,) = current["media"].values()
        assert media["candidateType"] == "host"
        expect_security_state(page, "p2p")
        assert page.get_by_test_id("remote-video").count() == 1
    assert state(counsellor)["moderator"] is True
    assert state(client)["moderator"] is False

    # Frames keep flowing: the count grows between two readings.
    before = next(iter(state(client)["media"].values()))["framesDecoded"]
    wait_for_state(client, lambda s: next(iter(s["media"].values()))["framesDecoded"] > before + 5,
                   what="more frames")

    client.get_by_test_id("hangup").click()
    client.get_by_test_id("ended-notice").wait_for(state="visible")
    wait_for_state(counsellor, lambda s: len(s["participants"]) == 1, what="peer gone")
    assert counsellor.get_by_test_id("remote-video").count() == 0
    assert "left the session" in counsellor.locator("#notices").inner_text()
    expect_security_state(counsellor, "waiting")

    # Privacy: every request went to our own origin, and no term reached a URL or the log.
    assert requests and all(url.startswith(web.url) for url in requests), requests
    log = web.log().lower()
    for term in ["praatbox gent", "zürich", "zurich", terms[2]]:
        assert term not in log
        assert not any(term.replace(" ", "+") in url.lower() or term in url.lower()
                       for url in requests)
    assert re.search(r"/r/[a-z2-7]{20}$", counsellor.url)


def test_early_client_waits_and_joins_by_itself(new_person):
    counsellor, client = new_person(), new_person()
    terms = fresh_terms()
    join_session(client, terms)
    client.get_by_test_id("waiting-screen").wait_for(state="visible")
    start_session(counsellor, terms)
    client.get_by_test_id("hangup").wait_for(state="visible", timeout=20_000)
    wait_for_state(client, receiving_media, what="decoded video after waiting")
    wait_for_state(counsellor, receiving_media, what="decoded video of the early client")
