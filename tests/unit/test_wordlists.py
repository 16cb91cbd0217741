import re

import pytest

from praatbox.terms import draw_words, normalise_term, word_list

LANGUAGES = ["de", "nl", "en", "fr"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_offers_at_least_a_thousand_plain_words(language):
    words = word_list(language)
    assert len(words) >= 1000
    assert len(set(words)) == len(words)
    assert all(re.fullmatch(r"[a-z]{3,9}", word) for word in words)
    assert all(normalise_term(word) == word for word in words)


def test_drawn_words_are_distinct_and_from_the_list():
    words = draw_words("en", 6)
    assert len(set(words)) == 6
    assert set(words) <= set(word_list("en"))
