"""Person names for the ``pii`` check: after a cue ("my name is", "Dear Ms.", "Payee:"), a
known given name with a capitalised surname (particles too), family name first, an unknown given
name before a known surname, a known given name alone, lower-case names in chat, and names as
the values of fields. The given and family names ship in ``data/first_names.txt`` and
``data/surnames.txt``."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import cache
from importlib.resources import files

from shipyard.guardrails.checks.base import Finding
from shipyard.guardrails.checks.shortcuts import Literals
from shipyard.guardrails.checks.spans import WORD

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
STARTS = frozenset(p[0] for p in PARTICLES[3:-1].split("|"))  # what particles start with


def _may_start(ch: str) -> bool:
    """Whether a surname (``SURNAME``, after an initial or not) may start with ``ch``."""
    return ch.isupper() or ch in STARTS or "\u0100" <= ch <= "\u017d"


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
# (a cue starts a word and "@" starts the text or follows a blank: checked in ``_lower_cued``,
# so that the regex starts with plain letters and the engine skips ahead quickly)
LOWER_CUE = re.compile(
    r"(?:(?:hi|hey|hello|thanks|thank you|ask|ping|tell|call|text|email|message|with|and|cc|name is|"
    r"from|to|did)(?:\s+@?|\s*@)|@)([a-zß-öø-ÿā-ž][a-zß-öø-ÿā-ž'-]+)(?:\s+([a-zß-öø-ÿā-ž][a-zß-öø-ÿā-ž'-]+))?"
)


def _lower_cued(low: str) -> Iterator[re.Match[str]]:
    """``LOWER_CUE``'s matches that start where a cue may: as ``finditer`` would give them."""
    pos = 0
    while (m := LOWER_CUE.search(low, pos)) is not None:
        at = m.start()
        before = low[at - 1] if at else " "
        if (low[at] == "@" and not before.isspace()) or (
            low[at] != "@" and (before.isalnum() or before == "_")
        ):
            pos = at + 1
            continue
        yield m
        pos = m.end()


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
CUES = Literals(CUE_STARTS + NAME_KEYS)


def _cued(text: str, low: str, cues: dict[str, list[int]]) -> Iterator[re.Match[str]]:
    """``NAME_CUE``'s matches, tried where a cue starts a word (``cues``: where they occur)."""
    starts = {
        p for cue in CUE_STARTS for p in cues.get(cue, ()) if not p or not low[p - 1].isalnum()
    }
    end = -1
    for at in sorted(starts):
        if at < end or text[at : at + 45].islower():
            continue  # every cue is followed by a capitalised name: none near, no match
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


def _keyed(text: str, low: str, at: dict[str, list[int]]) -> Iterator[Finding]:
    """Names as field values, tried where a key word occurs (from the start of its key)."""
    tried: set[int] = set()
    for key in NAME_KEYS:
        for start in at.get(key, ()):
            while start and (low[start - 1].isalnum() or low[start - 1] in "_-"):
                start -= 1  # "first_name", "lastName", "family"
            if start not in tried:
                tried.add(start)
                m = KEYED_NAME.match(text, start)
                if m is not None:
                    yield Finding("PERSON", m.start(1), m.end(1), 0.8)


def find_people(text: str) -> Iterator[Finding]:
    known, family = given_names(), surnames()
    low = text.lower()
    at = CUES.positions(low)  # where cues and keys occur
    # (a text whose lower case is longer, as "İ" is, is scanned whole)
    for m in _cued(text, low, at) if len(low) == len(text) else NAME_CUE.finditer(text):
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
        after = text[word.end() : word.end() + 2]
        # a surname needs a blank after the given name, then a capital or a particle
        pair = (
            GIVEN_SURNAME.match(text, word.start())
            if after[:1] == "'" or (after[:1] in " \t" and _may_start(after[1:]))
            else None
        )
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
    if "=" in text or ":" in text:
        yield from _keyed(text, low, at)
    for m in _lower_cued(low):
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
