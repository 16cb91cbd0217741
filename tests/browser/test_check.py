"""The self-test page in real headless Chromium: devices, level, tone and network verdict."""


import pytest
from playwright.sync_api import expect

from tests.browser.flows import people
from tests.live import start_turn, start_web


def test_check_page_reports_devices_and_what_the_network_allows(new_person):
    page = new_person()
    page.goto("/check?lang=en")
    verdict = page.get_by_test_id("check-verdict")
    # The test server offers no STUN/TURN (PRAATBOX_TURN_URLS=none) and only loopback exists.
    expect(verdict).to_have_attribute("data-verdict", "local")
    assert "direct connection is possible on this network" in verdict.inner_text()
    assert int(page.get_by_test_id("check-count-host").inner_text()) >= 1
    assert page.get_by_test_id("check-count-relay").inner_text() == "0"
    assert page.get_by_test_id("check-candidates").is_visible()

    expect(page.get_by_test_id("check-camera-result")).to_contain_text("camera works")
    page.wait_for_function("() => document.getElementById('check-video').videoWidth > 0")
    # Chromium's fake microphone beeps: the meter moves and the page says it hears us.
    expect(page.get_by_test_id("check-mic-result")).to_contain_text("We hear you")

    page.get_by_test_id("check-speaker").click()
    expect(page.get_by_test_id("check-speaker-result")).to_contain_text("Did you hear a tone")

    page.get_by_test_id("check-network-retry").click()
    expect(verdict).to_have_attribute("data-verdict", "local")


@pytest.fixture(scope="module")
def web_with_turn(tmp_path_factory):
    """The bundled TURN server on loopback, and a web server that tells browsers about it."""
    tmp = tmp_path_factory.mktemp("turn")
    turn, port = start_turn(tmp)
    web = start_web(tmp, {"PRAATBOX_TURN_URLS": f"stun:127.0.0.1:{port},"
                                                 f"turn:127.0.0.1:{port}?transport=udp"})
    yield web
    web.stop()
    turn.stop()


def test_check_page_finds_the_relay_server_when_one_is_configured(browser, web_with_turn):
    with people(browser, web_with_turn.url) as new_page:
        page = new_page()
        page.goto("/check?lang=en")
        verdict = page.get_by_test_id("check-verdict")
        expect(verdict).to_have_attribute("data-verdict", "relay", timeout=15_000)
        assert "calls work from here" in verdict.inner_text()
        assert int(page.get_by_test_id("check-count-relay").inner_text()) >= 1
