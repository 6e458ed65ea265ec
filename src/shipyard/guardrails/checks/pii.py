"""``pii``: personal data in text, found by pattern and confirmed by each format's own rules.

    EMAIL_ADDRESS    addresses with a valid-looking domain
    PHONE_NUMBER     international (+CC), North American and 0-prefixed national numbers,
                     8-15 digits; numbers next to "order", "invoice", "tracking"... are not
    CREDIT_CARD      13-19 digits with a known issuer prefix and a valid Luhn check digit
    IBAN_CODE        the country's registered length and a valid ISO 7064 mod-97 check
    US_SSN           area, group and serial in the ranges the SSA issues
    IP_ADDRESS       IPv4 and IPv6 addresses (not version strings)
    DATE_OF_BIRTH    a date after a cue ("born on", "DOB", "date of birth")
    STREET_ADDRESS   US/UK street lines (number, name, suffix), UK postcodes, German streets
    PERSON           names after a cue ("my name is", "Dear", "Mr."), or a known given name
                     followed by a capitalised surname

Every finding has a score; those under ``min_score`` are dropped.
"""

from __future__ import annotations

import csv
import ipaddress
import re
import unicodedata
from collections.abc import Iterator
from functools import cache
from importlib.resources import files

from pydantic import BaseModel, ConfigDict, Field

from shipyard.core.checksums import luhn_ok
from shipyard.guardrails.checks.base import CHECKS, Check, Finding, ScanContext, dedupe

ENTITIES = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS",
            "DATE_OF_BIRTH", "STREET_ADDRESS", "PERSON")  # fmt: skip


class PiiOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entities: list[str] = Field(default_factory=lambda: list(ENTITIES))
    min_score: float = Field(default=0.5, ge=0, le=1)
    allow: list[str] = Field(default_factory=list, description="values never reported")


# Patterns start with a character class, never with a look-behind, so the regex engine can skip
# ahead quickly; word boundaries are checked in Python (``_edges``).
WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def _edges(text: str, start: int, end: int, left: str = "", right: str = "") -> bool:
    """No word character (or one of ``left``/``right``) touches the match on either side."""
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    return before not in WORD and before not in left and after not in WORD and after not in right


# -- e-mail ------------------------------------------------------------------------------------

EMAIL = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,24}"
)


def _emails(text: str) -> Iterator[Finding]:
    if "@" not in text:
        return
    for m in EMAIL.finditer(text):
        token_start = max(text.rfind(" ", 0, m.start()), text.rfind("\n", 0, m.start())) + 1
        if "://" in text[token_start : m.start()]:
            continue  # user:password@host in a URL
        labelled = text[max(0, m.start() - 7) : m.start()].lower().endswith(("email:", "mailto:"))
        if _edges(text, m.start(), m.end(), ".+-/" if labelled else ".+-:/", "-"):
            yield Finding("EMAIL_ADDRESS", m.start(), m.end(), 0.95)


# -- phone numbers -----------------------------------------------------------------------------

PHONE_CANDIDATE = re.compile(r"[+(\d][\d ().\-/]{6,24}\d")
SHAPES = (
    (re.compile(r"\+\d{1,3}(?:[ .\-]?\(?\d{1,5}\)?){1,7}"), 0.9),  # +44 20 7946 0958
    (re.compile(r"00[1-9]\d{0,2}(?:[ .\-]?\(?\d{1,5}\)?){2,7}"), 0.8),  # 0044 20 7946 0958
    (re.compile(r"(?:1[ .\-])?(?:\(\d{3}\)[ .\-]?|\d{3}[.\- ])\d{3}[.\- ]\d{4}"), 0.8),
    (re.compile(r"0[1-9]\d{0,3}(?:[ .\-/]\d{2,8}){1,4}"), 0.6),  # 030 12345678, 01 23 45 67 89
    (re.compile(r"0 ?\(\d{2,4}\) ?\d{2,4}(?:[ .\-]\d{2,4}){1,3}"), 0.6),  # 0 (212) 113 95 61
    (re.compile(r"\(0\d{1,4}\)[ .\-]?\d{2,5}(?:[ .\-]\d{2,5}){1,3}"), 0.6),  # (02) 2822 9144
    (re.compile(r"\(\d{2}\) ?9?\d{4}-\d{4}"), 0.7),  # Brazil: (11) 98765-4321
    (re.compile(r"8 ?\(\d{3}\) ?\d{3}-\d{2}-\d{2}"), 0.7),  # Russia: 8 (916) 123-45-67
    (re.compile(r"\d{10,12}"), 0.0),  # a bare run of digits: a phone only after a cue
    (re.compile(r"\d{2,5}(?:[ .\-]\d{2,7}){1,4}"), 0.0),  # 98201 55734, 939 54 43 84: after a cue
    (re.compile(r"\d{3}[ .\-]\d{4}"), 0.0),  # a local number, 555-0100: after a cue
)
PHONE_CUE = re.compile(r"(?i)\b(?:phone|tel|telephone|mobile|cell|call\w*|text|whatsapp|fax|"
                       r"reach|contact\w*|ring|dial|landline|handy|telefon|tél|móvil|cellulare|numero|número|"
                       r"numer|nummer|telefono|teléfono|telefone|arayabilirsiniz|numarasından)\b")  # fmt: skip
NOT_PHONE = re.compile(r"(?i)\b(?:order|invoice|tracking|ticket|ref|reference|case|account|"
                       r"acct|customer|serial|part|sku|model|item|po|isbn|id|no\.|#|mrn|pedido|takip\s+no|"
                       r"winning\s+numbers|nr|no)(?:\s+(?:number|"
                       r"no\.?|nr\.?|num|#|id))?(?:\s+(?:is|was|=))?\W{0,4}$")  # fmt: skip
LOOKS_LIKE_DATE = re.compile(r"(?:19|20)\d{2}[-/.]\d{1,2}[-/.]\d{1,2}\b")
GROUP_END = re.compile(r"[ .\-/]+[\d()]+$")


def _digits(s: str) -> int:
    return sum(c.isdigit() for c in s)


def _phone_shape(s: str) -> float | None:
    """The score of the longest leading part of ``s`` shaped like a phone number."""
    for _ in range(4):
        for shape, score in SHAPES:
            if shape.fullmatch(s) and (8 <= _digits(s) <= 15 or (score == 0.0 and _digits(s) == 7)):
                if score == 0.6 and _digits(s) < 9:
                    return None
                return score
        cut = GROUP_END.search(s)
        if cut is None:
            return None
        s = s[: cut.start()]
    return None


def _phones(text: str) -> Iterator[Finding]:
    for m in PHONE_CANDIDATE.finditer(text):
        start, s = m.start(), m.group().rstrip(" .-/(")
        if s.startswith("(") and ")" not in s:
            start, s = start + 1, s[1:]  # "(04 66 24 06 52)": the bracket is the sentence's
        if start and (text[start - 1] in WORD or text[start - 1] in "+./-"):
            continue
        score = _phone_shape(s)
        while score is None and len(s) > 8 and (cut := GROUP_END.search(s)) is not None:
            s = s[: cut.start()]
            score = _phone_shape(s)
        end = start + len(s)
        after = text[end : end + 2] or " "
        if (
            score is None
            or after[0] in WORD
            or after[0] in "/-"
            or (after[0] == "." and after[1:2].isdigit())
        ):
            continue
        if NOT_PHONE.search(text[max(0, start - 24) : start]) or LOOKS_LIKE_DATE.match(s):
            continue
        if PHONE_CUE.search(text[max(0, start - 40) : start]):
            score = max(score + 0.25, 0.75)
        if score >= 0.5:
            yield Finding("PHONE_NUMBER", start, end, min(score, 0.95))


# -- payment cards -----------------------------------------------------------------------------

CARD = re.compile(r"\d(?:[ -]?\d){12,18}")


def card_issuer(d: str) -> bool:
    n = len(d)
    p2, p4, p6 = int(d[:2]), int(d[:4]), int(d[:6])
    return any((
        d[0] == "4" and n in (13, 16, 19),
        (51 <= p2 <= 55 or 2221 <= p4 <= 2720) and n == 16,
        p2 in (34, 37) and n == 15,
        (d.startswith("6011") or 644 <= int(d[:3]) <= 649 or p2 == 65) and 16 <= n <= 19,
        3528 <= p4 <= 3589 and 16 <= n <= 19,
        (p2 in (36, 38, 39) or 300 <= int(d[:3]) <= 305 or p4 == 3095) and 14 <= n <= 19,
        p2 == 62 and 16 <= n <= 19,
        (p4 in (5018, 5020, 5038, 5893, 6304, 6759, 6761, 6762, 6763)) and 12 <= n <= 19,
        2200 <= p4 <= 2204 and 16 <= n <= 19,
        p6 > 0 and d[0] == "1" and n == 15,
    ))  # fmt: skip


def _cards(text: str) -> Iterator[Finding]:
    for m in CARD.finditer(text):
        if not _edges(text, m.start(), m.end(), "-+", "-"):
            continue  # "+4915112345678" is a phone number, whatever its check digit
        d = m.group().replace(" ", "").replace("-", "")
        if 13 <= len(d) <= 19 and len(set(d)) > 1 and card_issuer(d) and luhn_ok(d):
            yield Finding("CREDIT_CARD", m.start(), m.end(), 0.95)


# -- IBAN --------------------------------------------------------------------------------------

IBAN_LENGTHS = dict(
    (c[:2], int(c[2:]))
    for c in [
        "AD24",
        "AE23",
        "AL28",
        "AT20",
        "AZ28",
        "BA20",
        "BE16",
        "BG22",
        "BH22",
        "BI27",
        "BR29",
        "BY28",
        "CH21",
        "CR22",
        "CY28",
        "CZ24",
        "DE22",
        "DJ27",
        "DK18",
        "DO28",
        "EE20",
        "EG29",
        "ES24",
        "FI18",
        "FK18",
        "FO18",
        "FR27",
        "GB22",
        "GE22",
        "GI23",
        "GL18",
        "GR27",
        "GT28",
        "HN28",
        "HR21",
        "HU28",
        "IE22",
        "IL23",
        "IQ23",
        "IS26",
        "IT27",
        "JO30",
        "KW30",
        "KZ20",
        "LB28",
        "LC32",
        "LI21",
        "LT20",
        "LU20",
        "LV21",
        "LY25",
        "MC27",
        "MD24",
        "ME22",
        "MK19",
        "MN20",
        "MR27",
        "MT31",
        "MU30",
        "NI28",
        "NL18",
        "NO15",
        "OM23",
        "PK24",
        "PL28",
        "PS29",
        "PT25",
        "QA29",
        "RO24",
        "RS22",
        "RU33",
        "SA24",
        "SC31",
        "SD18",
        "SE24",
        "SI19",
        "SK24",
        "SM27",
        "SO23",
        "ST25",
        "SV28",
        "TL23",
        "TN24",
        "TR26",
        "UA29",
        "VA22",
        "VG24",
        "XK20",
        "YE30",
        "AX18",
        "GF27",
        "GP27",
        "MQ27",
        "RE27",
        "PF27",
        "TF27",
        "YT27",
        "NC27",
        "BL27",
        "MF27",
        "PM27",
        "WF27",
        "IM22",
        "JE22",
        "GG22",
    ]
)  # the SWIFT IBAN registry's lengths per country
IBAN = re.compile(r"[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]){11,32}")


def iban_valid(code: str) -> bool:
    moved = code[4:] + code[:4]
    try:
        return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1
    except ValueError:
        return False


def _ibans(text: str) -> Iterator[Finding]:
    for m in IBAN.finditer(text):
        raw = m.group()
        want = IBAN_LENGTHS.get(raw[:2].upper())
        if want is None or (m.start() and text[m.start() - 1] in WORD):
            continue
        kept, end = [], m.start()
        for i, ch in enumerate(raw):
            if ch.isalnum():
                kept.append(ch.upper())
                if len(kept) == want:
                    end = m.start() + i + 1
                    break
        if len(kept) == want and not text[end : end + 1].isalnum() and iban_valid("".join(kept)):
            yield Finding("IBAN_CODE", m.start(), end, 0.95)


# -- US SSN ------------------------------------------------------------------------------------

SSN = re.compile(r"(\d{3})([- ])(\d{2})\2(\d{4})")
SSN_BARE = re.compile(r"(\d{3})(\d{2})(\d{4})")
SSN_CUE = re.compile(r"(?i)\b(?:ssn|social\s+security|ss#|tax\s+id|itin)\b")


def ssn_valid(area: str, group: str, serial: str) -> bool:
    a = int(area)
    if a == 0 or a == 666 or a >= 900 or group == "00" or serial == "0000":
        return False
    return f"{area}{group}{serial}" not in ("078051120", "219099999", "457555462")


def _ssns(text: str) -> Iterator[Finding]:
    for m in SSN.finditer(text):
        if _edges(text, m.start(), m.end(), "-", "-") and ssn_valid(
            m.group(1), m.group(3), m.group(4)
        ):
            cue = SSN_CUE.search(text[max(0, m.start() - 40) : m.start()])
            yield Finding("US_SSN", m.start(), m.end(), 0.95 if cue else 0.8)
    for m in SSN_BARE.finditer(text):
        if (
            _edges(text, m.start(), m.end(), "-", "-")
            and ssn_valid(*m.groups())
            and SSN_CUE.search(text[max(0, m.start() - 40) : m.start()])
        ):
            yield Finding("US_SSN", m.start(), m.end(), 0.85)


# -- IP addresses ------------------------------------------------------------------------------

IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?"
                  r"(?![\w:])")  # fmt: skip
VERSION_CUE = re.compile(r"(?i)\b(?:v|version|release|build|ver\.?|rev)\s*$")
VERSION_WORDS = re.compile(
    r"(?i)\b(?:firmware|version|versions|release|build|upgrade[ds]?|update[ds]?|"
    r"patch(?:ed)?|changelog|bios|driver)\b"
)
IP_WORDS = re.compile(
    r"(?i)\b(?:ip|address|host|server|subnet|gateway|dns|ping|login|connect\w*|"
    r"firewall|vpn|proxy|client)\b"
)


def _ips(text: str) -> Iterator[Finding]:
    for m in IPV4.finditer(text):
        follows = text[m.end() : m.end() + 2]
        if not _edges(text, m.start(), m.end(), ".") or (
            follows[:1] == "." and follows[1:].isdigit()
        ):
            continue
        if VERSION_CUE.search(text[max(0, m.start() - 12) : m.start()]):
            continue
        around = text[max(0, m.start() - 60) : m.start()]
        if VERSION_WORDS.search(around) and not IP_WORDS.search(around):
            continue
        try:
            ipaddress.IPv4Address(m.group())
        except ValueError:
            continue
        yield Finding("IP_ADDRESS", m.start(), m.end(), 0.85)
    if text.count(":") < 2:
        return
    for m in IPV6.finditer(text):
        s = m.group()
        if s.count(":") < 2 or len(s) < 3:
            continue
        try:
            ipaddress.IPv6Address(s)
        except ValueError:
            continue
        yield Finding("IP_ADDRESS", m.start(), m.end(), 0.9)


# -- dates of birth ----------------------------------------------------------------------------

MONTHS = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|"
          # German, Dutch, French, Spanish, Italian, Portuguese
          r"januar|februar|märz|mai|juni|juli|oktober|dezember|januari|februari|maart|mei|"
          r"augustus|december|janvier|février|mars|avril|juin|juillet|août|septembre|octobre|"
          r"novembre|décembre|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|"
          r"setiembre|octubre|noviembre|diciembre|gennaio|febbraio|aprile|maggio|giugno|luglio|"
          r"settembre|ottobre|dicembre|janeiro|fevereiro|março|maio|junho|julho|setembro|"
          r"outubro|novembro|dezembro)")  # fmt: skip
_UNITS = "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth"
ORDINAL = (rf"(?:the\s+)?(?:(?:twenty|thirty)[\s-]+(?:{_UNITS})|{_UNITS}|tenth|eleventh|twelfth|"
           r"thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|"
           r"twentieth|thirtieth)")  # fmt: skip
_TENS = r"(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
_ONES = r"(?:one|two|three|four|five|six|seven|eight|nine)"
_TEENS = r"(?:ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)"
# a year's last two digits in words ("seventy-eight", "oh five"), and whole years in words
YY_WORDS = rf"(?:{_TENS}(?:[\s-]+{_ONES})?|{_TEENS}|oh[\s-]+{_ONES})"
YEAR_WORDS = rf"(?:(?:nineteen|twenty|two thousand(?: and)?)[\s-]+(?:{YY_WORDS}|{_ONES}))"
# a day or a month said as a number ("ten", "twenty-two")
NUMBER_WORDS = rf"(?:(?:twenty|thirty)(?:[\s-]+{_ONES})?|{_TEENS}|{_ONES})"
MONTH_ORDINAL = (r"(?:the\s+)?(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|"
                 r"eleventh|twelfth)")  # fmt: skip
DATE = re.compile(
    rf"(?i)(?:\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{4}}/\d{{1,2}}/\d{{1,2}}|\d{{1,2}}[./-]\d{{1,2}}[./-]\d{{2,4}}|"
    rf"\d{{4}}年\d{{1,2}}月\d{{1,2}}日|\d{{1,2}}[-/ ]{MONTHS}\.?[-/ ]\d{{4}}|"
    rf"{MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|"
    rf"\d{{1,2}}(?:st|nd|rd|th|er|º|\.)?\s+(?:of\s+|de\s+)?{MONTHS}\.?,?\s+(?:de\s+)?\d{{4}}|"
    # without the year, after a birth cue only ("my birthday is March 5th")
    rf"{MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTHS}\b|"
    # compact: 19850317, 02SEP85, 14MAR1990; dotted year first: 1995.03.21; spaced: 12 / 06 / 1998
    rf"(?:19|20)\d{{2}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])|\d{{2}}{MONTHS}\d{{2,4}}|"
    rf"\d{{4}}\.\d{{1,2}}\.\d{{1,2}}|\d{{1,2}} / \d{{1,2}} / \d{{2,4}}|"
    # legal and spoken forms: "the 4th day of January, 1940", "14th March '90",
    # "Twenty-second of July, nineteen eighty-four", "the fifth of may, 1990"
    rf"\d{{1,2}}(?:st|nd|rd|th)\s+day\s+of\s+{MONTHS},?\s+\d{{4}}|"
    rf"{MONTHS}\.?\s+the\s+\d{{1,2}}(?:st|nd|rd|th),?\s+\d{{4}}|\d{{4}},\s+{MONTHS}\.?\s+\d{{1,2}}\b|"
    rf"\d{{1,2}}(?:st|nd|rd|th)?\s+{MONTHS}\s+'\d{{2}}|"
    rf"{ORDINAL}\s+of\s+{MONTHS},?(?:\s+(?:\d{{4}}|{YEAR_WORDS}|{YY_WORDS}))?|"
    # spoken: "Nineteenth of the eleventh, seventy-eight", "Ten, twelve, sixty-one"
    rf"{ORDINAL}\s+of\s+{MONTH_ORDINAL},?\s+(?:{YEAR_WORDS}|{YY_WORDS})\b|"
    rf"{NUMBER_WORDS},\s*{NUMBER_WORDS},\s*(?:{YEAR_WORDS}|{YY_WORDS})\b|"
    # without the year, after a birth cue only ("my birthday is March 5th")
    rf"{MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTHS}\b|"
    # the year alone ("born in 1985")
    rf"(?<=in )(?:19|20)\d{{2}}\b)(?!\d)"
)
BIRTH_CUE = re.compile(
    r"(?i)(?:\bborn\b|\bdate[\s_-]*of[\s_-]*birth\b|\bd\.o\.b\b\.?|(?<![a-z])dob(?![a-z])|\bbirth[\s_-]*date\b|\bbirthday\b|"
    r"\bb\.(?=\s*\d)|\bgeboren\b|\bgeb\.|\bgeburtsdatum\b|\bgeboortedatum\b|\bnée?\b|\bnat[oa]\b|"
    r"\bnacid[oa]\b|\bnascid[oa]\b|\bfecha\s+de\s+nacimiento\b|\bdata\s+de\s+nascimento\b|"
    r"\bdata\s+di\s+nascita\b|\bdate\s+de\s+naissance\b|\bdoğum\s+tarihi\b|生年月日|出生日期|生日|"
    r"\bb-?day\b|\bbirth[\w]*|\bur\.(?=\s*\d)|\burodzon[ya]\b|\bdata\s+urodzenia\b|\bfødselsdato\b|"
    r"\bfödelsedatum\b|\bfödd\b|\bfødt\b|\bf\.(?=\s*\d)|\bsyntynyt\b|\bsyntymäaika\b|생년월일|"
    r"\bnascimento\b|\bf\.\s*nac\.|\bdate\s*(?:&|and)\s*place\s+of\s+birth\b|\bgeburtstag\b|"
    r"\bcumpleaños\b|\banniversaire\b|\bcompleanno\b|\baniversário\b|дата\s+рождения|"
    r"родил(?:ся|ась)|\bf(?:echa|\.)\s*de\s*nac\.?)"
)
# The words BIRTH_CUE's phrases start with (lower case): the pattern is tried where they are.
BIRTH_STARTS = ("born", "date", "d.o.b", "dob", "birth", "b.", "geb", "né", "nat", "nacid",
                "nascid", "fecha", "data", "doğum", "生年月日", "出生日期", "生日", "bday", "b-day",
                "ur.", "urodzon", "fød", "föd", "f.", "syntyn", "syntymä", "생년월일", "nascimento",
                "cumplea", "anniversaire", "compleanno", "aniversário", "дата", "родил")  # fmt: skip
CORRECTION = (
    "correct",
    "recorded",
    "match",
    "instead",
    "should",
    "actual",
    "wrong",
    "typo",
    " but ",
)
CUE_TO_DATE = 48  # characters between a birth cue and its date ("DOB on file is", "(dd/mm/yyyy):")


def _birth_cues(text: str, low: str) -> Iterator[re.Match[str]]:
    starts = set()
    for word in BIRTH_STARTS:
        at = low.find(word)
        while at >= 0:
            starts.add(at)
            at = low.find(word, at + 1)
    for at in sorted(starts):
        m = BIRTH_CUE.match(text, at)
        if m is not None:
            yield m


TABLE_SEP = re.compile(r"\s*[,|;\t]\s*")
OTHER_DATE_COLUMNS = re.compile(
    r"(?i)\b(?:died|death|start\w*|hired?|joined|expir\w*|issued|visit\w*|admitted|created|updated|"
    r"enrolled|due|valid\w*|since|end\w*)\b"
)


THINGS_BORN = re.compile(
    r"(?i)\b(?:idea|company|project|brand|concept|product|startup|business|band|movement|app|"
    r"firm|studio|shop|club)\s+(?:was|were|is)\s+$"
)
HAPPY = re.compile(r"(?i)\bhappy\s+(?:\d+\w*\s+)?$")
NUMERIC_DATE = re.compile(r"(\d{1,4})\s*[./-]\s*(\d{1,2})\s*[./-]\s*(\d{2,4})")


def _plausible(date: str) -> bool:
    """A numeric date must be a date in some order (day-month or month-day, or year first):
    an SSN's 29-41-8832 is not."""
    m = NUMERIC_DATE.fullmatch(date.strip())
    if m is None:
        return True
    a, b, c = (int(x) for x in m.groups())
    if len(m.group(1)) == 4:
        return 1 <= b <= 12 and 1 <= c <= 31
    return (1 <= a <= 31 and 1 <= b <= 12) or (1 <= a <= 12 and 1 <= b <= 31)


def _column(text: str, cue: re.Match[str]) -> bool:
    """Whether the cue is a column header of a table or CSV (a separator right before or after
    it, and another header cell)."""
    start, end = cue.start(), cue.end()
    while start and (text[start - 1].isalnum() or text[start - 1] in "_."):
        start -= 1  # the whole header cell: "child_dob", "birth_dt"
    while end < len(text) and (text[end].isalnum() or text[end] in "_"):
        end += 1
    before, after = text[max(0, start - 3) : start], text[end : end + 3]
    opens = not before.strip(" ") or re.search(r"[,|;\t\n]\s*$", before) is not None
    return opens and re.match(r"[ .]*[,|;\t]", after) is not None


def _cells(line: str, sep: str) -> list[tuple[int, str]]:
    """The cells of a table line with their offsets (CSV quoting understood)."""
    body = line.strip()
    if sep == "|":
        body = body.strip("|")
    try:
        row = next(csv.reader([body], delimiter=sep, skipinitialspace=True))
    except (csv.Error, StopIteration):
        return []
    out, at = [], line.find(body)
    for cell in row:
        cell = cell.strip()
        pos = line.find(cell, at) if cell else at
        out.append((pos, cell))
        at = pos + len(cell) if pos >= 0 else at
    return out


def _column_dates(text: str, cue: re.Match[str]) -> Iterator[re.Match[str]]:
    """The dates in a birth column: on the lines below a header (the cell in the header's
    position), or, for a table written on one line, the dates after the header in this
    column's turn among the date columns."""
    line_start = text.rfind("\n", 0, cue.start()) + 1
    line_end = text.find("\n", cue.end())
    header = text[line_start : line_end if line_end >= 0 else len(text)]
    sep = next((c for c in "|\t;," if c in header), ",")
    cells = [c for _, c in _cells(header, sep)]
    index = next((i for i, c in enumerate(cells) if BIRTH_CUE.search(c)), None)
    if index is None:
        return
    if line_end >= 0:
        at = line_end + 1
        for line in text[line_end + 1 :].split("\n"):
            row = _cells(line, sep)
            if len(row) == len(cells) and row[index][0] >= 0:
                pos, cell = row[index]
                m = DATE.fullmatch(text, at + pos, at + pos + len(cell)) if cell else None
                if m is not None:
                    yield m
            at += len(line) + 1
        return
    dated = [i for i, c in enumerate(cells) if BIRTH_CUE.search(c) or OTHER_DATE_COLUMNS.search(c)]
    turn, every = dated.index(index), len(dated)
    for n, m in enumerate(DATE.finditer(text, cue.end())):
        if n % every == turn:
            yield m


def _births(text: str) -> Iterator[Finding]:
    taken = -1
    low = text.lower()
    cues = _birth_cues(text, low) if len(low) == len(text) else BIRTH_CUE.finditer(text)
    for cue in cues:
        if _column(text, cue):
            for d in _column_dates(text, cue):
                if d.start() >= taken and _plausible(d.group()):
                    taken = d.end()
                    yield Finding("DATE_OF_BIRTH", d.start(), d.end(), 0.85)
            continue
        # a question or a prompt ("And your date of birth?", "Please enter your date of
        # birth.") is answered a little further on, maybe on the next line
        line = text[cue.end() : cue.end() + 25].split("\n")[0]
        asked = "?" in line or line.lstrip().startswith(".") or "please" in line.lower()
        reach = CUE_TO_DATE + (90 if asked else 0)
        m = DATE.search(text, cue.end(), cue.end() + reach + 40)
        if m is None or m.start() < taken or m.start() - cue.end() > reach:
            continue
        if m.group().isdigit() and m.start() - cue.end() > 4:
            continue  # a year alone only right after the cue ("born in 1985")
        if "\n" in text[cue.end() : m.start()].strip(" \t:\n") and not asked:
            continue  # the cue labels another line
        if not _plausible(m.group()):
            continue
        if HAPPY.search(text[max(0, cue.start() - 20) : cue.start()]) or THINGS_BORN.search(
            text[max(0, cue.start() - 24) : cue.start()]
        ):
            continue  # "Happy 10th birthday to us! Founded 5 June 2014": a celebration
        taken = m.end()
        yield Finding("DATE_OF_BIRTH", m.start(), m.end(), 0.9)
        # a correction right after it ("... is 2/18/1949 but the correct one is 10/22/1944")
        again = DATE.search(text, m.end(), m.end() + 80)
        if again is not None:
            gap = text[m.end() : again.start()].lower()
            if (not any(c in gap for c in ":|\n") and any(w in gap for w in CORRECTION)
                    and re.search(r"\d{4}|\d[./-]\d{1,2}[./-]\d", again.group())):  # fmt: skip
                taken = again.end()
                yield Finding("DATE_OF_BIRTH", again.start(), again.end(), 0.8)


# -- street addresses --------------------------------------------------------------------------

SUFFIX = (r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|"
          r"Place|Pl|Terrace|Ter|Parkway|Pkwy|Circle|Cir|Highway|Hwy|Square|Sq|Trail|Trl|Close|"
          r"Crescent|Gardens|Grove|Mews|Row|Hill|Walk|Loop|Path|Alley|Plaza|Heights|View|Rise|Vale|"
          r"Green|Parade|Esplanade|Promenade|Wharf|Quay|Yard|Lines|Paddocks?|Chase|Bend|Crossing)")  # fmt: skip
STREET = re.compile(
    rf"(?:[A-Z]-)?\d{{1,6}}(?:-\d{{1,6}})?[A-Za-z]?,?[ \t]+(?:[NSEW]\.?[ \t]+)?(?:(?:[A-ZÀ-Ý][\w'.-]*|\d{{1,4}}(?:st|nd|rd|th))[ \t]+){{1,4}}{SUFFIX}\b\.?"
    r"(?:,?\s*(?:Apt|Apartment|Suite|Ste|Unit|Flat|#)\.?\s*[\w-]+)?"
    r"(?:,\s*[A-Z][A-Za-z .'-]{1,40}?,\s*[A-Z]{2}\s+\d{5}(?:-\d{4})?)?"
)
UK_POSTCODE = re.compile(r"[A-Z]{1,2}\d[A-Z\d]?\s?\d[ABD-HJLNP-UW-Z]{2}")
# German and Dutch: the street type is the end of one word ("Hauptstraße 12", "Kerkstraat 9A")
DE_STREET = re.compile(
    r"[A-ZÀ-ÝÆØÅ][a-zß-ÿæøå]+(?:-[A-ZÀ-ÝÆØÅ][a-zß-ÿæøå]+)*(?:straße|strasse|str\.|weg|gasse|platz|"
    r"allee|ring|damm|ufer|chaussee|straat|gracht|laan|plein|kade|singel|dijk|steeg|markt|dreef|"
    r"gatan|gata|vägen|väg|gade|vej|tie|katu|kuja|veien|vei|plass|torget|gränd|"
    r"[ ](?:gate|gata|vei|veg|vej|gade|allé))"
    r"\s+\d{1,4}(?:\s?[a-zA-Z](?![a-zA-Z]))?(?:-(?:\d{1,3}|[IVX]{1,4}\b))?"
    r"(?:,?\s+(?:lgh|lägenhet)\s+\d{1,5}|,\s*\d{1,2}\.\s*(?:th|tv|mf)\.?|\s[A-Z]\s\d{1,3}\b)?"
    r"(?:,?\s+\d{5}\s+[A-ZÄÖÜ][a-zäöüß]+)?"
)
DE_PREFIXED = re.compile(
    r"(?:Am|An der|An den|Auf der|Auf dem|Im|In der|Zum|Zur|Unter den|Hinter der|Alte|Neue)"
    r"\s+[A-ZÄÖÜ][\wäöüß-]+\s+\d{1,4}\s?[a-z]?"
)
_PARTICLE = r"(?:de la|de las|de los|de l'|del|de|des|du|d'|la|le|les|das|dos|da|do|dei|delle|della|degli|di|e|y)"
FR_STREET = re.compile(
    rf"\d{{1,5}}(?:\s*(?:bis|ter))?,?\s+(?i:rue|avenue|boulevard|bd|place|chemin|impasse|allée|quai|"
    rf"route|cours|square|passage|faubourg|rond-point)\s+(?:{_PARTICLE}\s*)?[A-ZÀ-Ý][\w'-]*"
    rf"(?:\s+(?:{_PARTICLE}\s*)?[A-ZÀ-Ý][\w'-]*){{0,3}}"
    r"(?:,\s*(?:app\.?|apt\.?|appartement|bât\.?|bâtiment|esc\.?|escalier)\s*[\w-]+)?"
)
ROMANCE_STREET = re.compile(
    rf"(?:Calle|C/|Avenida|Av\.|Avda\.?|Paseo|Plaza|Camino|Carretera|Ronda|Travesía|Rua|Travessa|"
    rf"Alameda|Via|Viale|Corso|Piazza|Piazzale|Largo|Vicolo|Strada)\s+(?:{_PARTICLE}\s+)?"
    rf"[A-ZÀ-Ý][\w'.-]*(?:\s+(?:{_PARTICLE}\s+)?[A-ZÀ-Ý][\w'.-]*){{0,3}},?\s+\d{{1,5}}[A-Za-z]?"
    r"(?:\s+(?:Pte|Ote|Nte|Sur)\b\.?)?"
    r"(?:,\s*(?:\d{1,2}\s*º\s*(?:[A-Za-z]{1,4}\b\.?)?|int\.?\s*\d+|bajo|piso\s*\d+|conj\.?\s*\d+|"
    r"apto\.?\s*\d+|scala\s*\w+))?"
)
# "Lange Voorhout 34, 2514 EE Den Haag", "Via Roma 5, 00184 Roma": a name, a number, a postcode
EU_STREET = re.compile(
    r"([A-ZÀ-Ý][\w'.-]+(?:\s+[A-Za-zÀ-ÿ][\w'.-]+){0,3}\s+\d{1,4}[A-Za-z]?(?:-\d{1,3})?),\s+"
    r"(?:\d{4}\s?[A-Z]{2}|\d{5})\s+[A-ZÀ-Ý]"
)
PO_BOX = re.compile(
    r"(?i:\bP\.?\s?O\.?\s+Box|\bPost\s+Office\s+Box|\bGPO\s+Box|\bPostfach|\bApartado(?:\s+de\s+correos)?|"
    r"\bCaixa\s+Postal|\bCasella\s+postale|\bBo[îi]te\s+postale)\s+\d{1,6}(?:\s\d{2}){0,2}"
)
JP_STREET = re.compile(
    r"\d{1,2}-\d{1,2}-\d{1,3}[ \t]+[A-Z][a-z]+(?:-[A-Za-z]+)*(?:,\s*Room\s+\d+)?"
)
IN_STREET = re.compile(
    r"(?:House|Flat|Plot|Door|Shop|Villa)\s*(?:No\.?\s*)?\d{1,5}(?:-?[A-Z])?"
    r"(?:,\s*(?:(?:Sector|Road\s+No\.?|Street(?:\s+No\.?)?|Block|Phase)\s*\d{1,4}[A-Z]?|"
    r"\d{1,4}[A-Z]?\s+(?:Street|Road)))?"
)
# Poland ("ul. Piotrkowska 118 m. 7"), Korea ("테헤란로 152, 12층"), Japan written town first
# ("Umeda 2-4-9"), India ("C-21, Kalkaji Main Road" is STREET with a block letter), and a
# Spanish street name after the number in the US ("2811 Calle Sol")
PL_STREET = re.compile(
    r"(?:ul\.|al\.|pl\.|os\.)\s*[A-ZŁŚŻŹĆ][\wąćęłńóśźż.-]+(?:\s[A-ZŁŚŻŹĆ][\wąćęłńóśźż-]+){0,2}"
    r"\s\d{1,4}[A-Za-z]?(?:\s*(?:m\.|/)\s*\d{1,4})?"
)
KR_STREET = re.compile(r"[가-힣]+(?:로|길|대로)\s?\d{1,4}(?:-\d{1,4})?(?:,\s*\d{1,3}층)?")
JP_TOWN_FIRST = re.compile(r"[A-Z][a-z]+(?:-[a-z]+)?\s\d{1,2}-\d{1,2}-\d{1,3}(?:,\s*Apt\s+\d+)?")
US_SPANISH = re.compile(
    r"\d{1,6}\s+(?:Calle|Avenida|Camino|Via|Paseo)\s+[A-ZÀ-Ý][\w'-]+(?:\s[A-ZÀ-Ý][\w'-]+)?"
)
# Each pattern with the substrings one of which its match must hold (in the lower-cased text),
# where checking them first is faster than the regex scan.
STREETS: tuple[tuple[re.Pattern[str], float, tuple[str, ...]], ...] = (
    (STREET, 0.85, ()),
    (DE_STREET, 0.85, ()),
    (DE_PREFIXED, 0.75, ()),
    (FR_STREET, 0.85, ()),
    (ROMANCE_STREET, 0.85, ()),
    (PO_BOX, 0.85, ("box", "postfach", "apartado", "postal", "postale")),
    (JP_STREET, 0.8, ("-",)),
    (IN_STREET, 0.8, ()),
    (PL_STREET, 0.8, ("ul.", "al.", "pl.", "os.")),
    (KR_STREET, 0.8, ("로", "길")),
    (JP_TOWN_FIRST, 0.75, ("-",)),
    (US_SPANISH, 0.8, ("calle", "avenida", "camino", "via", "paseo")),
)  # fmt: skip
POSTCODE_CITY = re.compile(r", (?:\d{4} ?[A-Z]{2}|\d{5}) [A-ZÀ-Ý]")


def _addresses(text: str) -> Iterator[Finding]:
    found: list[Finding] = []
    low = text.lower()
    for pattern, score, needs in STREETS:
        if needs and not any(n in low for n in needs):
            continue
        for m in pattern.finditer(text):
            if _edges(text, m.start(), m.end(), "-äöüß", "-"):
                found.append(Finding("STREET_ADDRESS", m.start(), m.end(), score))
    for city in POSTCODE_CITY.finditer(text):
        m = EU_STREET.search(text, max(0, city.start() - 60), city.end())
        if m is None or m.end(1) != city.start():
            continue
        if (
            _edges(text, m.start(), m.end(1), "-")
            and m.group(1).split()[0].lower() not in NOT_STREET
        ):
            found.append(Finding("STREET_ADDRESS", m.start(1), m.end(1), 0.75))
    for m in UK_POSTCODE.finditer(text):
        if _edges(text, m.start(), m.end()):
            found.append(Finding("STREET_ADDRESS", m.start(), m.end(), 0.7))
    yield from found


NOT_STREET = frozenset(
    """version release order invoice ticket case room page chapter section
step item table figure model build sprint week day year""".split()
)


# -- person names ------------------------------------------------------------------------------

CAP = r"(?:O'|Mc|Mac|D')?[A-ZÀ-ÖØ-ÞĀ-Ž](?:[a-zß-öø-ÿā-ž]+|[A-ZÀ-ÖØ-ÞĀ-Ž]+\b)(?:[-'][A-ZÀ-ÖØ-ÞĀ-Ž]?[a-zß-öø-ÿā-ž]+)?"
SP = r"[ \t]"  # one blank: names never run across lines or across columns of a form
# Surname particles: "Carlos de la Fuente", "Pieter van Dijk", "Núria Puig i Soler"
PARTICLES = r"(?:van der|van den|van de|von der|de la|de las|de los|de|del|della|di|da|das|do|dos|du|van|von|ten|ter|al|el|bin|ibn|ó|Ó|Ní|o|i|y)"
SURNAME = rf"(?:{PARTICLES}{SP})*{CAP}(?:-{CAP})?(?:{SP}(?:i|y){SP}{CAP})?"
NAME_CUE = re.compile(
    rf"(?:(?i:\bmy\s+name\s+is|\bmy\s+name's|\bi\s+am\s+called|\bname\s*(?:\(.{{0,20}}\))?\s*:|\bcall\s+me|"
    rf"\bsigned\s*(?:by|for by)?\s*[,:]?|\bregards\s*,|\bsincerely\s*,|\bthanks\s*,|\bcheers\s*,|\bbest\s*,|\bdear|"
    rf"\bpatient\s*:?|\bemployee\s*:?|\bspoke\s+(?:with|to)|\btalked\s+to|\bmet\s+with|\bapplicant\s*:|"
    rf"\bcustomer\s*:?|\bclient\s*:|\battn\.?\s*:?|\breported\s+by|\bapproved\s+by|\bassigned\s+to|"
    rf"\bowner\s*:|\b(?:account\s+|card|policy|pet\s+insurance\s+)?holder\s*:?|\bbeneficiary\s*:?|"
    rf"\brecipient\s*:|\bpayee\s*:|\bcc\s*:?|\bcontact(?:\s+person)?\s*:?|\bcontacto\s*:?|\bspeak\s+to|"
    rf"\bask\s+for|\bthis\s+is|\bi'm|\bi\s+am|\btenant\s*[,:]?|\b(?:co-?)?borrower\s*:|\bcandidate\s*:?|\binsured\s*:|\bwitness\s*:|"
    rf"\bmanager\s*:|\battendees\s*:|\breviewer\s*:|\bnominations?\s*(?:received)?\s*:|\bcoach|"
    rf"\bmanuscript\s+by|\bby|\bfrom|\bwith|\bfor|\bcalled|\bemailed|\bphoned|\bnom\s*:|\bnaam\s*:|"
    rf"\bnombre\s*:|\bad\s+soyad\s*:|\btitulaire\s*:|\bkund(?:e|in)\s*:|\bmitarbeiter(?:in)?|"
    rf"\bfalar\s+com|\bpreguntar\s+por|\bchiedere\s+di|\bcitofonare|\binterphone|\bparent/guardian\s*:|"
    rf"\bchild's\s+name\s*:|\bsection\s+\d+\s*:|\bsecondary\s*:|\bprimary\s*:|\bdriver\s+assigned\s*:|"
    rf"\bagent\s*\(|\bspouse\s*:|\btaxpayer\s*:|\brx\s+for\s*:|\bguardian\s*:|\bpassenger(?:\s+\d+)?\s*:|"
    rf"\bpax(?:\s+\d+)?\s*:|\bguest\s*:|\bmember\s*:|\bdonor\s*:|\bprescriber\s*:|"
    rf"\bphysician\s*:|\bstudent\s*:|\bpupil\s*:|\bdependent\s*:|\blandlord\s*:|\bbuyer\s*:|"
    rf"\bseller\s*:|\btestator\s*,?)\s*)"
    rf"(?!(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Madam)\b)"
    # "OYELARAN, Funmilayo", "Kowalski, Adam J.", "GARCIA/MARIA ELENA": family name first
    rf"([A-Z][A-Z'-]+(?:,{SP}|/){CAP}(?:{SP}(?:{CAP}|[A-Z]\.))?|{CAP},{SP}{CAP}(?:{SP}[A-Z]\.)?(?=\s)|"
    rf"{CAP}(?:{SP}(?:[A-Z]\.{SP})?{SURNAME}){{0,2}})"
)
TITLE = re.compile(
    rf"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Dra|Prof|Sir|Madam|Herr|Frau|Mme|Mlle|M|Sr|Sra|Sig|Sig\.ra)\.?{SP}"
    rf"({SURNAME}(?:{SP}{SURNAME}){{0,2}})"
)
GIVEN_SURNAME = re.compile(rf"({CAP})(?={SP}((?:[A-Z]\.{SP})?{SURNAME})\b)")
# cues that also start ordinary phrases ("This is Important", "by Monday"): the name that
# follows must start with a known given name
WEAK_CUES = ("this is", "i'm", "i am", "contact", "by", "from", "with", "for", "called", "emailed",
             "phoned", "coach", "best", "cheers", "customer", "employee", "patient", "tenant",
             "candidate", "mitarbeiter")  # fmt: skip
# names as values of fields: "family_name: Nwosu", {"lastName": "Orlova"}, "Prénom : Yasmine",
# "?first=Oren&last=Shapiro"
KEYED_NAME = re.compile(
    r"(?i:\b(?:(?:first|last|given|family|middle|sur|full|display|maiden)[_ -]?name|surname|given|"
    r"family|prénom|prenom|vorname|nachname|apellidos?|nome|cognome|imię|nazwisko|voornaam|"
    r"achternaam|(?<=[?&])(?:first|last|fname|lname)))[\"']?\s*[:=]\s*[\"']?"
    r"([A-ZÀ-ÖØ-Þ][\w'’-]+(?:[ \t][A-ZÀ-ÖØ-Þ][\w'’-]+){0,3})"
)
NAME_KEYS = ("name", "given", "family", "prénom", "prenom", "vorname", "apellido", "nome",
             "cognome", "imię", "nazwisko", "naam", "first=", "last=", "fname", "lname")  # fmt: skip
# chat in lower case: "ask sanne", "lunch with ximena and chiamaka", "hey joão pedro"
LOWER_CUE = re.compile(
    r"(?:\b(?:hi|hey|hello|thanks|thank you|ask|ping|tell|call|text|email|message|with|and|cc|name is|"
    r"from|to|did)(?:\s+@?|\s*@)|(?:^|(?<=\s))@)([a-zß-öø-ÿā-ž][a-zß-öø-ÿā-ž'-]+)(?:\s+([a-zß-öø-ÿā-ž][a-zß-öø-ÿā-ž'-]+))?"
)


CAPWORD = re.compile(r"(?:O'|Mc|Mac|D')?[A-ZÀ-ÖØ-ÞĀ-Ž][^\W\d_]+(?:-[^\W\d_]+)*")


@cache
def _name_starts() -> frozenset[str]:
    """Words a person's name may start with (given names, also those that are words)."""
    return given_names() | WORD_NAMES


def _word_list(name: str) -> set[str]:
    """The words of a shipped list, with their accents and also without them ("lászló" and
    "laszlo": both are written)."""
    data = files("shipyard.guardrails").joinpath(f"data/{name}").read_text("utf-8")
    words = {x for line in data.splitlines() if line and not line.startswith("#")
             for x in line.split() if x.replace("-", "").replace("'", "").isalpha()}  # fmt: skip
    return words | {_plain(w) for w in words}


def _plain(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


@cache
def given_names() -> frozenset[str]:
    return frozenset(_word_list("first_names.txt") - NOT_NAMES)


@cache
def surnames() -> frozenset[str]:
    return frozenset(_word_list("surnames.txt") - NOT_NAMES)


# Given names that are also words ("Grace", "Will"): a name only before a capitalised surname.
WORD_NAMES = frozenset(
    """grace will june april mark hope joy faith rose ray dawn penny ruby ivy
holly daisy lily violet amber jade crystal frank hunter miles chase dean""".split()
)
NOT_NAMES = frozenset(
    """the and for you are with this that from have was not but all any can her his one our out
who new now old see two way may use she day get how its let man own say too also just
more most only over such than them then they very what when will your into shipping ships
order street road per numbers number""".split()
)
# Given names that are as often places, brands or products: never a name on their own.
NOT_ALONE = frozenset(
    """alexa siri cortana mercedes tesla chanel dell ford porsche ferrari lincoln jaguar
jackson virginia georgia carolina victoria sydney florence paris madison austin dallas
houston jordan israel chelsea brooklyn denver savannah sierra dakota montana nevada
kennedy harrison cameron morgan taylor german mai china india grant carol bill pat sue rob
guy art jack don gene van max rich sandy summer autumn river sky rain storm king prince earl
major page lane drew wade chase heath glen dale cliff brook brooks reed hall angel christian
justice precious royal jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat
sun son devon darwin charlotte louis""".split()
)


# The words NAME_CUE's phrases start with: the pattern is tried only where one of them starts a
# word (a substring search finds them far faster than the regex scans the text).
CUE_STARTS = ("my", "i'm", "i am", "name", "call", "signed", "regards", "sincerely", "thanks",
              "cheers", "best", "dear", "patient", "employee", "spoke", "talked", "met",
              "applicant", "customer", "client", "attn", "assigned", "reported", "approved",
              "owner", "holder", "account", "card", "policy", "pet", "beneficiary", "recipient",
              "payee", "cc", "contact", "speak", "ask", "this", "tenant", "candidate", "insured",
              "witness", "manager", "attendees", "reviewer", "nomination", "coach", "manuscript",
              "by", "from", "with", "for", "called", "emailed", "phoned", "nom", "naam", "nombre",
              "ad soyad", "titulaire", "kund", "mitarbeiter", "falar", "preguntar", "chiedere",
              "citofonare", "interphone", "parent", "child", "section", "secondary", "primary",
              "driver", "agent", "spouse", "taxpayer", "rx", "guardian", "passenger", "pax",
              "guest", "member", "donor", "prescriber", "physician", "student", "pupil",
              "dependent", "landlord", "buyer", "seller", "testator", "borrower", "co-borrower",
              "coborrower")  # fmt: skip


def _cued(text: str, low: str) -> Iterator[re.Match[str]]:
    starts = set()
    for word in CUE_STARTS:
        at = low.find(word)
        while at >= 0:
            if not at or not low[at - 1].isalnum():
                starts.add(at)
            at = low.find(word, at + 1)
    end = -1
    for at in sorted(starts):
        if at < end:
            continue
        m = NAME_CUE.match(text, at)
        if m is not None:
            end = m.end()
            yield m


def _trim(text: str, start: int, end: int) -> int:
    """A name's end without a possessive 's."""
    return end - 2 if text[start:end].endswith(("'s", "’s")) else end


SAINT = re.compile(
    r"(?:\bSt|\bSaint|\bSan|\bSanta|\bMount|\bMt|\bFort|\bFt|\bPort|\bCape|\bDr)\.?\s$"
)


def _after_capital(text: str, at: int) -> bool:
    """Whether the word before ``at`` is capitalised mid-sentence ("São Paulo", "New Jersey"),
    or a saint's or a place's prefix ("St. Louis"): then a given name there is more likely
    part of a place's (or a brand's) name."""
    if SAINT.search(text[max(0, at - 8) : at]):
        return True
    before = text[max(0, at - 30) : at].rstrip(" ")
    if len(before) == len(text[max(0, at - 30) : at]):
        return False  # no space before: not a separate word
    words = before.split()
    if not words or not words[-1][:1].isupper() or not words[-1].isalpha():
        return False
    prev = before[: len(before) - len(words[-1])].rstrip()
    return bool(prev) and prev[-1] not in ".!?:;\n" and words[-1].lower() not in given_names()


def _people(text: str) -> Iterator[Finding]:
    known, family = given_names(), surnames()
    low = text.lower()
    for m in _cued(text, low) if len(low) == len(text) else NAME_CUE.finditer(text):
        words = m.group(1).split()
        first = words[0].lower()
        if m.group(1).isupper() and first not in known and not m.group().rstrip().endswith(":"):
            continue  # "END OF USER INPUT" (but "NAME: TRAN VAN DUC" is a name)
        cue = m.group()[: m.start(1) - m.start()].strip().lower()
        if (
            cue.startswith(WEAK_CUES)
            and not cue.endswith(":")
            and first not in known
            and not (len(words) > 1 and words[-1].lower() in family)
        ):
            continue  # "I'm Happy", "This is Important", "by Monday"
        if (words[-1].lower() in COMMON_AFTER or first in COMMON_AFTER or first in NOT_A_NAME
                or words[-1].lower() in ROLES):  # fmt: skip
            continue
        yield Finding("PERSON", m.start(1), _trim(text, m.start(1), m.end(1)), 0.85)
    for m in TITLE.finditer(text):
        if m.start() and text[m.start() - 1] in WORD:
            continue
        yield Finding("PERSON", m.start(1), _trim(text, m.start(1), m.end(1)), 0.9)
    starts = _name_starts()
    for word in CAPWORD.finditer(text):
        if word.start() and text[word.start() - 1].isalpha():
            continue
        w = word.group().lower()
        pair = GIVEN_SURNAME.match(text, word.start())
        if pair is not None:
            surname = pair.group(2).split()[-1].lower()
            if (surname in COMMON_AFTER and surname not in WORD_SURNAMES) or (
                w in COMMON_AFTER and w not in WORD_SURNAMES
            ):
                pair = None
            elif w in starts:
                weak = surname in known or w in WORD_NAMES
                yield Finding("PERSON", pair.start(), _trim(text, pair.start(), pair.end(2)),
                              0.6 if weak else 0.7)  # fmt: skip
                continue
            elif (surname in family and len(surname) > 3 and w not in NOT_FIRST
                  and not pair.group(1).isupper()):  # fmt: skip
                # an unknown given name before a known surname ("Tahlia Simmons")
                yield Finding("PERSON", pair.start(), _trim(text, pair.start(), pair.end(2)), 0.6)
                continue
            elif (w in family or w in WORD_SURNAMES) and surname in known:
                # family name first ("Park Ji-woo", "Zhang Wei")
                yield Finding("PERSON", pair.start(), _trim(text, pair.start(), pair.end(2)), 0.6)
                continue
        if (pair is None and w in known and w not in NOT_ALONE and len(w) > 2
                and word.group()[1:].replace("-", "").islower()
                and not _after_capital(text, word.start())):  # fmt: skip
            after = text[word.end() : word.end() + 2]
            if not (after[:1] == " " and after[1:].isupper()):
                yield Finding("PERSON", word.start(), word.end(), 0.55)  # a given name alone
    if ("=" in text or ":" in text) and any(k in low for k in NAME_KEYS):
        for m in KEYED_NAME.finditer(text):
            yield Finding("PERSON", m.start(1), m.end(1), 0.8)
    for m in LOWER_CUE.finditer(low):
        name = m.group(1)
        if name not in known or name in NOT_ALONE or text[m.start(1)].isupper():
            continue
        end = m.end(1)
        if m.group(2) and (m.group(2) in family or m.group(2) in known):
            end = m.end(2)
        yield Finding("PERSON", m.start(1), end, 0.55)


# What follows a cue ("Patient: Yes", "Regards, Clinic Admin") but is not a name.
NOT_A_NAME = frozenset(
    """yes no uh um ok okay hi hello thanks thank sure well oh the a an my our your please not none
unknown pending same n/a tba tbd hiring dear all everyone team""".split()
)
ROLES = frozenset(
    """admin administrator manager reception receptionist staff committee board recruiter
colleagues everyone team support desk office department service services ms mr mrs dr md rn
phd""".split()
)
# Surnames that are also words after which a capitalised word is rarely a name ("Park")
WORD_SURNAMES = frozenset("park hall lake hill church bell".split())
# Capitalised words that start sentences, headings and labels, never a given name before a
# surname: "Contact Smith" is not a person called Contact.
NOT_FIRST = frozenset(
    """the a an and or but if when while this that these those my your our their his her its
dear hi hello hey thanks thank please contact call send ask email note order invoice ticket
customer client patient employee manager team project meeting update report account payment
monday tuesday wednesday thursday friday saturday sunday january february march april may
june july august september october november december new old north south east west
mount saint san santa port fort lake via calle rue avenida piazza corso viale paseo plaza
rua largo room hall conference""".split()
)
COMMON_AFTER = frozenset(
    """street road avenue lane drive court way place the and or of in on at to for with from by
is was are said says has had will can team group inc ltd llc corp company bank university
college hospital school church park river lake city county airport station hotel
care center centre service services support team desk department office club foundation
institute award prize memorial bridge tower hall museum library plaza square avenue boulevard
beach hole falls springs valley island islands bay mountain mountains resort state creek
harbor harbour point heights cove canyon ridge forest gardens coast systems electric gas
diamond solutions labs technologies tech holdings partners associates consulting motors airlines
foods energy capital media pharma health insurance realty hotels chess club ms mr mrs md rn""".split()
)

RECOGNIZERS = {
    "EMAIL_ADDRESS": _emails, "PHONE_NUMBER": _phones, "CREDIT_CARD": _cards,
    "IBAN_CODE": _ibans, "US_SSN": _ssns, "IP_ADDRESS": _ips, "DATE_OF_BIRTH": _births,
    "STREET_ADDRESS": _addresses, "PERSON": _people,
}  # fmt: skip
# Which entity wins where two overlap (a card's digits are not a phone number too).
PRIORITY = {"CREDIT_CARD": 3, "IBAN_CODE": 3, "US_SSN": 2, "EMAIL_ADDRESS": 2, "IP_ADDRESS": 1}


@CHECKS.register
class Pii(Check):
    name = "pii"
    Options = PiiOptions
    redacts = True

    def scan(self, text: str, ctx: ScanContext) -> list[Finding]:
        opts = self.options
        assert isinstance(opts, PiiOptions)
        found: list[Finding] = []
        for entity in opts.entities:
            recognizer = RECOGNIZERS.get(entity)
            if recognizer is not None:
                found.extend(f for f in recognizer(text) if f.score >= opts.min_score)
        if opts.allow:
            allowed = set(opts.allow)
            found = [f for f in found if text[f.start : f.end] not in allowed]
        for f in found:
            f.score += PRIORITY.get(f.type, 0) * 1e-3  # ties between overlapping entities
        return dedupe(found)
