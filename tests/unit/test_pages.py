"""The help, privacy and self-test pages."""

import json
import re

import pytest

from praatbox import create_app
from tests.forms import TEST_SECRET

PAGES = ["/check", "/faq", "/privacy"]


@pytest.mark.parametrize("path", PAGES)
def test_help_pages_answer_with_the_security_headers(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "camera=(self)" in response.headers["Permissions-Policy"]
    html = response.get_data(as_text=True)
    assert "<script>" not in html and " style=" not in html  # nothing the CSP would refuse


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("lang", ["de", "nl", "en", "fr"])
def test_help_pages_speak_the_chosen_language(client, path, lang):
    html = client.get(f"{path}?lang={lang}").get_data(as_text=True)
    assert f'<html lang="{lang}" dir="ltr">' in html


def test_footer_links_the_help_pages_everywhere(client):
    html = client.get("/?lang=en").get_data(as_text=True)
    for path in PAGES:
        assert f'href="{path}"' in html


def test_faq_explains_every_security_state_and_links_the_check(client):
    html = client.get("/faq?lang=en").get_data(as_text=True)
    assert 'href="/check"' in html
    for words in ["Waiting for the other person", "Direct connection", "Via relay server",
                  "Via the Praatbox server", "Safari", "Firefox", "Chrome", "Android"]:
        assert words in html


def test_privacy_names_the_operator_when_configured():
    app = create_app({"SECRET_KEY": TEST_SECRET, "TURN_URLS": [], "TESTING": True,
                      "OPERATOR_NAME": "Beratungsstelle Gent",
                      "OPERATOR_CONTACT": "info@example.org"})
    html = app.test_client().get("/privacy?lang=en").get_data(as_text=True)
    assert "Beratungsstelle Gent" in html and "info@example.org" in html


def test_privacy_says_when_no_operator_is_configured(client):
    html = client.get("/privacy?lang=en").get_data(as_text=True)
    assert 'data-testid="operator"' in html and "has not entered its name" in html


def test_privacy_escapes_the_operator_name():
    app = create_app({"SECRET_KEY": TEST_SECRET, "TURN_URLS": [], "TESTING": True,
                      "OPERATOR_NAME": "<script>x</script>"})
    html = app.test_client().get("/privacy").get_data(as_text=True)
    assert "<script>x</script>" not in html


def check_config(html):
    match = re.search(r'<script type="application/json" id="check-config">(.*?)</script>', html)
    assert match
    return json.loads(match.group(1))


def test_check_page_gets_the_room_pages_ice_servers_and_is_not_cached():
    app = create_app({"SECRET_KEY": TEST_SECRET, "TESTING": True,
                      "TURN_URLS": ["stun:turn.example.org:3478",
                                    "turn:turn.example.org:3478?transport=udp"]})
    response = app.test_client().get("/check")
    assert response.headers["Cache-Control"] == "no-store"
    servers = check_config(response.get_data(as_text=True))["iceServers"]
    urls = [url for server in servers for url in server["urls"]]
    assert "turn:turn.example.org:3478?transport=udp" in urls
    assert any(server.get("credential") for server in servers)


def test_check_page_without_ice_servers_says_so_in_its_config(client):
    assert check_config(client.get("/check").get_data(as_text=True))["iceServers"] == []


def test_home_links_the_self_test(client):
    html = client.get("/?lang=en").get_data(as_text=True)
    assert html.count('href="/check"') >= 2  # in the page and in the footer
