"""The word lists for the third term are long, plain and harmless: scripts/check_wordlists.py."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from praatbox.terms import draw_words, normalise_term, word_list

# Lists in plain a-z; every list (all ten languages) passes the checker.
PLAIN_LATIN = ["de", "nl", "en", "fr"]
LANGUAGES = PLAIN_LATIN + ["ar", "tr", "pl", "ro", "uk", "ru"]
ROOT = Path(__file__).resolve().parents[2]
CHECKER = ROOT / "scripts" / "check_wordlists.py"


def load_checker():
    spec = importlib.util.spec_from_file_location("check_wordlists", CHECKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("language", PLAIN_LATIN)
def test_each_language_offers_at_least_a_thousand_plain_words(language):
    words = word_list(language)
    assert len(words) >= 1000
    assert len(set(words)) == len(words)
    assert all(re.fullmatch(r"[a-z]{3,9}", word) for word in words)
    assert all(normalise_term(word) == word for word in words)


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_list_passes_the_checker(language):
    checker = load_checker()
    assert len(word_list(language)) >= 1000
    assert checker.problems(language, list(word_list(language))) == []
    text = (ROOT / "praatbox" / "wordlists" / f"{language}.txt").read_text(encoding="utf-8")
    assert checker.file_problems(language, text) == []


def test_checker_script_exits_zero_for_all_lists():
    result = subprocess.run(
        [sys.executable, str(CHECKER)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    for language in LANGUAGES:
        assert re.search(rf"^{language} \d+ words ok$", result.stdout, re.MULTILINE)


def test_checker_names_each_kind_of_problem():
    checker = load_checker()
    found = "\n".join(checker.problems("en", ["gun", "apple", "Apple", "apple", "ab"]))
    for expected in ("only 5 words", "'Apple'", "'ab'", "duplicates: apple", "not sorted", "gun"):
        assert expected in found
    assert any("kut" in message for message in checker.problems("fr", ["kut"]))
    assert checker.file_problems("en", "apple") != []


def test_drawn_words_are_distinct_and_from_the_list():
    words = draw_words("en", 6)
    assert len(set(words)) == 6
    assert set(words) <= set(word_list("en"))
