"""The preview before the call: pickers, level meter, toggles, help when devices fail."""

import itertools

from playwright.sync_api import expect

from tests.browser.flows import fill_terms, receiving_media, start_session, wait_for_state

_words = itertools.count()

TRACK_SETTINGS = """(kind) => {
  const stream = document.getElementById("preview-video").srcObject;
  const track = stream && stream.getTracks().find((t) => t.kind === kind);
  if (!track) return null;
  const live = track.readyState === "live";
  return { id: track.getSettings().deviceId, enabled: track.enabled, live };
}"""

DENY_MEDIA = """
navigator.mediaDevices.getUserMedia = () =>
  Promise.reject(new DOMException("blocked by the test", "NotAllowedError"));
"""


def fresh_terms():
    return ("Voorbeeld", "Antwerpen", f"spiegel{next(_words)}")


def open_preview(page):
    fill_terms(page, *fresh_terms())
    page.get_by_test_id("start").click()
    page.wait_for_url("**/r/*")
    page.locator("#preview-enter:enabled").wait_for()


def test_preview_switches_devices_shows_the_level_and_keeps_the_toggles(new_person):
    page = new_person()
    open_preview(page)
    assert page.get_by_test_id("preview").is_visible()
    assert page.get_by_test_id("hangup").is_hidden()  # not in the call yet
    assert page.evaluate("typeof window.praatbox.state") == "function"
    assert not page.evaluate("window.praatbox.state()")["joined"]

    # Chromium's fake microphone beeps: the meter moves.
    page.wait_for_function("() => document.getElementById('mic-level').value > 0.2")

    microphones = page.get_by_test_id("mic-select").locator("option")
    assert microphones.count() >= 1 and microphones.first.inner_text()
    if microphones.count() > 1:
        before = page.evaluate(TRACK_SETTINGS, "audio")
        other = microphones.nth(1).get_attribute("value")
        assert other != before["id"]
        page.get_by_test_id("mic-select").select_option(other)
        page.wait_for_function(f"(other) => ({TRACK_SETTINGS})('audio')?.id === other", arg=other)
        assert page.evaluate(TRACK_SETTINGS, "video")["live"]

    page.get_by_test_id("preview-camera-toggle").click()
    expect(page.get_by_test_id("preview-camera-toggle")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate(TRACK_SETTINGS, "video")["enabled"] is False

    page.get_by_test_id("preview-enter").click()
    expect(page.get_by_test_id("preview")).to_be_hidden()
    camera = page.get_by_test_id("camera-toggle")
    expect(camera).to_have_attribute("aria-pressed", "true")
    assert camera.inner_text() == "Camera on"
    wait_for_state(page, lambda s: s["joined"], what="joined after the preview")
    camera.click()
    assert page.evaluate(
        "document.getElementById('local-video').srcObject.getVideoTracks()[0].enabled")


def test_preview_explains_blocked_devices_and_still_lets_people_in(new_person):
    counsellor, client = new_person(), new_person()
    terms = fresh_terms()
    start_session(counsellor, terms)

    client.add_init_script(DENY_MEDIA)
    fill_terms(client, *terms)
    client.get_by_test_id("join").click()
    problem = client.get_by_test_id("preview-problem")
    expect(problem).to_contain_text("blocks the camera and microphone")
    expect(client.get_by_test_id("preview-retry")).to_be_visible()
    expect(client.get_by_test_id("preview-mic-toggle")).to_be_disabled()
    client.get_by_test_id("preview-enter").click()
    # Without devices the client still sees and hears the counsellor.
    wait_for_state(client, receiving_media, what="media from the counsellor without own devices")


def test_blur_switched_on_in_the_preview_carries_into_the_call(new_person):
    page = new_person()
    open_preview(page)
    page.get_by_test_id("preview-blur-toggle").click()
    expect(page.get_by_test_id("preview-blur-toggle")).to_have_attribute(
        "aria-pressed", "true", timeout=30_000)
    # The self view shows the blurred canvas track, not the camera's own track.
    assert page.evaluate("""() => {
      const shown = document.getElementById("preview-video").srcObject.getVideoTracks()[0];
      return shown.readyState === "live" && !shown.label.startsWith("fake_device");
    }""")
    page.get_by_test_id("preview-enter").click()
    expect(page.get_by_test_id("blur-toggle")).to_have_attribute("aria-pressed", "true")
    assert wait_for_state(page, lambda s: s["joined"], what="joined")["blur"] is True
    page.get_by_test_id("blur-toggle").click()
    expect(page.get_by_test_id("blur-toggle")).to_have_attribute("aria-pressed", "false")
