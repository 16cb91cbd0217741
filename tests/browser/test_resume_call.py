"""A call survives its signaling socket: killed server-side, or its web process killed and
restarted (Redis mode). The pages resume with the same identity, no password prompt, and the
media that flowed between the browsers never stops."""

from __future__ import annotations

import itertools
import subprocess
import time
import urllib.request

import pytest
from playwright.sync_api import Page
from prometheus_client.parser import text_string_to_metric_families

from tests.browser.flows import join_session, people, start_session, state, wait_for_state
from tests.browser.test_chat import say, wait_for_message
from tests.browser.test_group import receiving_from_everyone
from tests.live import start_relay, start_two_webs, start_web

_words = itertools.count()


def fresh_terms():
    return ("Praatbox Gent", "Zürich", f"peer{next(_words)}")


def resumes(server):
    """How many resumes the web process counted (`/metrics`)."""
    with urllib.request.urlopen(server.url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    return sum(s.value for family in text_string_to_metric_families(text)
               for s in family.samples if s.name == "praatbox_resumes_total")


def resumes_reach(server, expected, timeout=15.0):
    """Wait until the web process counted `expected` resumes: a page may still be on its way
    back when its media already shows the call going on (media never stopped)."""
    deadline = time.monotonic() + timeout
    while resumes(server) < expected and time.monotonic() < deadline:
        time.sleep(0.2)
    return resumes(server)


@pytest.fixture(scope="module")
def relay(web, tmp_path_factory):
    process = start_relay(tmp_path_factory.mktemp("relay"), web)
    yield process
    process.stop()


def kill_signaling_sockets(server):
    """Destroy every TCP connection the web process holds, as a dying network does."""
    port = server.url.rsplit(":", 1)[1]
    subprocess.run(["ss", "-K", "src", "127.0.0.1", "sport", "=", f":{port}"], check=True,
                   capture_output=True)


def set_password(counsellor, password):
    counsellor.get_by_test_id("add-password").click()
    counsellor.get_by_test_id("password-set-input").fill(password)
    counsellor.get_by_test_id("password-set-submit").click()
    counsellor.locator("#lock-label[data-locked=true]").wait_for(state="attached")


def frames(page):
    (media,) = state(page)["media"].values()
    return media["framesDecoded"]


def in_a_call(counsellor, client):
    """Start a call, lock the room behind the client, and wait for video both ways."""
    terms = fresh_terms()
    start_session(counsellor, terms)
    join_session(client, terms)
    for page in (counsellor, client):
        wait_for_state(page, lambda s: any(m["framesDecoded"] > 10 and
                                           m["connectionState"] == "connected"
                                           for m in s["media"].values()), what="video")
    set_password(counsellor, "Blauwe-Tram-48")
    return {page: state(page)["self"] for page in (counsellor, client)}


def goes_on(page, identity, moderator):
    """Same peer id and role, back on signaling, and the same connection still decoding (a new
    one would count frames from zero)."""
    before = frames(page)
    wait_for_state(page, lambda s: s["self"] == identity and len(s["participants"]) == 2
                   and next(iter(s["media"].values()))["framesDecoded"] > before + 10,
                   what="the same call going on")
    assert state(page)["moderator"] is moderator
    page.get_by_test_id("reconnecting").wait_for(state="hidden")
    assert page.get_by_test_id("password-input").count() == 0
    assert page.get_by_test_id("remote-video").count() == 1


def test_sockets_killed_server_side_resume_and_the_media_goes_on(new_person, web):
    counsellor, client = new_person(), new_person()
    identities = in_a_call(counsellor, client)
    before = {page: frames(page) for page in identities}
    resumed = resumes(web)
    kill_signaling_sockets(web)
    for page, identity in identities.items():
        goes_on(page, identity, moderator=page is counsellor)
        assert frames(page) > before[page]
    assert resumes_reach(web, resumed + 2) == resumed + 2  # both resumed; neither joined anew
    # Signaling works again: the counsellor still controls the room.
    counsellor.get_by_test_id("kick").click()
    client.get_by_test_id("kicked-notice").wait_for()


def test_the_web_process_restarted_in_redis_mode_ends_no_session(browser, redis_url,
                                                                  tmp_path_factory):
    tmp = tmp_path_factory.mktemp("restart")
    env = {"PRAATBOX_REDIS_URL": redis_url}
    first, second = start_two_webs(tmp, env)
    try:
        with people(browser, first.url) as on_first, people(browser, second.url) as on_second:
            counsellor, client = on_first(), on_second()
            identities = in_a_call(counsellor, client)
            # The counsellor's web process dies and comes back on the same address.
            first.process.kill()
            first.process.wait()
            first = start_web(tmp, env, port=int(first.url.rsplit(":", 1)[1]))
            for page, identity in identities.items():
                goes_on(page, identity, moderator=page is counsellor)
            assert resumes_reach(first, 1) == 1  # the counsellor's page, on the restarted one
            counsellor.get_by_test_id("kick").click()
            client.get_by_test_id("kicked-notice").wait_for()
    finally:
        first.stop()
        second.stop()


def decoding_everyone(page: Page, others: int) -> None:
    """Video from `others` people decodes, encrypted in the browsers, and keeps decoding."""
    def frames(s):
        return {p: s["media"][p]["framesDecoded"] for p in s["participants"]
                if p != s["self"] and p in s["media"]
                and s["media"][p]["connectionState"] == "connected"}

    def everyone(s, at_least=10):
        decoded = frames(s)
        return s["e2ee"] and len(decoded) == others and min(decoded.values()) >= at_least

    before = frames(wait_for_state(page, everyone, timeout=30, what=f"video from {others}"))
    wait_for_state(page, lambda s: everyone(s) and all(
        n > before.get(p, 0) + 10 for p, n in frames(s).items()),
        timeout=30, what="frames still decoding")


def test_what_a_group_sent_while_someone_was_reconnecting_reaches_them(new_person, web, relay):
    """Keys (someone joined: everyone changed keys), chat and the relay's offer, all sent while
    one person's signaling socket was down, reach them once they resume: the others keep them
    until then, and the page asks for the newest keys and a new relay connection."""
    counsellor, client, away = new_person(), new_person(), new_person()
    terms = fresh_terms()
    start_session(counsellor, terms)
    join_session(client, terms)
    join_session(away, terms)
    for page in (counsellor, client, away):
        wait_for_state(page, receiving_from_everyone, timeout=30, what="the group")
    away_id = state(away)["self"]

    # Every socket drops; one page stays offline, so it cannot resume yet.
    away.context.set_offline(True)
    kill_signaling_sockets(web)
    counsellor.locator(f"[data-peer='{away_id}'] [data-testid=peer-reconnecting]").wait_for()

    late = new_person()
    join_session(late, terms)  # everyone hands out new keys, also to the one away
    for page in (counsellor, client, late):
        wait_for_state(page, lambda s: len(s["participants"]) == 4, what="four people")
    say(client, "Ben je er nog?")
    away.context.set_offline(False)

    wait_for_message(away, "Ben je er nog?")
    for page in (counsellor, client, away, late):
        decoding_everyone(page, others=3)
    assert state(away)["self"] == away_id
