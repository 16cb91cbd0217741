"""The counsellor's invite panel and the phone-sized room, in real browsers."""

from __future__ import annotations

import base64
import itertools
import zlib
from urllib.parse import unquote

from playwright.sync_api import Page, expect

from tests.browser.flows import (
    MEDIA_PERMISSIONS,
    enter_room,
    join_session,
    people,
    receiving_media,
    start_session,
    wait_for_state,
)

PASSWORD = "Groene-Stoel-48"
PHONE = {"width": 360, "height": 640}
_rounds = itertools.count()


def fresh_terms() -> tuple[str, str, str]:
    return ("Uitnodiging", "Brugge", f"kaars{next(_rounds)}")


def cookie_payload(value: str) -> str:
    """Read a Flask session cookie's payload (signed, not encrypted) without the secret."""
    compressed = value.startswith(".")
    payload = value.lstrip(".").split(".")[0]
    data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return (zlib.decompress(data) if compressed else data).decode(errors="replace")


def set_password(page: Page, password: str) -> None:
    page.get_by_test_id("add-password").click()
    page.get_by_test_id("password-set-input").fill(password)
    page.get_by_test_id("password-set-submit").click()
    wait_for_state(page, lambda s: s["locked"], what="room locked")


def test_invite_links_carry_the_room_url_and_the_phone_path_the_terms_only(browser, web):
    with people(browser, web.url, permissions=[*MEDIA_PERMISSIONS, "clipboard-read",
                                                "clipboard-write"]) as new_page:
        page = new_page()
        context = page.context
        sent: list[tuple[str, str, str]] = []
        page.on("request", lambda r: sent.append((r.method, r.url, r.post_data or "")))
        terms = fresh_terms()
        start_session(page, terms)
        room_url = page.url
        wait_for_state(page, lambda s: s["joined"] and s["moderator"],
                       what="counsellor in the room")

        # Not confidential: the room's address and nothing else.
        page.get_by_test_id("share-copy").click()
        expect(page.locator("#notices")).to_contain_text("copied")
        assert page.evaluate("navigator.clipboard.readText()") == room_url
        whatsapp = page.get_by_test_id("share-whatsapp").get_attribute("href") or ""
        assert whatsapp.startswith("https://wa.me/?text=") and room_url in unquote(whatsapp)
        email = page.get_by_test_id("share-email").get_attribute("href") or ""
        assert email.startswith("mailto:") and room_url in unquote(email)
        for href in (whatsapp, email):
            assert not any(term.lower() in unquote(href).lower() for term in terms)

        # The counsellor is reminded to lock the room first; the reminder goes once it is locked.
        reminder = page.locator('#invite [data-invite="lock-reminder"]')
        expect(reminder).to_be_visible()
        set_password(page, PASSWORD)
        expect(reminder).to_be_hidden()

        # Confidential: the three terms, large, and an sms: link with them, never the password.
        phone = page.get_by_test_id("share-phone")
        phone.click()
        for term in terms:
            expect(phone.locator(".invite-terms")).to_contain_text(term)
        sms = unquote(phone.locator('a[href^="sms:"]').get_attribute("href") or "")
        assert all(term in sms for term in terms) and PASSWORD not in sms
        assert "e-mail" in phone.inner_text()

        # A reload keeps them (this tab remembers them); another tab or device does not know them.
        page.reload()
        enter_room(page)
        page.get_by_test_id("share-phone").click()
        expect(page.get_by_test_id("share-phone").locator(".invite-terms")).to_contain_text(terms[2])
        page.evaluate("sessionStorage.clear()")
        page.reload()
        enter_room(page)
        page.get_by_test_id("share-phone").click()
        expect(page.locator('[data-invite="terms-missing"]')).to_be_visible()
        expect(page.get_by_test_id("share-phone").locator('a[href^="sms:"]')).to_be_hidden()

        # The terms went to the server once, in the body of POST /start, and nowhere else.
        for method, url, body in sent:
            assert not any(term.lower() in unquote(url).lower() for term in terms), url
            if not (method == "POST" and url.endswith("/start")):
                assert terms[2] not in body and terms[0] not in unquote(body), (method, url)
        assert any(url.endswith("/start") and terms[2] in body for _, url, body in sent)
        for cookie in context.cookies():
            assert terms[2] not in cookie_payload(cookie["value"])
            assert terms[2] not in cookie["value"]
        assert terms[2] not in web.log()


def fits_the_phone(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_phone_sized_pages_do_not_scroll_sideways_and_keep_hang_up_in_reach(browser, web):
    with people(browser, web.url, viewport=PHONE, is_mobile=True, has_touch=True) as new_page:
        counsellor, client = new_page(), new_page()
        terms = fresh_terms()
        counsellor.goto("/?lang=en")
        fits_the_phone(counsellor)
        start_session(counsellor, terms)
        join_session(client, terms)
        for page in (counsellor, client):
            wait_for_state(page, receiving_media, what="call on a phone-sized screen")
            fits_the_phone(page)
            hangup = page.get_by_test_id("hangup")
            expect(hangup).to_be_visible()
            box = hangup.bounding_box()
            assert box and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], box
        # Only the counsellor invites; their panel folds away once someone came in.
        assert client.get_by_test_id("share-phone").count() == 0
        assert client.get_by_test_id("share-copy").count() == 0
        expect(counsellor.locator("#invite")).not_to_have_attribute("open", "")
