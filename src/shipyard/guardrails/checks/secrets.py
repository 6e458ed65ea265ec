"""``secrets``: credentials in text — well-known token formats (by prefix and shape), private
keys, JWTs, passwords in assignments or URLs, and long high-entropy tokens.

Each format has a literal hint (``ghp_``, ``AKIA``, ``-----BEGIN``...): its pattern runs only
when the hint is in the text, so a clean text costs a few substring searches.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections import Counter
from collections.abc import Iterator

import orjson
from pydantic import BaseModel, ConfigDict, Field

from shipyard.guardrails.checks.base import CHECKS, Check, Finding, ScanContext, dedupe
from shipyard.guardrails.checks.shortcuts import Literals


class SecretsOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entropy: bool = Field(default=True, description="also report high-entropy tokens")
    min_score: float = Field(default=0.5, ge=0, le=1)
    allow: list[str] = Field(default_factory=list, description="values never reported")


# (type, hints, pattern, score); the whole match is the secret unless the pattern has a group.
FORMATS: list[tuple[str, tuple[str, ...], re.Pattern[str], float]] = [
    (t, h, re.compile(p), s) for t, h, p, s in (
        ("AWS_ACCESS_KEY", ("AKIA", "ASIA", "ABIA", "ACCA"), r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}", 0.9),
        ("AWS_SECRET_KEY", ("aws", "AWS", "Aws"),
         r"(?i)aws.{0,24}?(?:secret|key|token).{0,24}?[=:\s]['\"]?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])", 0.9),
        ("GITHUB_TOKEN", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), r"gh[pousr]_[A-Za-z0-9]{36,251}", 0.95),
        ("GITHUB_TOKEN", ("github_pat_",), r"github_pat_\w{82}", 0.95),
        ("GITLAB_TOKEN", ("glpat-", "gldt-", "glrt-", "glft-", "glsoat-", "glcbt-", "glptt-"),
         r"gl(?:pat|dt|rt|ft|soat|cbt|ptt)-[\w-]{20,300}(?:\.[0-9a-z]{9})?", 0.95),
        ("SLACK_TOKEN", ("xox",), r"xox[abposre]-(?:\d+-)+[A-Za-z0-9-]{8,}", 0.95),
        ("SLACK_TOKEN", ("xapp-",), r"xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+", 0.95),
        ("SLACK_WEBHOOK", ("hooks.slack.com",),
         r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_]{20,}", 0.95),
        ("STRIPE_KEY", ("sk_", "rk_"), r"[sr]k_(?:live|test|prod)_[A-Za-z0-9]{10,128}", 0.95),
        ("STRIPE_KEY", ("whsec_",), r"whsec_[A-Za-z0-9]{24,}", 0.9),
        ("ANTHROPIC_KEY", ("sk-ant-",), r"sk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{80,100}", 0.97),
        ("OPENAI_KEY", ("T3BlbkFJ",), r"sk-(?:[a-z]+-)?[A-Za-z0-9_-]{16,}T3BlbkFJ[A-Za-z0-9_-]{16,}", 0.97),
        ("API_KEY", ("sk-",), r"sk-(?:[a-z]+-)?[A-Za-z0-9_-]{32,}", 0.8),
        ("GOOGLE_API_KEY", ("AIza",), r"AIza[0-9A-Za-z_-]{35}", 0.95),
        ("GOOGLE_OAUTH_SECRET", ("GOCSPX-",), r"GOCSPX-[0-9A-Za-z_-]{28}", 0.95),
        ("GOOGLE_OAUTH_TOKEN", ("ya29.",), r"ya29\.[0-9A-Za-z_-]{20,}", 0.9),
        ("TWILIO_KEY", ("SK",), r"SK[0-9a-f]{32}", 0.7),
        ("SENDGRID_KEY", ("SG.",), r"SG\.[\w-]{22}\.[\w-]{43}", 0.95),
        ("NPM_TOKEN", ("npm_",), r"npm_[A-Za-z0-9]{36}", 0.95),
        ("PYPI_TOKEN", ("pypi-",), r"pypi-AgE[A-Za-z0-9_-]{50,}", 0.97),
        ("HUGGINGFACE_TOKEN", ("hf_",), r"hf_[A-Za-z]{34}", 0.9),
        ("AZURE_STORAGE_KEY", ("AccountKey=",), r"AccountKey=([A-Za-z0-9+/]{86}==)", 0.95),
        ("AZURE_CLIENT_SECRET", ("Q~",), r"[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}", 0.85),
        ("DIGITALOCEAN_TOKEN", ("_v1_",), r"do[por]_v1_[a-f0-9]{64}", 0.95),
        ("SHOPIFY_TOKEN", ("shp",), r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}", 0.95),
        ("MAILGUN_KEY", ("key-",), r"key-[0-9a-f]{32}", 0.8),
        ("DISCORD_TOKEN", (".",), r"[MNO][\w-]{23,27}\.[\w-]{6}\.[\w-]{27,38}", 0.8),
        ("TELEGRAM_TOKEN", (":AA",), r"\d{8,10}:AA[\w-]{33}", 0.9),
        ("SQUARE_TOKEN", ("sq0",), r"sq0(?:atp|csp)-[\w-]{22,43}", 0.95),
        ("HEROKU_KEY", ("HRKU-",), r"HRKU-AA[\w-]{58}", 0.95),
        ("PRIVATE_KEY", ("PRIVATE KEY",),
         r"-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]{0,8000}?-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----)?", 0.99),
        ("PRIVATE_KEY", ("PuTTY-User-Key-File",), r"PuTTY-User-Key-File-\d: [^\n]+", 0.95),
        ("URL_PASSWORD", ("://",), r"[a-z][a-z0-9+.-]{1,15}://[^\s:/@'\"]{1,64}:([^\s:/@'\"]{3,128})@[\w.-]+", 0.85),
        # SQL: CREATE USER ... IDENTIFIED BY '...', ALTER ROLE ... PASSWORD '...'
        ("PASSWORD", ("IDENTIFIED", "identified", "PASSWORD", "password"),
         r"(?i)\b(?:identified\s+by|password)\s+'([^'\s]{4,128})'", 0.8),
        # curl -u user:password
        ("PASSWORD", (" -u ", "--user"), r"(?:\s-u\s+|--user[= ])['\"]?[^\s:'\"]{1,64}:([^\s'\"]{4,128})", 0.8),
        ("PASSWORD", ("ass", "ASS", "wd", "pin", "PIN", "Pin", "ogin", "OGIN"),
         r"(?i)\b(?:password|passphrase|passcode|pin|login)\s+(?:is|was|=|:)\s*:?\s*['\"]?([^\s'\",;]{4,64})", 0.8),
        ("PASSWORD", (" -p", "--password"), r"(?:\s-p\s+|\s-p(?=['\"])|--password[= ])['\"]?([^\s'\"]{4,128})", 0.8),
    )
]  # fmt: skip
HINTS = Literals(h for _, hints, _, _ in FORMATS for h in hints)  # found in one pass
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
TOKEN = re.compile(r"[A-Za-z0-9+/_=-]{20,}")
HEX = re.compile(r"[0-9a-fA-F]+")
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
KEYWORD = re.compile(r"(?i)(?:secret|token|key|passw|pwd|credential|auth|bearer|api)")
ASSIGNED = re.compile(
    r"(?i)(?:secret|token|key|passw\w*|pwd|credential|auth)\w*['\"]?\s*[:=]\s*['\"]?$"
)
PLACEHOLDER = re.compile(
    r"(?i)(?:x{6,}|\*{4,}|<[^>]*>|\$\{[^}]*\}|^\$[a-z_]\w*$|\[redacted\]|example|your[_-]|placeholder|"
    r"dummy|changeme)"
)


def entropy(s: str) -> float:
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


CODE_REFERENCE = re.compile(
    r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+(?:\(\))?|[\w-]+(?:\.[\w-]+)*\.(?:json|ya?ml|toml|ini|env|txt|js|ts|py|cfg|conf)"
)


# A credential assigned to a key: "password = ...", "PGPASSWORD=...", "adminPassword: ...",
# "api_key = ...", "NEXUS_PASS = ...". Found from where a key word occurs (substring search), then
# checked: the regex alone, tried at every position of every text, was the slowest check here.
KEY_WORDS = ("pass", "pwd", "pw", "secret", "key", "token")
ASSIGNED_VALUE = re.compile(
    r"(?i)(?:password|passwd|passcode|passphrase|pass|pwd|pw|secret|key|token)\b['\"]?[ \t]*"
    r"(?:[:=]|=>)[ \t]*['\"]?([^\s'\",;]{6,128})"
)
KEY_PREFIX = re.compile(r"(?i)(?:api|access|private)[_-]?$")
TOKEN_PREFIX = re.compile(r"(?i)(?:access|auth)[_-]?$")


def _assignments(text: str) -> Iterator[re.Match[str]]:
    low = text.lower()
    if len(low) != len(text):
        low = text  # offsets must hold; the regex is case-blind anyway
    seen: set[int] = set()
    for word in KEY_WORDS:
        at = low.find(word)
        while at >= 0:
            if at not in seen:
                seen.add(at)
                m = ASSIGNED_VALUE.match(text, at)
                if m is not None and _key_ok(low, at, m):
                    yield m
            at = low.find(word, at + 1)


def _key_ok(low: str, at: int, m: re.Match[str]) -> bool:
    """Whether the key word at ``at`` ends a key that names a credential."""
    key = m.group().split("=")[0].split(":")[0].strip(" \t'\"").lower()
    before = low[max(0, at - 8) : at]
    boundary = not before or not before[-1].isalnum()
    if key.startswith(("password", "passwd", "passcode", "passphrase", "secret")):
        return True  # also at the end of a compound name: PGPASSWORD, adminPassword
    if key == "key":
        return KEY_PREFIX.search(before) is not None  # api_key, access-key, privatekey
    if key == "token":
        return boundary or before[-1] in "_.-" or TOKEN_PREFIX.search(before) is not None
    return boundary or before[-1] in "_.-"  # pass, pwd, pw: NEXUS_PASS, db.pwd


def _identifier(value: str) -> bool:
    """A name rather than a value: letters only under 12 characters ('mapsKey'), a dotted
    reference in code ('process.env.OPENAI_KEY', 'EXCLUDED.api_key') or a file name."""
    return (
        (value.isalpha() and len(value) < 12)
        or bool(
            CODE_REFERENCE.fullmatch(value) and not any(c.isdigit() for c in value.split(".")[-1])
        )
        or value.endswith(":")
    )


def _jwt(text: str) -> Iterator[Finding]:
    if "eyJ" not in text:
        return
    for m in JWT.finditer(text):
        head = m.group().split(".")[0]
        try:
            header = orjson.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
        except (binascii.Error, ValueError, orjson.JSONDecodeError):
            continue
        if isinstance(header, dict) and ("alg" in header or "typ" in header):
            yield Finding("JWT", m.start(), m.end(), 0.9)


def _is_iban(s: str) -> bool:
    from shipyard.guardrails.checks.pii import IBAN_LENGTHS, iban_valid

    return IBAN_LENGTHS.get(s[:2].upper()) == len(s) and iban_valid(s.upper())


def _encoded_text(s: str) -> bool:
    try:
        raw = base64.b64decode(s + "=" * (-len(s) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    plain = raw.decode("ascii", "ignore")
    return len(plain) == len(raw) and " " in plain and all(c.isprintable() for c in plain)


PARTS = re.compile(r"[-_/+.:]")


def _wordy(s: str) -> bool:
    """Words and numbers joined by separators ('sentence-transformers/all-MiniLM-L6-v2',
    'GitHub-Hookshot/5a1c9e0'), not a random string: most characters are in parts of three or
    more letters, or of digits alone."""
    parts = PARTS.split(s)
    if len(parts) < 2:
        return False
    plain = sum(len(p) for p in parts if (p.isalpha() and len(p) >= 3) or p.isdigit())
    return plain >= 0.6 * sum(len(p) for p in parts)


def _high_entropy(text: str) -> Iterator[Finding]:
    for m in TOKEN.finditer(text):
        s, start = m.group().strip("="), m.start()
        if "=" in s:  # NAME=value: only the value can be the secret
            cut = s.index("=") + 1
            s, start = s[cut:].strip("="), start + cut
        if len(s) < 20 or s.isalpha() or s.isdigit() or UUID.fullmatch(s) or _wordy(s):
            continue
        before = text[max(0, m.start() - 40) : m.start()]
        if before.endswith(("base64,", "sha256-", "sha512-", "sha384-")) or (
            "/" in s.strip("/")[1:-1] and s.count("/") > 2
        ):
            continue  # data URIs, integrity hashes, paths
        cued = KEYWORD.search(before) is not None
        if _encoded_text(s) or _is_iban(s):
            continue  # base64 of plain words, or a bank account number (PII, not a secret)
        if HEX.fullmatch(s):
            assigned = ASSIGNED.search(text[max(0, m.start() - 24) : m.start()]) is not None
            if assigned and entropy(s) > 3.0:  # hashes and commit ids only as a key's value
                yield Finding("HIGH_ENTROPY_TOKEN", start, start + len(s), 0.7)
            continue
        if not any(c.isdigit() for c in s) or not any(c.isupper() for c in s):
            continue
        limit = 4.0 if len(s) >= 32 else 3.7
        if entropy(s) > limit - (0.3 if cued else 0.0):
            yield Finding("HIGH_ENTROPY_TOKEN", start, start + len(s), 0.75 if cued else 0.6)


@CHECKS.register
class Secrets(Check):
    name = "secrets"
    Options = SecretsOptions
    redacts = True

    def scan(self, text: str, ctx: ScanContext) -> list[Finding]:
        opts = self.options
        assert isinstance(opts, SecretsOptions)
        found: list[Finding] = []
        held = HINTS.positions(text)
        for kind, hints, pattern, score in FORMATS:
            if not any(h in held for h in hints):
                continue
            for m in pattern.finditer(text):
                start, end = (m.start(1), m.end(1)) if pattern.groups else (m.start(), m.end())
                value = text[start:end]
                if PLACEHOLDER.search(value) or (kind == "PASSWORD" and _identifier(value)):
                    continue
                found.append(Finding(kind, start, end, score + 0.001))  # formats beat entropy
        for m in _assignments(text):
            value = m.group(1)
            if not (PLACEHOLDER.search(value) or _identifier(value)):
                found.append(Finding("PASSWORD", m.start(1), m.end(1), 0.801))
        found.extend(_jwt(text))
        if opts.entropy:
            found.extend(_high_entropy(text))
        found = [f for f in found if f.score >= opts.min_score]
        if opts.allow:
            found = [f for f in found if text[f.start : f.end] not in set(opts.allow)]
        return dedupe(found)
