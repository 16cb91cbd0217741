"""Terms typed in Arabic, Cyrillic, Turkish, Polish or Romanian find the room without the marks."""

import pytest

from praatbox.terms import normalise_term
from tests.forms import post_terms


@pytest.mark.parametrize(
    "typed, said",
    [
        # Arabic: harakat, tatweel, hamza seats and alef forms, alef maksura, teh marbuta, digits.
        ("قَلَمٌ", "قلم"),
        ("قـــلم", "قلم"),
        ("أرنب", "ارنب"),
        ("إبريق", "ابريق"),
        ("آلة", "اله"),
        ("ٱلبيت", "البيت"),
        ("مؤسسة", "موسسه"),
        ("بئر", "بير"),
        ("مقهى", "مقهي"),
        ("حديقة", "حديقه"),
        ("کتاب", "كتاب"),  # keheh from a Persian keyboard
        ("كرسی", "كرسي"),  # Farsi yeh
        ("١٢٣ ۴۵۶", "123 456"),
        ("ﻻ", "لا"),  # presentation form from an old keyboard
        # Cyrillic: case, ё/е, й/и, ї/і, ґ/г.
        ("ЁЛКА", "елка"),
        ("Ёжик", "ежик"),
        ("ЧАЙНИК", "чаиник"),
        ("чайник", "чаиник"),
        ("Їжак", "іжак"),
        ("ҐАНОК", "ганок"),
        # Turkish: dotless ı, capital İ, and I all end as i.
        ("ışık", "isik"),
        ("IŞIK", "isik"),
        ("İstanbul", "istanbul"),
        ("çiçek", "cicek"),
        ("Ağaç", "agac"),
        # Romanian: comma below and cedilla forms are the same letter.
        ("ș", "s"),
        ("ş", "s"),
        ("Ț", "t"),
        ("ţ", "t"),
        ("pădure", "padure"),
        # Polish: ł has no decomposition of its own.
        ("Łódka", "lodka"),
        ("źdźbło", "zdzblo"),
        ("żółw", "zolw"),
        # German and mixed scripts.
        ("Straße", "strasse"),
        ("Gent قَلَم Ёлка", "gent قلم елка"),
    ],
)
def test_new_scripts_normalise_to_what_was_said(typed, said):
    assert normalise_term(typed) == said


@pytest.mark.parametrize(
    "with_marks, without_marks",
    [
        ("تُفَّاحَة", "تفاحه"),
        ("شَمْسِيَّة", "شمسيه"),
        ("ёлка", "ЕЛКА"),
        ("чайник", "чаиник"),
        ("ışık", "isik"),
        ("łódka", "lodka"),
    ],
)
def test_client_without_the_marks_joins_the_room_started_with_them(app, with_marks, without_marks):
    counsellor, client = app.test_client(), app.test_client()
    started = post_terms(counsellor, "/start", {"name": "Praatbox", "location": "Gent",
                                                "word": with_marks})
    joined = post_terms(client, "/join", {"name": "praatbox", "location": "gent",
                                          "word": without_marks})
    assert started.status_code == joined.status_code == 303
    assert started.headers["Location"] == joined.headers["Location"]


def test_a_different_arabic_word_is_a_different_room(app):
    counsellor, client = app.test_client(), app.test_client()
    started = post_terms(counsellor, "/start", {"name": "b", "location": "g", "word": "قلم"})
    joined = post_terms(client, "/join", {"name": "b", "location": "g", "word": "قمر"})
    assert started.headers["Location"] != joined.headers["Location"]
