"""Check the word lists offered for the third term (praatbox/wordlists/<lang>.txt).

Usage: .venv/bin/python scripts/check_wordlists.py [LANG ...]   (default: en de nl fr)

A counsellor reads the word to a client over the phone, so every list must hold at least
MIN_WORDS plain words (3 to 9 lowercase ASCII letters), one per line, sorted, without
duplicates, ending with a newline, and none of them may be an upsetting word. The denylists
below are a safety net for the obvious cases, not a replacement for reading the lists.
Exits 1 and names every problem if a list fails.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

WORDLISTS = Path(__file__).resolve().parent.parent / "praatbox" / "wordlists"
LANGUAGES = ("en", "de", "nl", "fr")
MIN_WORDS = 1000
WORD_PATTERN = re.compile(r"[a-z]{3,9}")

# Words about death, violence, weapons, crime, illness, drugs and alcohol, sex, religion,
# money and family roles: none may appear as a whole word in that language's list.
DENYLIST: dict[str, frozenset[str]] = {
    "en": frozenset(
        """
        dead death die dying kill killer murder corpse grave coffin funeral skull bone
        gun rifle pistol bullet bomb knife sword dagger arrow axe weapon war army soldier
        blood wound injury scar crime thief robber prison jail police rope noose
        drug drugs pill needle cocaine heroin weed pot beer wine vodka whisky alcohol
        cigarette cigar tobacco cancer virus disease illness hospital doctor nurse
        sex nude naked breast penis church god bible angel devil hell
        mother father child baby son daughter sister brother wife husband
        money debt cash bank coin wallet fear hate anger grief
        """.split()
    ),
    "de": frozenset(
        """
        tod tot tote sterben leiche grab sarg friedhof mord killer waffe gewehr pistole
        kugel patrone bombe messer schwert dolch pfeil axt krieg armee soldat blut wunde
        narbe dieb verbrecher knast polizei seil strick galgen drogen droge pille spritze
        kokain heroin bier wein schnaps wodka alkohol zigarette zigarre tabak krebs virus
        krankheit arzt klinik kirche gott bibel engel teufel mutter vater kind baby sohn
        tochter schwester bruder frau mann geld schulden bank kies knete angst hass wut
        """.split()
    ),
    "nl": frozenset(
        """
        dood dode sterven lijk graf doodskist kist begrafenis moord moordenaar wapen geweer
        pistool kogel bom mes zwaard dolk pijl bijl oorlog leger soldaat bloed wond litteken
        dief misdaad gevangenis cel politie touw strop drugs wiet pil naald cocaine heroine
        bier wijn jenever wodka whisky alcohol sigaret sigaar tabak kanker virus ziekte
        ziekenhuis dokter kerk god bijbel engel duivel hel moeder vader kind baby zoon dochter
        zus broer vrouw man geld schuld bank munt angst haat woede
        """.split()
    ),
    "fr": frozenset(
        """
        mort morte mourir cadavre tombe cercueil meurtre tueur arme fusil pistolet balle
        bombe couteau poignard fleche hache guerre armee soldat sang blessure cicatrice
        voleur crime prison police corde drogue cannabis pilule seringue cocaine biere vin
        vodka whisky alcool cigarette cigare tabac cancer virus maladie hopital medecin
        eglise dieu bible ange diable enfer mere pere enfant bebe fils fille soeur frere
        femme mari argent dette banque peur haine colere
        """.split()
    ),
}

# Vulgar or insulting in at least one of the four languages: banned from every list, since a
# client may speak another language than the interface.
OFFENSIVE_ANYWHERE = frozenset(
    """
    ass bitch cock cunt dick fag faggot fuck piss shit slut tit tits twat whore dyke pussy
    arsch fick ficken fotze hure kacke mist nutte pimmel schlampe schwanz titte gift kot
    kut lul pik kont tiet hoer slet klote kanker tering tyfus pest mongool poep kak drol
    bite con conne cul chatte pute putain salope merde queue moule pine pet pede
    """.split()
)


def problems(language: str, words: list[str]) -> list[str]:
    """Return a message for every problem with one language's words (empty if fine)."""
    found: list[str] = []
    if len(words) < MIN_WORDS:
        found.append(f"{language}: only {len(words)} words, need at least {MIN_WORDS}")
    bad = [word for word in words if not WORD_PATTERN.fullmatch(word)]
    if bad:
        found.append(f"{language}: not 3-9 lowercase ASCII letters: {', '.join(map(repr, bad))}")
    duplicates = sorted(word for word, count in Counter(words).items() if count > 1)
    if duplicates:
        found.append(f"{language}: duplicates: {', '.join(duplicates)}")
    unsorted = [b for a, b in zip(words, words[1:], strict=False) if b < a]
    if unsorted:
        found.append(f"{language}: not sorted, first out of place: {unsorted[0]!r}")
    denied = DENYLIST.get(language, frozenset()) | OFFENSIVE_ANYWHERE
    upsetting = sorted(set(words) & denied)
    if upsetting:
        found.append(f"{language}: denylisted words: {', '.join(upsetting)}")
    return found


def file_problems(language: str, text: str) -> list[str]:
    """Return problems with the file's layout, then with its words."""
    found: list[str] = []
    if not text.endswith("\n"):
        found.append(f"{language}: file does not end with a newline")
    lines = text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")
    if any(line != line.strip() or not line for line in lines):
        found.append(f"{language}: blank lines or surrounding whitespace")
    return found + problems(language, [line.strip() for line in lines if line.strip()])


def main(argv: list[str]) -> int:
    """Check the named languages (default all); print a report and return the exit code."""
    failed = False
    for language in argv or LANGUAGES:
        path = WORDLISTS / f"{language}.txt"
        if not path.is_file():
            sys.stderr.write(f"{language}: missing {path}\n")
            failed = True
            continue
        text = path.read_text(encoding="utf-8")
        found = file_problems(language, text)
        count = len([line for line in text.splitlines() if line.strip()])
        sys.stdout.write(f"{language} {count} words {'FAIL' if found else 'ok'}\n")
        for message in found:
            sys.stderr.write(f"  {message}\n")
        failed = failed or bool(found)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
