"""Group sessions end-to-end encrypted through the relay, in real headless Chromium.

The relay runs with its test-only decode probe (praatbox/relay/decode_probe.py): it tries to decode
every video frame it forwards with the same VP8 decoder a browser-less eavesdropper would use. With
encryption on, not one frame decodes; with a browser in the room that cannot encrypt (so everyone
sends in the clear, and every page says so), the very same probe decodes them by the hundred. That
difference is the proof that the server holds no key: it sees the frames, and cannot read them.
"""

from __future__ import annotations

import itertools
import re

import pytest

from tests.browser.flows import (
    expect_security_state,
    join_session,
    receiving_media,
    start_session,
    state,
    wait_for_state,
)
from tests.live import start_relay

_words = itertools.count()
PROBE_LINE = re.compile(r"decode probe: (\d+) video frames decoded, (\d+) not decodable")
# Removes both encoded-transform APIs before any page script runs: a browser that cannot encrypt.
WITHOUT_ENCODED_TRANSFORMS = """
delete window.RTCRtpScriptTransform;
delete RTCRtpSender.prototype.createEncodedStreams;
delete RTCRtpReceiver.prototype.createEncodedStreams;
"""


@pytest.fixture(scope="module")
def relay(web, tmp_path_factory):
    process = start_relay(tmp_path_factory.mktemp("relay"), web,
                          env={"PRAATBOX_RELAY_DECODE_PROBE": "1"})
    yield process
    process.stop()


def probe_counts(relay) -> tuple[int, int]:
    """(decoded, not decodable) so far, from the probe's last log line."""
    lines = PROBE_LINE.findall(relay.log())
    return (int(lines[-1][0]), int(lines[-1][1])) if lines else (0, 0)


def decoding_everyone(current, count, frames=10):
    """Group mode, and video decodes and audio arrives from every other participant."""
    others = [p for p in current["participants"] if p != current["self"]]
    media = current["media"]
    return current["mode"] == "group" and len(others) == count - 1 and all(
        p in media and media[p]["framesDecoded"] >= frames and media[p]["audioBytesReceived"] > 0
        for p in others)


def frames_from(current):
    return {p: m["framesDecoded"] for p, m in current["media"].items() if p != "relay"}


def meet(new_person, count, terms, unable=()):
    """Open `count` pages in one room (the first starts it); indexes in `unable` cannot encrypt."""
    pages = [new_person() for _ in range(count)]
    for index in unable:
        pages[index].context.add_init_script(WITHOUT_ENCODED_TRANSFORMS)
    start_session(pages[0], terms)
    for page in pages[1:]:
        join_session(page, terms)
    return pages


def test_three_people_are_end_to_end_encrypted_and_the_relay_cannot_decode(new_person, relay):
    terms = ("Praatbox Gent", "Zürich", f"sleutel{next(_words)}")
    pages = meet(new_person, 3, terms)
    decoded_before, undecodable_before = probe_counts(relay)
    for page in pages:
        current = wait_for_state(
            page, lambda s: decoding_everyone(s, 3) and s["e2eeFrames"]["decrypted"] > 0,
            timeout=40, what="video and audio from both others, encrypted")
        assert current["e2ee"] is True
        assert current["e2eeFrames"]["encrypted"] > 0
        assert current["e2eeFrames"]["clear"] == 0
        expect_security_state(page, "group-e2ee")
        assert "still end-to-end encrypted" in page.get_by_test_id("security-status").inner_text()

    # The same group safety numbers on every page, from all three identity keys.
    words = [wait_for_state(page, lambda s: len(s["safetyWords"]) == 4,
                            what="group safety numbers")["safetyWords"] for page in pages]
    assert words[0] == words[1] == words[2]
    pages[0].locator("#safety summary").click()
    assert pages[0].get_by_test_id("safety-words").inner_text() == " · ".join(words[0])
    assert pages[0].locator("#safety-hint-group").is_visible()

    # What passed through the relay meanwhile: many frames, none of them decodable.
    wait_for_state(pages[0], lambda s: all(n >= 60 for n in frames_from(s).values()),
                   what="a few seconds of video")
    decoded, undecodable = probe_counts(relay)
    assert undecodable - undecodable_before > 50
    assert decoded - decoded_before == 0


def test_leaving_and_kicking_switch_every_sender_to_keys_the_departed_never_had(new_person, relay):
    terms = ("Praatbox Gent", "Zürich", f"vertrek{next(_words)}")
    counsellor, client, third, fourth = pages = meet(new_person, 4, terms)
    for page in pages:
        wait_for_state(page, lambda s: decoding_everyone(s, 4, frames=5) and s["e2ee"],
                       timeout=60, what="four people, encrypted")
    words_before = state(counsellor)["safetyWords"]

    # The fourth person hangs up: what they ever held, they keep; none of it is used afterwards.
    departed = state(fourth)["e2eeKeys"]["known"]
    fourth.get_by_test_id("hangup").click()
    remaining = [counsellor, client, third]
    check_new_keys_and_media(remaining, departed)
    words_after = wait_for_state(
        counsellor, lambda s: s["safetyWords"] and s["safetyWords"] != words_before,
        what="new safety numbers")["safetyWords"]
    assert "safety numbers changed" in counsellor.locator("#notices").inner_text()
    for page in remaining:
        wait_for_state(page, lambda s, w=words_after: s["safetyWords"] == w,
                       what="the same new numbers")

    # The counsellor removes the third person: the same holds for a kick.
    departed = state(third)["e2eeKeys"]["known"]
    third_id = state(third)["self"]
    counsellor.locator(f'.tile[data-peer="{third_id}"]').get_by_test_id("kick").click()
    third.get_by_test_id("kicked-notice").wait_for()
    for page in (counsellor, client):
        current = wait_for_state(
            page, lambda s, d=set(departed): s["e2eeKeys"]["sending"] is not None
            and s["e2eeKeys"]["sending"] not in d, what="a key the kicked person never had")
        assert current["e2eeKeys"]["sending"] not in departed
        wait_for_state(page, receiving_media, timeout=30, what="the call goes on, now direct")


def check_new_keys_and_media(pages, departed):
    """Every remaining page sends under a key the departed page never held, and still decodes."""
    departed = set(departed)
    for page in pages:
        current = wait_for_state(page, lambda s: s["e2eeKeys"]["sending"] not in departed
                                 and len(s["participants"]) == len(pages), timeout=10,
                                 what="a new sending key")
        before = frames_from(current)
        wait_for_state(page, lambda s, b=before: decoding_everyone(s, len(pages)) and all(
            s["media"][p]["framesDecoded"] > b.get(p, 0) + 10 for p in frames_from(s)),
            timeout=20, what="video still decoding under the new keys")


def test_a_browser_that_cannot_encrypt_is_announced_to_all_and_refused_when_required(
        new_person, relay):
    terms = ("Praatbox Gent", "Zürich", f"zonder{next(_words)}")
    counsellor, client, unable = pages = meet(new_person, 3, terms, unable=(2,))
    decoded_before, _ = probe_counts(relay)
    for page in pages:
        current = wait_for_state(page, lambda s: decoding_everyone(s, 3), timeout=40,
                                 what="a group in the clear")
        assert current["e2ee"] is False
        expect_security_state(page, "group")
        assert "one participant's browser cannot encrypt" in page.get_by_test_id(
            "security-status").inner_text()
    # Frames in the clear: the probe decodes them (so it would have decoded encrypted ones too).
    wait_for_state(counsellor, lambda s: all(n >= 60 for n in frames_from(s).values()),
                   what="a few seconds of video")
    decoded, _ = probe_counts(relay)
    assert decoded - decoded_before > 50

    # The counsellor requires encryption: the browser that cannot is removed and told why; the
    # others are encrypted again.
    counsellor.locator("#add-password").click()
    counsellor.get_by_test_id("require-e2ee-toggle").check()
    unable.get_by_test_id("e2ee-refused-notice").wait_for()
    for page in (counsellor, client):
        wait_for_state(page, lambda s: len(s["participants"]) == 2, what="the refused one gone")
        wait_for_state(page, receiving_media, timeout=30, what="the call goes on")

    # Coming back with the same browser is refused before entering.
    unable.reload()
    join_session(unable, terms)
    unable.get_by_test_id("e2ee-refused-notice").wait_for()
    assert len(state(counsellor)["participants"]) == 2
