import pytest

from praatbox.security import same_origin
from tests.forms import TERMS, csrf_from, post_terms


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
    assert '<html lang="nl" dir="ltr">' in client.get("/?lang=nl").get_data(as_text=True)
    assert '<html lang="nl" dir="ltr">' in client.get("/faq").get_data(as_text=True)


def test_health_and_metrics_count_without_personal_data(client):
    room_url = post_terms(client, "/start", TERMS).headers["Location"]
    assert client.get("/healthz").get_json() == {"status": "ok", "rooms": 1, "participants": 0}
    metrics = client.get("/metrics").get_data(as_text=True)
    assert "praatbox_rooms 1" in metrics
    assert room_url.rsplit("/", 1)[-1] not in metrics
    assert not any(term in metrics for term in TERMS.values())


@pytest.mark.parametrize("origin, host, public, ok", [
    ("http://localhost:8000", "localhost:8000", "", True),
    ("http://evil.example", "localhost:8000", "", False),
    (None, "localhost:8000", "", False),
    ("https://praat.example", "praat.example", "https://praat.example", True),
    ("http://praat.example", "praat.example", "https://praat.example", False),
])
def test_websocket_origin_check(origin, host, public, ok):
    assert same_origin(origin, host, public) is ok


def lock_room(client, room_url, password="kamille-tuin"):
    token = csrf_from(client.get("/").get_data(as_text=True))
    return client.post(room_url + "/lock", data={"password": password, "csrf_token": token},
                       headers={"HX-Request": "true"})


def test_locked_room_asks_a_client_for_the_password_first(app):
    counsellor, client = app.test_client(), app.test_client()
    room_url = post_terms(counsellor, "/start", TERMS).headers["Location"]
    assert lock_room(counsellor, room_url).status_code == 200
    post_terms(client, "/join", TERMS)
    page = client.get(room_url).get_data(as_text=True)
    assert 'data-testid="password-input"' in page and 'data-testid="hangup"' not in page
    token = csrf_from(page)
    wrong = client.post(room_url + "/password", data={"password": "nope", "csrf_token": token},
                        headers={"HX-Request": "true"})
    assert wrong.status_code == 422
    assert 'data-testid="password-error"' in wrong.get_data(as_text=True)
    right = client.post(room_url + "/password",
                        data={"password": "kamille-tuin", "csrf_token": token},
                        headers={"HX-Request": "true"})
    assert right.headers["HX-Redirect"] == room_url
    assert 'data-testid="hangup"' in client.get(room_url).get_data(as_text=True)
    # The counsellor never needs the password for their own room.
    assert 'data-testid="hangup"' in counsellor.get(room_url).get_data(as_text=True)


def test_a_new_password_locks_out_clients_who_only_knew_the_old_one(app):
    counsellor, client = app.test_client(), app.test_client()
    room_url = post_terms(counsellor, "/start", TERMS).headers["Location"]
    lock_room(counsellor, room_url, "first-password")
    post_terms(client, "/join", TERMS)
    token = csrf_from(client.get(room_url).get_data(as_text=True))
    client.post(room_url + "/password", data={"password": "first-password", "csrf_token": token})
    lock_room(counsellor, room_url, "second-password")
    assert 'data-testid="password-input"' in client.get(room_url).get_data(as_text=True)


def test_wrong_passwords_are_slowed_down(app):
    counsellor, client = app.test_client(), app.test_client()
    room_url = post_terms(counsellor, "/start", TERMS).headers["Location"]
    lock_room(counsellor, room_url)
    post_terms(client, "/join", TERMS)
    token = csrf_from(client.get(room_url).get_data(as_text=True))
    statuses = [client.post(room_url + "/password", data={"password": "x", "csrf_token": token},
                            headers={"HX-Request": "true"}) for _ in range(3)]
    assert [s.status_code for s in statuses] == [422, 422, 429]
    assert "wait" in statuses[-1].get_data(as_text=True)
    # Even the right password is not checked while the delay runs.
    right = client.post(room_url + "/password",
                        data={"password": "kamille-tuin", "csrf_token": token})
    assert right.status_code == 429


def test_only_the_moderator_can_set_a_password_and_it_must_be_usable(app):
    counsellor, client = app.test_client(), app.test_client()
    room_url = post_terms(counsellor, "/start", TERMS).headers["Location"]
    post_terms(client, "/join", TERMS)
    assert lock_room(client, room_url).status_code == 403
    assert lock_room(counsellor, room_url, "ab").status_code == 422


def test_password_never_reaches_the_log(app, caplog):
    counsellor = app.test_client()
    room_url = post_terms(counsellor, "/start", TERMS).headers["Location"]
    with caplog.at_level("DEBUG"):
        lock_room(counsellor, room_url, "geheimwoord")
    assert "geheimwoord" not in caplog.text


def test_reusing_terms_of_an_ended_room_warns_but_may_continue(app):
    counsellor = app.test_client()
    room_url = post_terms(counsellor, "/start", TERMS).headers["Location"]
    room_id = room_url.rsplit("/", 1)[-1]
    registry = app.extensions["praatbox.hub"].registry
    registry.join(room_id, "mod", "v", True, 0)
    registry.end(room_id, "mod", app.extensions["praatbox.hub"].clock())
    warned = post_terms(counsellor, "/start", TERMS, htmx=True)
    assert warned.status_code == 409
    assert 'data-testid="terms-reused"' in warned.get_data(as_text=True)
    again = post_terms(counsellor, "/start", dict(TERMS, reuse="1"), htmx=True)
    assert again.headers["HX-Redirect"] == room_url
