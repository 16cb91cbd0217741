import pytest

from praatbox.security import same_origin
from tests.conftest import csrf_from

TERMS = {"name": "Praatbox Gent", "location": "Zürich", "word": "apple"}


def post_terms(client, path, terms, htmx=False):
    token = csrf_from(client.get("/").get_data(as_text=True))
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(path, data=dict(terms, csrf_token=token), headers=headers)


def test_home_page_offers_the_form_with_test_ids_and_words(client):
    html = client.get("/?lang=en").get_data(as_text=True)
    for test_id in ["lang-select", "term-name", "term-location", "term-word", "word-refresh",
                    "start", "join"]:
        assert f'data-testid="{test_id}"' in html
    assert html.count('class="chip"') == 6
    assert "confidential" in html


def test_new_words_partial_is_a_fragment(client):
    html = client.get("/words").get_data(as_text=True)
    assert html.lstrip().startswith('<ul id="word-choices"')
    assert "<html" not in html


@pytest.mark.parametrize("path", ["/start", "/join"])
def test_post_without_csrf_token_is_refused(client, path):
    assert client.post(path, data=TERMS).status_code == 400


def test_start_redirects_to_the_room_without_terms_in_the_url(client):
    response = post_terms(client, "/start", TERMS)
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/r/")
    for term in ["praatbox", "gent", "zurich", "apple"]:
        assert term not in location.lower()
    room = client.get(location).get_data(as_text=True)
    assert 'data-testid="security-status"' in room and 'data-testid="hangup"' in room


def test_htmx_start_answers_with_a_client_side_redirect(client):
    response = post_terms(client, "/start", TERMS, htmx=True)
    assert response.headers["HX-Redirect"].startswith("/r/")


def test_client_before_counsellor_waits_then_enters(app):
    client, counsellor = app.test_client(), app.test_client()
    room_url = post_terms(client, "/join", dict(TERMS, word=" APPLE")).headers["Location"]
    assert 'data-testid="waiting-screen"' in client.get(room_url).get_data(as_text=True)
    assert client.get(room_url + "/waiting").status_code == 204
    assert post_terms(counsellor, "/start", TERMS).headers["Location"] == room_url
    poll = client.get(room_url + "/waiting")
    assert poll.headers["HX-Refresh"] == "true"
    assert 'data-testid="hangup"' in client.get(room_url).get_data(as_text=True)


@pytest.mark.parametrize("lang, text", [("en", "Please fill in"), ("de", "Bitte"), ("nl", "Vul"),
                                        ("fr", "Veuillez")])
def test_empty_term_gets_a_translated_inline_error(client, lang, text):
    client.get(f"/?lang={lang}")
    response = post_terms(client, "/start", dict(TERMS, name="  "), htmx=True)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-testid="form-error"' in html
    assert text in html
    assert "<html" not in html  # an HTMX swap of the form only


@pytest.mark.parametrize("bad", ["x" * 500, "<b>hi</b>", "\x00\x01", "a" * 41, "🙂"])
def test_odd_terms_never_cause_a_server_error(client, bad):
    response = post_terms(client, "/start", dict(TERMS, location=bad))
    assert response.status_code == 422
    assert "<b>hi</b>" not in response.get_data(as_text=True)


def test_unknown_room_id_shapes_are_not_found(client):
    assert client.get("/r/../../etc").status_code == 404
    assert client.get("/r/UPPERCASE").status_code == 404


def test_every_page_sends_the_security_headers(client):
    for path in ["/", "/faq", "/privacy", "/check", "/healthz"]:
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
        assert headers["Referrer-Policy"] == "no-referrer"
        assert "camera=(self)" in headers["Permissions-Policy"]


def test_language_picker_sets_html_lang_and_is_remembered(client):
    assert '<html lang="nl">' in client.get("/?lang=nl").get_data(as_text=True)
    assert '<html lang="nl">' in client.get("/faq").get_data(as_text=True)


def test_health_and_metrics_count_without_personal_data(client):
    post_terms(client, "/start", TERMS)
    assert client.get("/healthz").get_json() == {"status": "ok", "rooms": 1, "participants": 0}
    metrics = client.get("/metrics").get_data(as_text=True)
    assert "praatbox_rooms 1" in metrics


@pytest.mark.parametrize("origin, host, public, ok", [
    ("http://localhost:8000", "localhost:8000", "", True),
    ("http://evil.example", "localhost:8000", "", False),
    (None, "localhost:8000", "", False),
    ("https://praat.example", "praat.example", "https://praat.example", True),
    ("http://praat.example", "praat.example", "https://praat.example", False),
])
def test_websocket_origin_check(origin, host, public, ok):
    assert same_origin(origin, host, public) is ok
