import pytest

from praatbox.terms import MAX_TERM_CHARS, TermError, Terms, is_room_id, normalise_term


def room(name, location, word, secret="s"):
    return Terms.from_form({"name": name, "location": location, "word": word}).room_id(secret)


@pytest.mark.parametrize(
    "typed, said",
    [
        ("Zürich ", "zurich"),
        ("  GENT  ", "gent"),
        ("Saint-Gilles", "saint gilles"),
        ("l'Ile", "lile"),
        ("Straße", "strasse"),
        ("Ｇｅｎｔ", "gent"),  # full-width letters from a phone keyboard
        ("Sint   Niklaas", "sint niklaas"),
        ("Ærø", "aero"),
    ],
)
def test_typed_variants_normalise_to_what_was_said(typed, said):
    assert normalise_term(typed) == said


def test_same_terms_typed_differently_give_the_same_room():
    assert room("Praatbox Gent", "Zürich", "Appel") == room("praatbox  gent ", "zurich", "APPEL ")


def test_different_terms_give_different_rooms():
    assert room("box", "gent", "apple") != room("box", "gent", "pear")


def test_a_different_secret_gives_a_different_room_id():
    assert room("box", "gent", "apple", "one") != room("box", "gent", "apple", "two")


def test_room_id_reveals_nothing_of_the_terms():
    room_id = room("praatbox", "gent", "apple")
    assert is_room_id(room_id)
    assert "gent" not in room_id and "apple" not in room_id


@pytest.mark.parametrize("value, reason", [
    ("", "empty"), ("   ", "empty"), ("<script>", "characters"), ("a;b", "characters"),
    ("x" * (MAX_TERM_CHARS + 1), "too-long"), ("x" * 5000, "too-long"),
])
def test_bad_terms_are_refused_with_a_reason(value, reason):
    with pytest.raises(TermError) as caught:
        Terms.from_form({"name": value, "location": "gent", "word": "apple"})
    assert caught.value.field == "name"
    assert caught.value.reason == reason


def test_missing_field_is_empty():
    with pytest.raises(TermError) as caught:
        Terms.from_form({"name": "box", "location": "gent"})
    assert caught.value.field == "word"
