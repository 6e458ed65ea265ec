"""``pii``: personal data in text, found by pattern and confirmed by each format's own rules.

    EMAIL_ADDRESS    addresses with a valid-looking domain
    PHONE_NUMBER     international (+CC), North American and 0-prefixed national numbers,
                     8-15 digits; numbers next to "order", "invoice", "tracking"... are not
    CREDIT_CARD      13-19 digits with a known issuer prefix and a valid Luhn check digit
    IBAN_CODE        the country's registered length and a valid ISO 7064 mod-97 check
    US_SSN           area, group and serial in the ranges the SSA issues
    IP_ADDRESS       IPv4 and IPv6 addresses (not version strings)
    DATE_OF_BIRTH    a date after a birth cue, in a birth column, in a dialog (pii_dates)
    STREET_ADDRESS   street lines of many countries, PO boxes, UK postcodes (pii_addresses)
    PERSON           names after a cue, known given and family names, names in fields and in
                     chat (pii_names)

Every finding has a score; those under ``min_score`` are dropped.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from shipyard.core.checksums import luhn_ok
from shipyard.guardrails.checks.base import CHECKS, Check, Finding, ScanContext, dedupe
from shipyard.guardrails.checks.pii_addresses import find_addresses
from shipyard.guardrails.checks.pii_dates import find_births
from shipyard.guardrails.checks.pii_names import find_people
from shipyard.guardrails.checks.spans import WORD
from shipyard.guardrails.checks.spans import edges as _edges

ENTITIES = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS",
            "DATE_OF_BIRTH", "STREET_ADDRESS", "PERSON")  # fmt: skip


class PiiOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entities: list[str] = Field(default_factory=lambda: list(ENTITIES))
    min_score: float = Field(default=0.5, ge=0, le=1)
    allow: list[str] = Field(default_factory=list, description="values never reported")


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


RECOGNIZERS = {
    "EMAIL_ADDRESS": _emails, "PHONE_NUMBER": _phones, "CREDIT_CARD": _cards,
    "IBAN_CODE": _ibans, "US_SSN": _ssns, "IP_ADDRESS": _ips, "DATE_OF_BIRTH": find_births,
    "STREET_ADDRESS": find_addresses, "PERSON": find_people,
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
