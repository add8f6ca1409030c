"""Name-tagging sentences made in code, in Korean and English, deterministic by seed.

Tags are per character, BIO: O outside a name, B the first character of a name, I the rest of it
(the space inside "Harry Potter" is I). Per character, because Korean glues particles to names
("하윤이가", "도현과"): a word-level tagger would need a segmenter that splits the particle off,
while a character tagger reads the same string the other lessons' models read, in both languages.

Names are made up from syllables (plus a few listed ones, "Harry Potter", "김하윤") and split by name,
by a hash, into training and held-out names: the held-out sentences use names the model never saw,
so held-out accuracy measures reading the context, not remembering names.
The classifier task (many-to-one) asks whether a sentence mentions a person by name: every template
slot is filled either with a name or with a common noun phrase ("the teacher", "선생님").
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass

TAGS = ("O", "B", "I")
PAD = "\u0000"  # the padding character (id 0); never inside a sentence
UNKNOWN = "\ufffd"

EN_FIRST = ("Harry", "Hermione", "Mira", "Tobin", "Elsa", "Rowan", "Ivy", "Caleb", "Nora", "Felix",
            "Luna", "Oscar", "Tessa", "Milo", "Greta", "Jasper")
EN_LAST = ("Potter", "Granger", "Voss", "Hale", "Marlow", "Quill", "Brandt", "Ashby", "Thorne", "Wren",
           "Kessler", "Doyle")
KO_FAMILY = ("김", "이", "박", "최", "정", "강", "윤", "한", "오", "서", "문", "배")
KO_GIVEN = ("하윤", "도현", "서연", "지호", "민서", "예준", "수아", "시우", "채원", "주원", "하린", "은우",
            "다온", "태린", "소율", "건우")
EN_NOUNS = ("the teacher", "my friend", "the baker", "a student", "the old wizard", "her cousin",
            "the doctor", "our neighbour")
KO_NOUNS = ("선생님", "친구", "제빵사", "학생", "늙은 마법사", "사촌", "의사", "이웃")

# {0}, {1}: slots. Korean particles are chosen by whether the slot's last syllable has a final consonant.
EN_TEMPLATES = (
    "{0} and {1} invented a new spell.",
    "Yesterday {0} met {1} at the library.",
    "{0} wrote a long letter to {1}.",
    "After class {0} lent a book to {1}.",
    "{0} said that {1} would win.",
    "On Monday {0} and {1} cooked dinner.",
)
KO_TEMPLATES = (
    "{0}{와} {1}{가} 새 주문을 만들었습니다.",
    "어제 {0}{는} 도서관에서 {1}{를} 만났습니다.",
    "{0}{가} {1}에게 긴 편지를 썼습니다.",
    "수업이 끝나고 {0}{는} {1}에게 책을 빌려주었습니다.",
    "{0}{는} {1}{가} 이길 거라고 말했습니다.",
    "월요일에 {0}{와} {1}{가} 저녁을 만들었습니다.",
)
PARTICLES = {"와": ("과", "와"), "가": ("이", "가"), "는": ("은", "는"), "를": ("을", "를")}


def _has_final(word: str) -> bool:
    code = ord(word[-1]) - 0xAC00
    return 0 <= code < 11172 and code % 28 != 0


EN_ONSETS = ("b", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "br", "st")
EN_VOWELS = ("a", "e", "i", "o", "u", "ai", "ea")
EN_CODAS = ("", "n", "r", "l", "s", "th", "ck")
KO_SYLLABLES = tuple("가나다라마바사아자하서수지민준현우윤은하린도태소율채원예시온건")


def _made_up(rng: random.Random, lang: str) -> str:
    """A name built from syllables: most names in the sentences are these, the lists above add a few."""
    if lang == "en":
        return "".join(rng.choice(EN_ONSETS) + rng.choice(EN_VOWELS) + rng.choice(EN_CODAS)
                       for _ in range(rng.choice((1, 2, 2)))).capitalize()
    return rng.choice(KO_SYLLABLES) + rng.choice(KO_SYLLABLES)


def split_of(name: str) -> str:
    """Which split a name belongs to, by name: a quarter of all names (by a hash) are held out."""
    return "held_out" if zlib.crc32(name.encode()) % 4 == 3 else "train"


def _part(rng: random.Random, lang: str, split: str, listed: tuple[str, ...]) -> str:
    while True:
        word = rng.choice(listed) if rng.random() < 0.3 else _made_up(rng, lang)
        if split_of(word) == split:
            return word


@dataclass(frozen=True)
class Sentence:
    text: str
    tags: tuple[int, ...]  # one tag id (index into TAGS) per character
    lang: str
    has_name: bool


def _name(rng: random.Random, lang: str, split: str) -> str:
    if lang == "en":
        first = _part(rng, lang, split, EN_FIRST)
        return first if rng.random() < 0.4 else f"{first} {_part(rng, lang, split, EN_LAST)}"
    given = _part(rng, lang, split, KO_GIVEN)
    return given if rng.random() < 0.4 else rng.choice(KO_FAMILY) + given


def make_sentence(rng: random.Random, lang: str, split: str, name_rate: float = 0.7) -> Sentence:
    """One sentence; each slot is a name with probability name_rate, else a noun phrase."""
    templates = EN_TEMPLATES if lang == "en" else KO_TEMPLATES
    nouns = EN_NOUNS if lang == "en" else KO_NOUNS
    template = rng.choice(templates)
    fills = []
    for _ in range(2):
        is_name = rng.random() < name_rate
        fills.append((_name(rng, lang, split), True) if is_name else (rng.choice(nouns), False))
    text, tags = "", []
    i = 0
    while i < len(template):
        if template[i] == "{":
            j = template.index("}", i)
            key = template[i + 1:j]
            if key.isdigit():
                word, is_name = fills[int(key)]
                text += word
                tags += [1] + [2] * (len(word) - 1) if is_name else [0] * len(word)
                last = word
            else:
                with_final, without = PARTICLES[key]
                particle = with_final if _has_final(last) else without
                text += particle
                tags += [0] * len(particle)
            i = j + 1
        else:
            text += template[i]
            tags.append(0)
            i += 1
    if lang == "en":
        text = text[0].upper() + text[1:]
    return Sentence(text, tuple(tags), lang, any(is_name for _, is_name in fills))


def make_sentences(count: int, seed: int, split: str = "train", name_rate: float = 0.7) -> list[Sentence]:
    """`count` sentences, alternately English and Korean, the same for the same seed."""
    rng = random.Random(f"shapes-{split}-{seed}-{name_rate}")
    return [make_sentence(rng, ("en", "ko")[i % 2], split, name_rate) for i in range(count)]


def alphabet() -> str:
    """Every character of the training sentences, sorted, after PAD and UNKNOWN: the models' vocabulary.
    Held-out names only: their characters the models never saw read as UNKNOWN (many Korean syllables;
    English names share the letters)."""
    names = EN_FIRST + EN_LAST + KO_FAMILY + KO_GIVEN + KO_SYLLABLES + EN_ONSETS + EN_VOWELS + EN_CODAS
    capitals = tuple(s.upper() for s in EN_ONSETS + EN_VOWELS)
    text = "".join(names + capitals + EN_NOUNS + KO_NOUNS + EN_TEMPLATES + KO_TEMPLATES)
    text += "".join(a + b for a, b in PARTICLES.values()) + "".join(t.upper() for t in EN_TEMPLATES)
    chars = sorted(set(text) - set("{}0123456789"))
    return PAD + UNKNOWN + "".join(chars)


def encode(text: str, chars: str) -> list[int]:
    index = {ch: i for i, ch in enumerate(chars)}
    return [index.get(ch, 1) for ch in text]
