"""Street lines for the ``pii`` check: US/UK (number, name, street type), German and Dutch
(the type ends the word), Nordic, French, Spanish, Italian and Portuguese, Polish, Korean,
Japanese (both orders), Indian, Gulf and Pakistani forms, PO boxes and UK postcodes."""

from __future__ import annotations

import re
from collections.abc import Iterator

from shipyard.guardrails.checks.base import Finding
from shipyard.guardrails.checks.shortcuts import scan
from shipyard.guardrails.checks.spans import edges as _edges

SUFFIX = (r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|"
          r"Place|Pl|Terrace|Ter|Parkway|Pkwy|Circle|Cir|Highway|Hwy|Square|Sq|Trail|Trl|Close|"
          r"Crescent|Gardens|Grove|Mews|Row|Hill|Walk|Loop|Path|Alley|Plaza|Heights|View|Rise|Vale|"
          r"Green|Parade|Esplanade|Promenade|Wharf|Quay|Yard|Lines|Paddocks?|Chase|Bend|Crossing)")  # fmt: skip
STREET = re.compile(
    rf"\d{{1,6}}(?:-\d{{1,6}})?[A-Za-z]?,?[ \t]+(?:[NSEW]\.?[ \t]+)?(?:(?:[A-ZÀ-Ý][\w'.-]*|\d{{1,4}}(?:st|nd|rd|th))[ \t]+){{1,4}}{SUFFIX}\b\.?"
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
    r"\d{1,4}[A-Z]?\s+(?:Street|Road)))?|"
    # a block letter before the number: "C-21, Kalkaji Main Road"
    r"[A-Z]-\d{1,4},\s+[A-Z][\w'-]+(?:\s[A-Z][\w'-]+){0,3}\s(?:Road|Marg|Street|Lane|Nagar)\b"
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
# where checking them first is faster than the regex scan, and whether it starts with a number
# (then it is tried only where a run of digits starts).
STREETS: tuple[tuple[re.Pattern[str], float, tuple[str, ...], bool], ...] = (
    (STREET, 0.85, (), True),
    (DE_STREET, 0.85, (), False),
    (DE_PREFIXED, 0.75, (), False),
    (FR_STREET, 0.85, (), True),
    (ROMANCE_STREET, 0.85, (), False),
    (PO_BOX, 0.85, ("box", "postfach", "apartado", "postal", "postale"), False),
    (JP_STREET, 0.8, ("-",), True),
    (IN_STREET, 0.8, (), False),
    (PL_STREET, 0.8, ("ul.", "al.", "pl.", "os."), False),
    (KR_STREET, 0.8, ("로", "길"), False),
    (JP_TOWN_FIRST, 0.75, ("-",), False),
    (US_SPANISH, 0.8, ("calle", "avenida", "camino", "via", "paseo"), True),
)  # fmt: skip
DIGITS = re.compile(r"\d+")


def digit_runs(text: str) -> list[int]:
    """Where each run of digits starts: a match that starts inside one has a digit before it,
    which the word-edge check refuses anyway."""
    return [m.start() for m in DIGITS.finditer(text)]


POSTCODE_CITY = re.compile(r", (?:\d{4} ?[A-Z]{2}|\d{5}) [A-ZÀ-Ý]")


def find_addresses(text: str) -> Iterator[Finding]:
    found: list[Finding] = []
    low = text.lower()
    runs: list[int] | None = None
    for pattern, score, needs, numbered in STREETS:
        if needs and not any(n in low for n in needs):
            continue
        if numbered and runs is None:
            runs = digit_runs(text)
        for m in (
            scan(pattern, runs, text) if numbered and runs is not None else pattern.finditer(text)
        ):
            if _edges(text, m.start(), m.end(), "-äöüß", "-"):
                found.append(Finding("STREET_ADDRESS", m.start(), m.end(), score))
    for city in POSTCODE_CITY.finditer(text):
        line = EU_STREET.search(text, max(0, city.start() - 60), city.end())
        if line is None or line.end(1) != city.start():
            continue
        if (
            _edges(text, line.start(), line.end(1), "-")
            and line.group(1).split()[0].lower() not in NOT_STREET
        ):
            found.append(Finding("STREET_ADDRESS", line.start(1), line.end(1), 0.75))
    for m in UK_POSTCODE.finditer(text):
        if _edges(text, m.start(), m.end()):
            found.append(Finding("STREET_ADDRESS", m.start(), m.end(), 0.7))
    yield from found


NOT_STREET = frozenset(
    """version release order invoice ticket case room page chapter section
step item table figure model build sprint week day year""".split()
)
