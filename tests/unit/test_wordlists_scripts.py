"""Every word list present passes the checker, whose rules hold for Arabic, Cyrillic and Latin."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from praatbox.terms import word_list

ROOT = Path(__file__).resolve().parents[2]
CHECKER = ROOT / "scripts" / "check_wordlists.py"


def load_checker():
    spec = importlib.util.spec_from_file_location("check_wordlists_scripts", CHECKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


checker = load_checker()
PRESENT = [code for code in checker.LANGUAGES if (checker.WORDLISTS / f"{code}.txt").is_file()]


def test_the_checker_knows_all_ten_languages():
    assert set(checker.LANGUAGES) == {"de", "nl", "en", "fr", "ar", "tr", "pl", "ro", "uk", "ru"}
    assert set(checker.WORD_PATTERNS) == set(checker.LANGUAGES)
    assert {"ar", "tr", "pl"} <= set(PRESENT)


@pytest.mark.parametrize("language", PRESENT)
def test_every_present_list_passes_the_checker(language):
    text = (checker.WORDLISTS / f"{language}.txt").read_text(encoding="utf-8")
    assert checker.file_problems(language, text) == []
    assert len(word_list(language)) >= checker.MIN_WORDS


def test_no_homographs_across_the_present_lists():
    assert checker.homographs({code: list(word_list(code)) for code in PRESENT}) == []


def test_the_script_checks_every_present_list_by_default():
    result = subprocess.run(
        [sys.executable, str(CHECKER)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    for language in PRESENT:
        assert f"{language} " in result.stdout
    assert f"homographs across {len(PRESENT)} lists ok" in result.stdout


@pytest.mark.parametrize(
    "language, word",
    [
        ("ar", "قَلَم"),  # harakat
        ("ar", "قـلم"),  # tatweel
        ("ar", "قلم1"),
        ("tr", "kedı̇"),  # i with a combining dot
        ("tr", "Kedi"),
        ("pl", "łódź!"),
        ("ro", "masă" + "ş"),  # Turkish cedilla, not the Romanian comma below
        ("uk", "сыр"),  # ы is Russian, not Ukrainian
        ("ru", "їжак"),  # ї is Ukrainian, not Russian
        ("ru", "чайник" + "чайник"),  # longer than the limit
        ("en", "über"),
    ],
)
def test_letters_outside_a_languages_alphabet_are_refused(language, word):
    assert any(repr(word) in message for message in checker.problems(language, [word]))


@pytest.mark.parametrize(
    "language, words",
    [("ar", ["قلم"]), ("tr", ["ışık"]), ("pl", ["żółw"]), ("ro", ["țară"]), ("uk", ["їжак"]),
     ("ru", ["ёлка"])],
)
def test_plain_words_of_each_alphabet_pass(language, words):
    assert all("alphabet" not in message for message in checker.problems(language, words))


def test_words_that_merge_after_normalisation_are_refused_in_one_list():
    found = "\n".join(checker.problems("tr", ["cam", "çam"]))
    assert "the same after normalisation: cam/çam" in found
    found = "\n".join(checker.problems("ar", ["حديقة", "حديقه"]))
    assert "the same after normalisation" in found


def test_a_word_vulgar_in_one_language_is_refused_in_every_list_even_without_marks():
    assert any("pic" in message for message in checker.problems("fr", ["pic"]))  # Turkish piç
    assert any("pedal" in message for message in checker.problems("tr", ["pedal"]))  # Polish
    assert any("denylisted" in message for message in checker.problems("ar", ["كلب"]))
    assert any("denylisted" in message for message in checker.problems("pl", ["wódka"]))


def test_homographs_are_refused_unless_they_mean_the_same():
    found = checker.homographs({"en": ["boot", "taxi"], "de": ["boot", "taxi"], "tr": ["kedi"]})
    assert found == ["homograph across lists: 'boot' in de, en"]
    assert checker.homographs({"nl": ["vis"], "fr": ["vis"]}) != []
    assert checker.homographs({"tr": ["çam"], "en": ["cam"]}) != []
