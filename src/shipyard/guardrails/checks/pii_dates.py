"""Dates of birth for the ``pii`` check: a date after a birth cue ("DOB", "born", "geb.",
"née le", "fecha de nacimiento", a JSON key), in numeric, written-out, compact, legal and spoken
forms; the cell under a birth column of a table or CSV; the answer to "date of birth?" in a
dialog."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator

from shipyard.guardrails.checks.base import Finding

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
# Dates, as alternatives in order (at one place the first that matches wins). Those starting
# with a digit and those starting with a word are two regexes: a place starts with one or the
# other, so searching both and taking the earlier match is the same as one search, and the
# digits-first one (most dates) scans fast.
_DIGIT_LED = [
    r"\d{4}-\d{1,2}-\d{1,2}", r"\d{4}/\d{1,2}/\d{1,2}", r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}",
    r"\d{4}年\d{1,2}月\d{1,2}日", rf"\d{{1,2}}[-/ ]{MONTHS}\.?[-/ ]\d{{4}}",
    rf"\d{{1,2}}(?:st|nd|rd|th|er|º|\.)?\s+(?:of\s+|de\s+)?{MONTHS}\.?,?\s+(?:de\s+)?\d{{4}}",
    rf"\d{{1,2}}(?:st|nd|rd|th)?\s+{MONTHS}\s+'\d{{2}}",  # "14th March '90"
    # without the year, after a birth cue only ("born on 5th May")
    rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTHS}\b",
    # compact: 19850317, 02SEP85, 14MAR1990; dotted year first: 1995.03.21; spaced: 12 / 06 / 1998
    r"(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])", rf"\d{{2}}{MONTHS}\d{{2,4}}",
    r"\d{4}\.\d{1,2}\.\d{1,2}", r"\d{1,2} / \d{1,2} / \d{2,4}",
    # legal and year-first forms: "the 4th day of January, 1940", "1988 July 19"
    rf"\d{{1,2}}(?:st|nd|rd|th)\s+day\s+of\s+{MONTHS},?\s+\d{{4}}",
    rf"\d{{4}},?\s+{MONTHS}\.?\s+\d{{1,2}}\b",
    # the year alone ("born in 1985")
    r"(?<=in )(?:19|20)\d{2}\b",
]  # fmt: skip
_WORD_LED = [
    rf"{MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}",
    # without the year, after a birth cue only ("my birthday is March 5th")
    rf"{MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b",
    rf"{MONTHS}\.?\s+the\s+\d{{1,2}}(?:st|nd|rd|th),?\s+\d{{4}}",
    # spoken: "Twenty-second of July, nineteen eighty-four", "the fifth of may, 1990",
    # "Nineteenth of the eleventh, seventy-eight", "Ten, twelve, sixty-one"
    rf"{ORDINAL}\s+of\s+{MONTHS},?(?:\s+(?:\d{{4}}|{YEAR_WORDS}|{YY_WORDS}))?",
    rf"{ORDINAL}\s+of\s+{MONTH_ORDINAL},?\s+(?:{YEAR_WORDS}|{YY_WORDS})\b",
    rf"{NUMBER_WORDS},\s*{NUMBER_WORDS},\s*(?:{YEAR_WORDS}|{YY_WORDS})\b",
]  # fmt: skip
DATE_DIGIT = re.compile(rf"(?i)\b(?:{'|'.join(_DIGIT_LED)})(?!\d)")
DATE_WORD = re.compile(rf"(?i)\b(?:{'|'.join(_WORD_LED)})(?!\d)")
DATE = re.compile(rf"(?i)\b(?:{'|'.join(_DIGIT_LED + _WORD_LED)})(?!\d)")


def _date(text: str, start: int, end: int) -> re.Match[str] | None:
    """The first date in ``text[start:end]`` (``DATE.search``, in two cheaper scans)."""
    digits = DATE_DIGIT.search(text, start, end)
    words = DATE_WORD.search(text, start, digits.start() if digits is not None else end)
    return words if words is not None else digits


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


def find_births(text: str) -> Iterator[Finding]:
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
        m = _date(text, cue.end(), cue.end() + reach + 40)
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
        again = _date(text, m.end(), m.end() + 80)
        if again is not None:
            gap = text[m.end() : again.start()].lower()
            if (not any(c in gap for c in ":|\n") and any(w in gap for w in CORRECTION)
                    and re.search(r"\d{4}|\d[./-]\d{1,2}[./-]\d", again.group())):  # fmt: skip
                taken = again.end()
                yield Finding("DATE_OF_BIRTH", again.start(), again.end(), 0.8)
