"""Check the word lists offered for the third term (praatbox/wordlists/<lang>.txt).

Usage: .venv/bin/python scripts/check_wordlists.py [LANG ...]
(default: every language in LANGUAGES; a missing list fails)

A counsellor reads the word to a client over the phone, so every list must hold at least
MIN_WORDS plain words of MIN_LETTERS to MAX_LETTERS letters of that language's alphabet
(lowercase, NFC, no marks outside the alphabet: no Arabic harakat or tatweel, no apostrophes),
one per line, sorted by Python's default order of the NFC strings (code point order), without
duplicates, also after praatbox.terms.normalise_term, ending with a newline, and none of them
may be an upsetting word. Across the lists checked together, a normalised word may appear in
two lists only if it means the same there (SAME_MEANING), since a client may type the word from
another language's page. The denylists below are a safety net for the obvious cases, not a
replacement for reading the lists. Exits 1 and names every problem if a list fails.
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

from praatbox.terms import normalise_term

WORDLISTS = Path(__file__).resolve().parent.parent / "praatbox" / "wordlists"
LANGUAGES = ("en", "de", "nl", "fr", "ar", "tr", "pl", "ro", "uk", "ru")
MIN_WORDS = 1000
MIN_LETTERS = 3
MAX_LETTERS = 9

# Each language's lowercase letters as a regex character class; every code point is one letter.
LETTERS: dict[str, str] = {
    "en": "a-z",
    "de": "a-z",
    "nl": "a-z",
    "fr": "a-z",
    "tr": "a-zçğıöşü",
    "pl": "a-ząćęłńóśźż",
    "ro": "a-zăâîșț",  # comma-below ș ț, not the Turkish cedilla forms
    "ar": "\u0621-\u063f\u0641-\u064a",  # hamza to yeh, without tatweel U+0640 and harakat
    "uk": "а-щьюяєіїґ",  # no ъ ы э ё
    "ru": "а-яё",
}
WORD_PATTERNS = {
    language: re.compile(f"[{letters}]{{{MIN_LETTERS},{MAX_LETTERS}}}")
    for language, letters in LETTERS.items()
}


def normalised(text: str) -> frozenset[str]:
    """Split a block of words and normalise each, so a denylist also catches unmarked spellings."""
    return frozenset(normalise_term(word) for word in text.split())


# Words about death, violence, weapons, crime, illness, drugs and alcohol, sex, religion,
# money, family roles and emotions: none may appear as a whole word in that language's list.
DENYLIST: dict[str, frozenset[str]] = {
    "en": normalised(
        """
        dead death die dying kill killer murder corpse grave coffin funeral skull bone
        gun rifle pistol bullet bomb knife sword dagger arrow axe weapon war army soldier
        blood wound injury scar crime thief robber prison jail police rope noose
        drug drugs pill needle cocaine heroin weed pot beer wine vodka whisky alcohol
        cigarette cigar tobacco cancer virus disease illness hospital doctor nurse
        sex nude naked breast penis church god bible angel devil hell
        mother father child baby son daughter sister brother wife husband
        money debt cash bank coin wallet fear hate anger grief
        """
    ),
    "de": normalised(
        """
        tod tot tote sterben leiche grab sarg friedhof mord killer waffe gewehr pistole
        kugel patrone bombe messer schwert dolch pfeil axt krieg armee soldat blut wunde
        narbe dieb verbrecher knast polizei seil strick galgen drogen droge pille spritze
        kokain heroin bier wein schnaps wodka alkohol zigarette zigarre tabak krebs virus
        krankheit arzt klinik kirche gott bibel engel teufel mutter vater kind baby sohn
        tochter schwester bruder frau mann geld schulden bank kies knete angst hass wut
        """
    ),
    "nl": normalised(
        """
        dood dode sterven lijk graf doodskist kist begrafenis moord moordenaar wapen geweer
        pistool kogel bom mes zwaard dolk pijl bijl oorlog leger soldaat bloed wond litteken
        dief misdaad gevangenis cel politie touw strop drugs wiet pil naald cocaine heroine
        bier wijn jenever wodka whisky alcohol sigaret sigaar tabak kanker virus ziekte
        ziekenhuis dokter kerk god bijbel engel duivel hel moeder vader kind baby zoon dochter
        zus broer vrouw man geld schuld bank munt angst haat woede
        """
    ),
    "fr": normalised(
        """
        mort morte mourir cadavre tombe cercueil meurtre tueur arme fusil pistolet balle
        bombe couteau poignard fleche hache guerre armee soldat sang blessure cicatrice
        voleur crime prison police corde drogue cannabis pilule seringue cocaine biere vin
        vodka whisky alcool cigarette cigare tabac cancer virus maladie hopital medecin
        eglise dieu bible ange diable enfer mere pere enfant bebe fils fille soeur frere
        femme mari argent dette banque peur haine colere
        """
    ),
    "ar": normalised(
        """
        موت ميت جثة قبر تابوت جنازة جمجمة عظم قتل قاتل سلاح بندقية مسدس رصاصة رصاص قنبلة
        سكين سيف خنجر سهم فأس حرب جيش جندي دم جرح ندبة لص سارق جريمة سجن شرطة حبل مشنقة
        مخدرات حشيش كوكايين هيروين حبة إبرة حقنة بيرة نبيذ خمر عرق فودكا ويسكي كحول سيجارة
        سيجار تبغ دخان سرطان فيروس مرض مستشفى طبيب ممرضة جنس عاري ثدي مسجد كنيسة جامع الله
        رب قرآن إنجيل ملاك شيطان جهنم أم أب طفل رضيع ابن بنت أخت أخ زوجة زوج نقود دين بنك
        محفظة خوف غضب حزن
        """
    ),
    "tr": normalised(
        """
        ölüm ölü ceset mezar tabut cenaze kafatası kemik silah tüfek tabanca mermi kurşun
        bomba bıçak kılıç hançer ok balta savaş ordu asker kan yara hırsız suç hapis
        cezaevi polis ip urgan uyuşturucu esrar eroin kokain hap iğne şırınga bira şarap
        rakı votka viski alkol sigara puro tütün kanser virüs hastalık hastane doktor
        hemşire seks çıplak meme penis cami kilise tanrı allah incil kuran melek şeytan
        cehennem anne baba çocuk bebek oğul kız kardeş abla abi eş koca karı para borç
        banka cüzdan korku nefret öfke yas
        """
    ),
    "pl": normalised(
        """
        śmierć trup zwłoki grób trumna pogrzeb czaszka kość zabójca morderstwo broń karabin
        pistolet kula nabój bomba nóż miecz sztylet strzała topór wojna armia żołnierz krew
        rana blizna złodziej przestępca więzienie policja sznur stryczek narkotyk marihuana
        kokaina heroina tabletka strzykawka igła piwo wino wódka whisky alkohol papieros
        cygaro tytoń rak wirus choroba szpital lekarz pielęgniarka seks nagi pierś penis
        kościół bóg biblia anioł diabeł piekło matka ojciec dziecko niemowlę syn córka
        siostra brat żona mąż pieniądze dług bank portfel strach nienawiść gniew żałoba
        """
    ),
    "ro": normalised(
        """
        moarte mort mormânt sicriu înmormântare craniu armă pușcă pistol glonț bombă cuțit
        sabie pumnal săgeată topor război armată soldat sânge rană cicatrice hoț crimă
        închisoare poliție funie ștreang drog droguri pastilă seringă bere vin vodcă whisky
        alcool țigară trabuc tutun cancer virus boală spital doctor medic asistentă sex gol
        sân penis biserică dumnezeu biblie înger diavol iad mamă tată copil bebeluș fiu
        fiică soră frate soție soț bani datorie bancă portofel frică ură furie doliu
        tanc tun grenadă mitralieră cătușe coasă cimitir cruce preot călugăr icoană
        mănăstire țuică coniac lichior pipă narghilea medicament farmacie injecție bandaj
        ghips cârjă bunică bunic mătușă unchi nepot monedă leu mână picior cap ochi
        ureche nas gură dinte deget inimă burtă spate piele
        """
    ),
    "uk": normalised(
        """
        смерть мертвий труп могила труна похорон череп кістка вбивця вбивство зброя рушниця
        гвинтівка пістолет куля бомба ніж меч кинджал стріла сокира війна армія солдат кров
        рана шрам злодій злочин в'язниця поліція мотузка зашморг наркотик пігулка шприц
        голка пиво вино горілка віскі алкоголь цигарка сигара тютюн рак вірус хвороба
        лікарня лікар медсестра секс голий груди пеніс церква бог біблія ангел диявол пекло
        мати батько дитина немовля син донька сестра брат дружина чоловік гроші борг банк
        гаманець страх ненависть гнів горе
        ракета танк граната гармата кулемет снаряд вибух сирена окоп дрон цвинтар
        кладовище домовина хрест ікона священик монах самогон коньяк люлька кальян ліки
        аптека укол бинт гіпс милиця мама тато бабуся дідусь тітка дядько онук гривня
        копійка долар монета скарбничка рука нога голова око вухо ніс рот зуб палець
        серце живіт спина шкіра волосся
        """
    ),
    "ru": normalised(
        """
        смерть мёртвый труп могила гроб похороны череп кость убийца убийство оружие ружьё
        винтовка пистолет пуля бомба нож меч кинжал стрела топор война армия солдат кровь
        рана шрам вор преступник тюрьма полиция верёвка петля наркотик таблетка шприц игла
        пиво вино водка виски алкоголь сигарета сигара табак рак вирус болезнь больница
        врач медсестра секс голый грудь пенис церковь бог библия ангел дьявол ад мать отец
        ребёнок младенец сын дочь сестра брат жена муж деньги долг банк кошелёк страх
        ненависть гнев горе
        ракета танк граната пушка пулемет снаряд взрыв сирена окоп дрон кладбище крест
        икона священник монах самогон коньяк трубка кальян лекарство аптека укол бинт
        гипс костыль мама папа бабушка дедушка тетя дядя внук рубль копейка доллар
        монета копилка рука нога голова глаз ухо нос рот зуб палец сердце живот спина
        кожа волосы
        """
    ),
}

# Vulgar or insulting in at least one of the ten languages, compared after normalisation:
# banned from every list, since a client may speak another language than the interface.
OFFENSIVE_ANYWHERE = normalised(
    """
    ass bitch cock cunt dick fag faggot fuck piss shit slut tit tits twat whore dyke pussy
    arsch fick ficken fotze hure kacke mist nutte pimmel schlampe schwanz titte gift kot
    kut lul pik kont tiet hoer slet klote kanker tering tyfus pest mongool poep kak drol
    bite con conne cul chatte pute putain salope merde queue moule pine pet pede
    am amcık göt sik sikiş yarak yarrak taşak orospu piç kaltak kahpe ibne puşt pezevenk
    gavat bok sıç kıç salak aptal gerizekalı dangalak şerefsiz kaşar yavşak
    kurwa chuj huj pizda cipa dupa kutas fiut jebać pierdol gówno suka szmata cwel pedał
    ciota dziwka zdzira debil frajer
    pula muie cur futut curvă târfă căcat rahat poponar labă prost
    fut coaie sulă găoază bulangiu tâmpit dobitoc nenorocit cioară bozgor jidan
    كس زب طيز شرموطة عرص منيوك منيك قحبة خرا خول لوطي حمار كلب خنزير حيوان غبي حقير
    хуй хер пизда блядь бля ебать ёб жопа сука мудак говно дерьмо залупа пидор пидорас
    шлюха гандон курва срака гівно лайно підор повія
    петух козел чмо лох дебил урод тварь мразь падла шалава педик писька сиськи манда
    срать ссать песец хохол москаль кацап жид чурка укроп ватник
    цицька пісюн засранець мудило виродок покидьок підар
    """
)

# Normalised words that several lists share with the same meaning (loanwords, animals, dishes,
# instruments, sports), checked by hand, grouped by the languages that share them: a word may
# appear in those lists and no others; any other word in two lists is a homograph.
SAME_MEANING_GROUPS: dict[str, str] = {
    "en de nl fr": """
        aquarium aster atlas badminton banjo bowling burger bus delta domino falafel
        garage gazelle gong guppy hamster hockey husky indigo jaguar ketchup kiwi koala
        magenta muffin panda paprika pizza pollen poncho poster pudding radio ravioli
        risotto rugby salami sandwich sardine sorbet spaghetti sushi taco tapir taxi
        tennis tortilla tram tuba villa
        """,
    "de nl fr": """
        agave albatros album ananas anorak antilope atelier aubergine ballon beige
        bonbon croissant fjord galerie gerbera lagune lama lasagne limonade limousine
        mandoline marimba melodie okapi papier polka praline silo steppe tandem tango
        tunnel vanille vitrine zeppelin
        """,
    "en de fr": """
        baguette bison bronze cafe leopard lotus olive orange puzzle rose sitar statue
        ticket vase zoo
        """,
    "en de nl": """
        astronaut bistro cello collie computer flamingo gorilla hotel jeans kiosk laptop
        mango museum oregano otter overall park pasta pier pony popcorn uniform wind
        winter zebra
        """,
    "en nl fr": """
        blouse cactus cake concert confetti courgette dahlia edelweiss harmonica horizon
        jungle lynx magnolia muesli nectar nectarine opera parasol parka piano robot
        scooter station trombone violet wagon wombat
        """,
    "de fr": """
        atoll banane billard brise estragon fondue galaxie granit halle handball jasmin
        lampe mandarine mirabelle pavillon perle platane pomelo pyramide raclette safran
        sandale saphir serviette ski spirale tasse terrasse tomate
        """,
    "de nl": """
        akelei anker armband auto balkon berg bonsai boot brief distel erker foto gans
        glas gondel gras haarband hagel halsband helm hemd kabel kajak kalender kamille
        kantine karton kegel kern koffer krater krokus lavendel lied lila linde lupine
        mais mantel markt messing mixer narwal oase orchidee orgel pantoffel picknick
        regen ring rucola savanne schnitzel skilift smaragd specht spiegel spiegelei
        stempel stier stift strand tafel theater triangel trommel veranda wagen wand weg
        weide werkbank wisent wok wolf zink
        """,
    "en de": """
        ball baseball bass block butter couch dill emu frost giraffe gold hammer horn
        hummus lemur magnet marzipan meteor moped oboe orca oval papaya planet sand
        sandbank sofa teddy terrier tiger toast toaster ukulele zucchini
        """,
    "en fr": """
        avenue beret biscuit bonnet bracelet brownie bugle canyon caramel cardigan
        caribou cinema condor cookie cottage crocus cube cumin cyan denim dune elephant
        endive ferry flute football glacier globe golf heron ibis igloo kayak kebab lion
        magazine marina minibus nougat oasis ocean ocelot pelican photo piccolo pigeon
        porridge prairie rectangle satellite sauce saxophone sphere steak studio table
        telephone toucan train triangle tricycle village zinc
        """,
    "en nl": """
        alpaca amber azalea begonia blazer broccoli camera camper caravan geranium
        gerbil ham harp hut hyena jam ladder lamp lens macaroni marmot octopus oven pan
        pen plank plastic printer puppy slipper snorkel tent tin toffee tractor walrus
        water
        """,
    "nl fr": """
        acacia accordeon agenda asperge ballet broche bureau cacao cadeau camping
        catamaran chalet douche fruit gazon horloge hortensia kimono lampion manege
        mimosa pistache plafond pyjama salade serre zinnia
        """,
}
SAME_MEANING: dict[str, frozenset[str]] = {
    word: frozenset(languages.split())
    for languages, words in SAME_MEANING_GROUPS.items()
    for word in words.split()
}


def problems(language: str, words: list[str]) -> list[str]:
    """Return a message for every problem with one language's words (empty if fine)."""
    found: list[str] = []
    if len(words) < MIN_WORDS:
        found.append(f"{language}: only {len(words)} words, need at least {MIN_WORDS}")
    pattern = WORD_PATTERNS.get(language, WORD_PATTERNS["en"])
    bad = [word for word in words if not pattern.fullmatch(word)]
    if bad:
        found.append(
            f"{language}: not {MIN_LETTERS}-{MAX_LETTERS} lowercase letters of the alphabet: "
            f"{', '.join(map(repr, bad))}"
        )
    duplicates = sorted(word for word, count in Counter(words).items() if count > 1)
    if duplicates:
        found.append(f"{language}: duplicates: {', '.join(duplicates)}")
    spellings: dict[str, set[str]] = defaultdict(set)
    for word in words:
        spellings[normalise_term(word)].add(word)
    merged = sorted("/".join(sorted(same)) for same in spellings.values() if len(same) > 1)
    if merged:
        found.append(f"{language}: the same after normalisation: {', '.join(merged)}")
    unsorted = [b for a, b in zip(words, words[1:], strict=False) if b < a]
    if unsorted:
        found.append(f"{language}: not sorted, first out of place: {unsorted[0]!r}")
    denied = DENYLIST.get(language, frozenset()) | OFFENSIVE_ANYWHERE
    upsetting = sorted(word for word in set(words) if normalise_term(word) in denied)
    if upsetting:
        found.append(f"{language}: denylisted words: {', '.join(upsetting)}")
    return found


def homographs(lists: dict[str, list[str]]) -> list[str]:
    """Return a message for every normalised word in two lists not shared per SAME_MEANING."""
    where: dict[str, set[str]] = defaultdict(set)
    for language, words in lists.items():
        for word in words:
            where[normalise_term(word)].add(language)
    return [
        f"homograph across lists: {word!r} in {', '.join(sorted(languages))}"
        for word, languages in sorted(where.items())
        if len(languages) > 1 and not languages <= SAME_MEANING.get(word, frozenset())
    ]


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
    """Check the named languages (default: those with a list); print a report, return the code."""
    failed = False
    languages = argv or list(LANGUAGES)
    lists: dict[str, list[str]] = {}
    for language in languages:
        path = WORDLISTS / f"{language}.txt"
        if not path.is_file():
            sys.stderr.write(f"{language}: missing {path}\n")
            failed = True
            continue
        text = path.read_text(encoding="utf-8")
        found = file_problems(language, text)
        lists[language] = [line.strip() for line in text.splitlines() if line.strip()]
        sys.stdout.write(f"{language} {len(lists[language])} words {'FAIL' if found else 'ok'}\n")
        for message in found:
            sys.stderr.write(f"  {message}\n")
        failed = failed or bool(found)
    shared = homographs(lists)
    sys.stdout.write(f"homographs across {len(lists)} lists {'FAIL' if shared else 'ok'}\n")
    for message in shared:
        sys.stderr.write(f"  {message}\n")
    return 1 if failed or shared else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
