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

import ipaddress
import re
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
        if _edges(text, m.start(), m.end(), ".+-:/", "-"):
            yield Finding("EMAIL_ADDRESS", m.start(), m.end(), 0.95)


# -- phone numbers -----------------------------------------------------------------------------

PHONE_CANDIDATE = re.compile(r"[+(\d][\d ().\-/]{6,24}\d")
SHAPES = (
    (re.compile(r"\+\d{1,3}(?:[ .\-]?\(?\d{1,5}\)?){1,7}"), 0.9),  # +44 20 7946 0958
    (re.compile(r"(?:1[ .\-])?(?:\(\d{3}\)[ .\-]?|\d{3}[.\- ])\d{3}[.\- ]\d{4}"), 0.8),
    (re.compile(r"0[1-9]\d{0,3}(?:[ .\-/]\d{2,8}){1,4}"), 0.6),  # 030 12345678, 01 23 45 67 89
    (re.compile(r"\d{10,12}"), 0.0),  # a bare run of digits: a phone only after a cue
    (re.compile(r"\d{3,5}[ .\-]\d{3,5}(?:[ .\-]\d{2,5})?"), 0.0),  # 98201 55734: after a cue
)
PHONE_CUE = re.compile(r"(?i)\b(?:phone|tel|telephone|mobile|cell|call|text|whatsapp|fax|"
                       r"reach|contact|ring|dial|landline|handy|telefon|tél|móvil|cellulare)\b")  # fmt: skip
NOT_PHONE = re.compile(r"(?i)\b(?:order|invoice|tracking|ticket|ref|reference|case|account|"
                       r"acct|customer|serial|part|sku|model|item|po|isbn|id|no\.|#)(?:\s+(?:number|"
                       r"no\.?|nr\.?|num|#|id))?(?:\s+(?:is|was|=))?\W{0,4}$")  # fmt: skip
GROUP_END = re.compile(r"[ .\-/]+[\d()]+$")


def _digits(s: str) -> int:
    return sum(c.isdigit() for c in s)


def _phone_shape(s: str) -> float | None:
    """The score of the longest leading part of ``s`` shaped like a phone number."""
    for _ in range(4):
        for shape, score in SHAPES:
            if shape.fullmatch(s) and 8 <= _digits(s) <= 15:
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
        if NOT_PHONE.search(text[max(0, start - 24) : start]):
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
        if not _edges(text, m.start(), m.end(), "-", "-"):
            continue
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
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")  # fmt: skip
DATE = (rf"(?:\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}}[./-]\d{{1,2}}[./-]\d{{2,4}}|"
        rf"{MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|"
        rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTHS}\.?,?\s+\d{{4}})")  # fmt: skip
DOB = re.compile(
    rf"(?i)\b(?:born(?:\s+on)?|date\s+of\s+birth|d\.?o\.?b\.?|birth\s*date|birthday|"
    rf"geboren(?:\s+am)?|né(?:e)?\s+le|fecha\s+de\s+nacimiento)\b\W{{0,4}}(?:is\s+|was\s+|on\s+)?"
    rf"({DATE})"
)


BIRTH_WORDS = ("born", "birth", "dob", "d.o.b", "geboren", "né", "nacimiento")


def _births(text: str) -> Iterator[Finding]:
    low = text.lower()
    if not any(w in low for w in BIRTH_WORDS):
        return
    for m in DOB.finditer(text):
        yield Finding("DATE_OF_BIRTH", m.start(1), m.end(1), 0.9)


# -- street addresses --------------------------------------------------------------------------

SUFFIX = (r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|"
          r"Place|Pl|Terrace|Ter|Parkway|Pkwy|Circle|Cir|Highway|Hwy|Square|Sq|Trail|Trl|Close|"
          r"Crescent|Gardens|Grove|Mews|Row|Hill|Walk|Loop|Path|Alley|Plaza|Heights)")  # fmt: skip
STREET = re.compile(
    rf"\d{{1,6}}[A-Za-z]?,?[ \t]+(?:[NSEW]\.?[ \t]+)?(?:(?:[A-Z][A-Za-z'.-]*|\d{{1,4}}(?:st|nd|rd|th))[ \t]+){{1,4}}{SUFFIX}\b\.?"
    r"(?:,?\s*(?:Apt|Apartment|Suite|Ste|Unit|Flat|#)\.?\s*[\w-]+)?"
    r"(?:,\s*[A-Z][A-Za-z .'-]{1,40}?,\s*[A-Z]{2}\s+\d{5}(?:-\d{4})?)?"
)
UK_POSTCODE = re.compile(r"[A-Z]{1,2}\d[A-Z\d]?\s?\d[ABD-HJLNP-UW-Z]{2}")
DE_STREET = re.compile(
    r"[A-ZÄÖÜ][a-zäöüß]+(?:-[A-ZÄÖÜ][a-zäöüß]+)*(?:straße|strasse|str\.|weg|gasse|platz|"
    r"allee|ring|damm|ufer)\s+\d{1,4}\s?[a-z]?(?:,?\s+\d{5}\s+[A-ZÄÖÜ][a-zäöüß]+)?"
)


def _addresses(text: str) -> Iterator[Finding]:
    for pattern, score in ((STREET, 0.85), (DE_STREET, 0.85), (UK_POSTCODE, 0.7)):
        for m in pattern.finditer(text):
            if _edges(text, m.start(), m.end(), "-äöüß", "-"):
                yield Finding("STREET_ADDRESS", m.start(), m.end(), score)


# -- person names ------------------------------------------------------------------------------

CAP = r"(?:O'|Mc|Mac|D')?[A-ZÀ-ÖØ-ÞĀ-Ž](?:[a-zß-öø-ÿā-ž]+|[A-ZÀ-ÖØ-ÞĀ-Ž]+\b)(?:[-'][A-ZÀ-ÖØ-ÞĀ-Ž]?[a-zß-öø-ÿā-ž]+)?"
SP = r"[ \t]+"  # names never run across lines
NAME_CUE = re.compile(
    rf"(?:(?i:\bmy\s+name\s+is|\bmy\s+name's|\bi\s+am\s+called|\bname\s*:|\bcall\s+me|"
    rf"\bsigned\s*,?|\bregards\s*,|\bsincerely\s*,|\bthanks\s*,|\bdear|\bpatient|\bemployee|"
    rf"\bspoke\s+(?:with|to)|\btalked\s+to|\bmet\s+with|\bapplicant\s*:|\bcustomer\s*:|\battn\.?\s*:?|"
    rf"\bsigned\s+by|\bassigned\s+to|\breported\s+by|\bapproved\s+by|\bowner\s*:|\bholder\s*:|"
    rf"\bbeneficiary\s*:|\brecipient\s*:|\baccount\s+holder\s*:?|\bcc\s*:|"
    rf"\bcontact(?:\s+person\s*:?)?|\bspeak\s+to|\bask\s+for|\bthis\s+is|\bi'm|\bi\s+am)\s+)"
    rf"(?!(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Madam)\b)({CAP}(?:{SP}{CAP}){{0,2}})"
)
TITLE = re.compile(
    rf"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Madam|Herr|Frau|Mme|Mlle|Sr|Sra)\.?{SP}({CAP}(?:{SP}{CAP}){{0,2}})"
)
GIVEN_SURNAME = re.compile(rf"({CAP})(?={SP}((?:[A-Z]\.{SP})?{CAP}(?:-{CAP})?)\b)")
WEAK_CUES = ("this is", "i'm", "i am", "contact")


CAPWORD = re.compile(r"(?:O'|Mc|Mac|D')?[A-ZÀ-ÖØ-ÞĀ-Ž][^\W\d_]+")


@cache
def _name_starts() -> frozenset[str]:
    """Words a person's name may start with (given names, also those that are words)."""
    return given_names() | WORD_NAMES


@cache
def given_names() -> frozenset[str]:
    data = files("shipyard.guardrails").joinpath("data/first_names.txt").read_text("utf-8")
    words = {x for x in data.split() if x.isalpha()} - NOT_NAMES
    return frozenset(words)


# Given names that are also words ("Grace", "Will"): a name only before a capitalised surname.
WORD_NAMES = frozenset(
    """grace will june april mark hope joy faith rose ray dawn penny ruby ivy
holly daisy lily violet amber jade crystal frank hunter miles chase dean""".split()
)
NOT_NAMES = frozenset(
    """the and for you are with this that from have was not but all any can her his one our out
who new now old see two way may use she day get how its let man own say too also just
more most only over such than them then they very what when will your into shipping ships
order street road""".split()
)


# The words NAME_CUE's phrases start with: the pattern is tried only where one of them starts a
# word (a substring search finds them far faster than the regex scans the text).
CUE_STARTS = ("my", "i'm", "i am", "name", "call", "signed", "regards", "sincerely", "thanks",
              "dear", "patient", "employee", "spoke", "talked", "met", "applicant", "customer",
              "attn", "assigned", "reported", "approved", "owner", "holder", "beneficiary",
              "recipient", "account", "cc", "contact", "speak", "ask", "this")  # fmt: skip


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


def _people(text: str) -> Iterator[Finding]:
    known = given_names()
    low = text.lower()
    for m in _cued(text, low):
        if m.group(1).isupper() and m.group(1).split()[0].lower() not in known:
            continue  # "END OF USER INPUT"
        cue = m.group().lower()
        first = m.group(1).split()[0].lower()
        if cue.startswith(WEAK_CUES) and first not in known:
            continue  # "I'm Happy", "This is Important"
        end = m.end(1) - 2 if m.group(1).endswith("'s") else m.end(1)
        if m.group(1).split()[-1].lower() in COMMON_AFTER:
            continue
        yield Finding("PERSON", m.start(1), end, 0.85)
    for m in TITLE.finditer(text):
        if m.start() and text[m.start() - 1] in WORD:
            continue
        yield Finding("PERSON", m.start(1), m.end(1), 0.9)
    starts = _name_starts()
    for word in CAPWORD.finditer(text):
        if word.group().lower() not in starts or (
            word.start() and text[word.start() - 1].isalpha()
        ):
            continue
        pair = GIVEN_SURNAME.match(text, word.start())
        if pair is None:
            continue
        first = pair.group(1).lower()
        surname = pair.group(2).lower()
        if surname not in COMMON_AFTER:
            end = pair.end(2) - 2 if surname.endswith("'s") else pair.end(2)
            weak = surname in known or first in WORD_NAMES
            yield Finding("PERSON", pair.start(), end, 0.6 if weak else 0.7)


COMMON_AFTER = frozenset(
    """street road avenue lane drive court way place the and or of in on at to for with from by
is was are said says has had will can team group inc ltd llc corp company bank university
college hospital school church park river lake city county airport station hotel
care center centre service services support team desk department office club foundation
institute award prize memorial bridge tower hall museum library plaza square avenue boulevard""".split()
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
