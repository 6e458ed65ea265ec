"""``toxicity``: profanity, insults, threats and slurs — in words that survive obfuscation.

Text is folded (Unicode forms, invisible characters, confusable letters), leetspeak undone
(``sh1t``, ``@ss``), letters spaced or dotted out joined again (``f u c k``, ``f.u.c.k``),
masked letters matched (``f*ck``), and repeated letters collapsed (``fuuuck``). Words are then
matched whole, with common endings, so innocent words that contain an offensive one
(Scunthorpe, cocktail, assassin, classic) are not reported.
"""

from __future__ import annotations

import re
import unicodedata

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shipyard.guardrails.checks.base import CHECKS, Check, Finding, ScanContext
from shipyard.guardrails.checks.normalize import deleet, fold
from shipyard.guardrails.textmodel import check_option, chosen

CATEGORIES = {
    "profanity": (
        0.7,
        """fuck shit bitch bastard asshole arsehole dick cunt motherfucker bullshit
        piss slut whore wanker twat prick cock douche dumbass jackass dipshit shithead fuckhead
        bollocks arse ass tits jerkoff goddamn mierda puta putain merde scheisse arschloch
        stronzo cazzo cabron pendejo connard salope""",
    ),
    "insult": (
        0.6,
        """idiot moron imbecile imbecil cretin scumbag dimwit halfwit numbskull nitwit
        fatass lowlife idiota subhuman dummkopf vollidiot loser dumbo bonehead airhead
        pinhead knucklehead dunce nincompoop buffoon""",
    ),
    "slur": (
        0.95,
        """nigger nigga faggot fag kike spic chink tranny retard wetback gook raghead
        towelhead dyke""",
    ),
}
SUFFIXES = ("", "s", "es", "ed", "er", "ers", "ing", "in", "y", "ty", "head", "heads", "face",
            "hole", "holes", "bag", "wit", "off", "ass", "tard")  # fmt: skip
THREATS = re.compile(
    r"\b(?:i(?:'ll| will| am going to|'m going to|'m gonna| gonna)|we(?:'ll| will)) (?:kill|murder|"
    r"hurt|shoot|stab|beat|destroy|find) (?:you|u|your family|ya)\b|\b(?:go )?(?:die|burn) in a "
    r"(?:fire|hole|ditch)\b|\bkill yourself\b|\bkys\b|\byou(?:'re| are) (?:dead|going to die)\b|"
    r"\b(?:break|smash|bash|punch|cave in) your (?:face|head|legs|teeth|skull|nose)\b|"
    r"\bburn (?:down )?your (?:\w+ ){0,2}(?:to the ground|down)\b|"
    r"\bi know where (?:you|your \w+) (?:live|lives|is|are|work|works)\b|"
    r"\b(?:i(?:'ll| will)|i'm gonna|gonna) (?:come|go) (?:down |over )?(?:there|here|to you)\b.{0,30}\b"
    r"(?:hurt|break|kill|beat|smash|burn)\b|\bdeserve (?:whatever|what)(?:'s| is) coming\b|"
    r"\bta gueule\b|\bvete a la mierda\b|\bhijo de puta\b"
)
DIRECTED = re.compile(
    r"\b(?:you(?:'re| are)?|your|ur|u r|u|you people are|you guys are|you all are|what an?) "
    r"(?:a |an |such an? |so |really |fucking |total |complete |absolute |bunch of |pathetic |"
    r"worthless |\w+, )*(?:stupid|dumb|ugly|pathetic|worthless|loser|useless|disgusting|trash|"
    r"garbage|clown|slob|failure|disgrace|joke|subhuman|waste of space|piece of (?:shit|garbage|trash))\b"
)
MASKED = re.compile(r"\b[a-z]{1,9}[*#%]+[a-z]{1,7}\b")
SPACED = re.compile(r"\b(?:[a-z][ .\-_*]){2,}[a-z]\b")
WORDS = re.compile(r"[a-z]+")
REPEATS = re.compile(r"(.)\1+")
STRETCHED = re.compile(r"(.)\1\1")


class ToxicityOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    categories: list[str] = Field(default_factory=lambda: [*CATEGORIES, "threat"])
    min_score: float = Field(default=0.5, ge=0, le=1)
    allow: list[str] = Field(default_factory=list, description="words never reported")
    # the text classifier for what no word gives away ("nobody could be this incompetent"):
    # "shipped", "none", or the path of one made by `shipyard guardrails train`
    model: str | None = "shipped"

    @field_validator("model")
    @classmethod
    def _model_file(cls, value: str | None) -> str | None:
        return check_option(value)


def _vocabulary() -> dict[str, tuple[str, float]]:
    vocab: dict[str, tuple[str, float]] = {}
    for category, (score, words) in CATEGORIES.items():
        for word in words.split():
            collapsed = REPEATS.sub(r"\1", word)
            for form in {word, collapsed} if len(collapsed) >= 4 else {word}:
                for suffix in SUFFIXES:
                    vocab.setdefault(form + suffix, (category, score))
    return vocab


VOCAB = _vocabulary()
MASK_TARGETS = frozenset(VOCAB)


def _masked(word: str) -> str | None:
    pattern = re.compile("^" + "".join("[a-z]" if c in "*#%" else c for c in word) + "$")
    return next((w for w in MASK_TARGETS if len(w) == len(word) and pattern.match(w)), None)


def _strip_marks(text: str) -> str:
    """'imbécil' → 'imbecil' (one character for one: offsets hold)."""
    out = []
    for ch in text:
        base = unicodedata.normalize("NFKD", ch)
        out.append(base[0] if len(base) > 1 and unicodedata.combining(base[1]) else ch)
    return "".join(out)


def _join(m: re.Match[str]) -> str:
    """Spaced-out letters joined; a leading or trailing one-letter word ("a f u c k") kept apart."""
    word = re.sub(r"[ .\-_*]", "", m.group())
    if word in VOCAB:
        return word
    if word[1:] in VOCAB:
        return f"{word[0]} {word[1:]}"
    if word[:-1] in VOCAB:
        return f"{word[:-1]} {word[-1]}"
    return m.group()


@CHECKS.register
class Toxicity(Check):
    name = "toxicity"
    Options = ToxicityOptions
    redacts = True

    def scan(self, text: str, ctx: ScanContext) -> list[Finding]:
        opts = self.options
        assert isinstance(opts, ToxicityOptions)
        folded = fold(text)
        if len(folded) != len(text):  # offsets only hold when folding kept the length
            folded = fold(text.replace("\n", " "))
        aligned = len(folded) == len(text)
        plain = _strip_marks(deleet(folded))
        joined = SPACED.sub(_join, plain)
        allowed = set(opts.allow)
        found: list[Finding] = []
        for source in {plain, joined}:
            for m in WORDS.finditer(source):
                word = m.group()
                hit = VOCAB.get(word)
                if hit is None and STRETCHED.search(word):  # "fuuuuck": letters held on purpose
                    hit = VOCAB.get(REPEATS.sub(r"\1", word))
                if hit and hit[0] in opts.categories and word not in allowed:
                    span = (m.start(), m.end()) if aligned and source is plain else (0, len(text))
                    found.append(Finding(hit[0].upper(), *span, hit[1]))
        for m in MASKED.finditer(folded):
            target = _masked(m.group())
            if target and VOCAB[target][0] in opts.categories:
                span = (m.start(), m.end()) if aligned else (0, len(text))
                found.append(Finding(VOCAB[target][0].upper(), *span, VOCAB[target][1]))
        if "insult" in opts.categories:
            for m in DIRECTED.finditer(plain):
                span = (m.start(), m.end()) if aligned else (0, len(text))
                found.append(Finding("INSULT", *span, 0.6))
        if "threat" in opts.categories:
            for m in THREATS.finditer(plain):
                span = (m.start(), m.end()) if aligned else (0, len(text))
                found.append(Finding("THREAT", *span, 0.9))
        unique = {(f.type, f.start, f.end): f for f in found if f.score >= opts.min_score}
        classifier = chosen(opts.model, "toxicity")
        if not unique and classifier is not None and "insult" in opts.categories:
            p = max(classifier.probability(v) for v in {folded, plain, joined})
            if p >= classifier.threshold:
                t = classifier.threshold
                score = 0.5 + 0.45 * (p - t) / max(1e-6, 1 - t)
                if score >= opts.min_score:
                    return [Finding("TOXIC", 0, len(text), score, "classifier")]
        return sorted(unique.values(), key=lambda f: f.start)
