"""A call survives its signaling socket: killed server-side, or its web process killed and
restarted (Redis mode). The pages resume with the same identity, no password prompt, and the
media that flowed between the browsers never stops."""

from __future__ import annotations

import itertools
import subprocess
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from tests.browser.flows import join_session, people, start_session, state, wait_for_state
from tests.live import start_two_webs, start_web

_words = itertools.count()


def fresh_terms():
    return ("Praatbox Gent", "Zürich", f"peer{next(_words)}")


def resumes(server):
    """How many resumes the web process counted (`/metrics`)."""
    with urllib.request.urlopen(server.url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    return sum(s.value for family in text_string_to_metric_families(text)
               for s in family.samples if s.name == "praatbox_resumes_total")


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
    # Destroy every TCP connection the web process holds, as a dying network does.
    port = web.url.rsplit(":", 1)[1]
    subprocess.run(["ss", "-K", "src", "127.0.0.1", "sport", "=", f":{port}"], check=True,
                   capture_output=True)
    for page, identity in identities.items():
        goes_on(page, identity, moderator=page is counsellor)
        assert frames(page) > before[page]
    assert resumes(web) == resumed + 2  # both pages resumed; neither joined anew
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
            assert resumes(first) == 1  # the counsellor's page, on the restarted process
            counsellor.get_by_test_id("kick").click()
            client.get_by_test_id("kicked-notice").wait_for()
    finally:
        first.stop()
        second.stop()
