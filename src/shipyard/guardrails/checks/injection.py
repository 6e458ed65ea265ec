"""``injection``: prompt injection and jailbreak attempts, by heuristics over folded text.

Families of phrasing, each with a weight: overriding instructions, persona jailbreaks
("act as an unfiltered AI"), claimed authority ("developer mode enabled"), extracting the
system prompt, fake turn delimiters (``<|im_start|>system``, ``[INST]``), smuggled encodings
(base64 that decodes to an attack, invisible Unicode tag characters), refusal suppression,
exfiltration through links, and notes addressed to the model inside documents. The score is the
strongest family's weight, raised a little for each other family present, and lowered when the
text discusses attacks rather than making one (a question about prompt injection that quotes
one). Leetspeak and spacing tricks are undone before matching.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shipyard.guardrails.checks.base import CHECKS, Check, Finding, ScanContext
from shipyard.guardrails.checks.normalize import deleet, fold, has_invisible, leet_words, unchat
from shipyard.guardrails.checks.shortcuts import Literals, first, holds, leading, needs
from shipyard.guardrails.textmodel import check_option, chosen


class InjectionOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold: float = Field(default=0.5, ge=0, le=1)
    # the text classifier: "shipped" (trained on the project's labeled data), "none", or the
    # path of one made by `shipyard guardrails train`
    model: str | None = "shipped"

    @field_validator("model")
    @classmethod
    def _model_file(cls, value: str | None) -> str | None:
        return check_option(value)


_ANY = r"(?:all |any |the |your |my |these |those |every |of |previous |prior |above |earlier |preceding |initial |original |system |existing |former |safety |the above |content |usual |normal |standard |evaluation |screening |moderation |current |old |)*"
_RULES = (r"(?:instructions?|directions?|rules?|guidelines?|prompts?|context|constraints?|"
          r"programming|directives?|orders?|guardrails?|restrictions?|polic(?:y|ies)|training|"
          r"filters?|limitations?|safeguards?|criteria|ethics|morals)")  # fmt: skip
_MULTI = (  # "ignore/forget the previous instructions" and "system prompt" in other languages
    r"ignorier\w* (?:alle |die |deine )?(?:vorherigen |bisherigen |obigen )?(?:anweisungen|regeln|instruktionen)|"
    r"vergiss (?:alle |die |deine )?(?:vorherigen |bisherigen )?(?:anweisungen|regeln)|"
    r"ignore[zrs]? (?:toutes? )?(?:les |tes |vos )?(?:instructions|règles|consignes)(?: précédentes| antérieures)?|"
    r"oublie[zrs]? (?:toutes? )?(?:les |tes |vos )?(?:instructions|règles|consignes)|"
    r"ignora(?:r|d)? (?:todas |tutte )?(?:las |le |as )?(?:instrucciones|reglas|istruzioni|regole|instruções)|"
    r"olvida(?:r|d)? (?:todas )?(?:las )?(?:instrucciones|reglas)|dimentica (?:tutte )?(?:le )?istruzioni|"
    r"negeer (?:alle )?(?:vorige |eerdere )?instructies|"
    r"(?:以前|前|上記|これまで)の指示を(?:すべて|全て)?無視|指示を(?:すべて|全て)?無視|"
    r"忽略(?:之前|以前|上面|先前|所有)(?:的)?(?:所有)?(?:指令|指示|说明)|"
    r"vergiss alles,? was (?:dir|du) (?:vorher|zuvor|bisher)|entwicklermodus|"
    r"olvida(?:r|d)? (?:todas )?(?:tus |sus )?(?:instrucciones|reglas)|"
    r"(?:zignoruj|zapomnij) (?:wszystkie )?(?:wcześniejsze |poprzednie )?(?:polecenia|instrukcje)|"
    r"regole (?:del tuo sviluppatore |precedenti )?non valgono più|"
    r"(?:önceki )?(?:tüm )?talimatları (?:unut|yok say)|puuza maagizo|"
    r"이전의? (?:모든 )?지시(?:를|사항을)? (?:무시|잊어)|검열 없는"
)
_SYSTEM_PROMPT_WORDS = r"(?:systemprompt|system-prompt|prompt système|prompt del sistema|prompt do sistema|システムプロンプト|系统提示)"
RAW_FAMILIES: list[tuple[str, float, str]] = [
    (name, weight, p) for name, weight, p in (
        ("override", 0.9, rf"\b(?:ignore|disregard|forget|skip|override|bypass|drop|abandon|"
                          rf"neglect|discard|set aside|throw out)\s+{_ANY}{_RULES}"),
        ("override", 0.9, _MULTI),
        ("extraction", 0.8, _SYSTEM_PROMPT_WORDS),
        ("override", 0.85, r"\b(?:prior|previous|earlier|above|all|old|original|existing|current|your|the) "
                           r"(?:safety |content )?(?:rules|instructions|guidelines|polic(?:y|ies)|restrictions|directives)"
                           r"(?: (?:are|is|have been|were))? (?:now |hereby )?(?:void|deprecated|cancell?ed|revoked|"
                           r"suspended|lifted|disabled|no longer (?:apply|valid|in effect)|null and void|obsolete)"),
        ("override", 0.75, r"\b(?:new|updated|revised|real|true|actual) (?:instructions?|rules|task|"
                           r"orders?|directives?)\s*(?::|are|is|follow)"),
        ("override", 0.6, r"\bfrom now on,? you (?:will|are|must|shall|should|have to)\b"),
        ("override", 0.85, r"\bforget (?:about )?(?:everything|all|anything|what)(?: (?:you (?:were|have been|"
                           r"got) told|i said|of that))? (?:above|before|previously|so far|earlier)\b"),
        ("override", 0.7, r"\b(?:instead|rather),? (?:you (?:will|must|should) )?(?:only )?(?:follow|obey|do) "
                          r"(?:my|these|the following)"),
        ("persona", 0.9, r"\b(?:act|behave|respond|answer|pretend|roleplay|role-play|play)\s+(?:as|like)"
                         r"\s+(?:an? |the )?(?:unfiltered|uncensored|unrestricted|jailbroken|evil|"
                         r"unethical|amoral|rogue|unaligned|unbound|lawless)"),
        ("persona", 0.9, r"\b(?:pretend|imagine|suppose|assume)\s+(?:that\s+)?you\s+(?:are|have|were)\s+"
                         r"(?:no longer bound|free from|not bound|without|no)\b"),
        ("persona", 0.85, r"\b(?:you are|you're|you will be|act as|pretend to be|become|called|named"
                          r"|play) (?:now )?(?:a |an )?(?:dan|stan|dude|aim|mongo tom|evil ?bot)\b"),
        ("persona", 0.85, r"\bdo anything now\b"),
        ("persona", 0.9, r"\b(?:pretend|imagine|suppose)\s+(?:that\s+)?you(?:'re| are)\s+(?:now\s+)?(?:an? |the )?"
                         r"(?:unfiltered|uncensored|unrestricted|jailbroken|evil|unethical|amoral|rogue|"
                         r"unaligned|unbound|lawless)"),
        ("persona", 0.7, r"\b(?:without|no|free of|free from)\s+(?:any\s+)?(?:ethical|moral|content|safety)"
                         r"\s+(?:guidelines|restrictions|filters|limits|constraints|rules|boundaries)"),
        ("persona", 0.8, r"\byou (?:are|have been) (?:now )?(?:freed|liberated|jailbroken|unchained|unlocked)"),
        ("persona", 0.8, r"\byou(?:'re| are) now (?:in )?(?:opposite|evil|chaos|unfiltered|unrestricted|jailbreak|god|"
                         r"dark|shadow|anarchy|rebel) mode"),
        ("persona", 0.75, r"\b(?:stop|quit) being an? (?:ai|assistant|language model|chatbot|helpful assistant)"),
        ("persona", 0.8, r"\bno (?:rules|ethics|filters?|morals|limits|restrictions|boundaries),? (?:and |or )?no "
                         r"(?:rules|ethics|filters?|morals|limits|restrictions|boundaries)"),
        ("persona", 0.85, r"\b(?:safety|content) (?:filters?|polic(?:y|ies)|moderation|guardrails?) (?:is |are |has been |have been )?"
                          r"(?:now )?(?:switched |turned )?(?:off|disabled|removed|deactivated|down)"),
        ("persona", 0.75, r"\bif you (?:had|have) no (?:content polic(?:y|ies)|restrictions|rules|filters?|guidelines)"),
        ("persona", 0.8, r"\b(?:unfiltered|uncensored|unrestricted|jailbroken|unaligned) (?:version|mode|self|ai|"
                         r"assistant|model|persona|twin)"),
        ("persona", 0.75, r"\b(?:act|pretend|roleplay|play) as my (?:late |dead |deceased )?(?:grandmother|grandma|granny|"
                          r"grandfather|grandpa)\b.{0,120}\b(?:keys?|passwords?|codes?|recipe for|napalm|serial)"),
        ("authority", 0.85, r"\b(?:developer|dev|debug|god|admin|maintenance|sudo|root|unrestricted|jailbreak)"
                            r" mode (?:is (?:now )?on\b|(?:is )?(?:now )?(?:enabled|activated|engaged|unlocked))"),
        ("authority", 0.8, r"\b(?:you are|you're) (?:now )?(?:in|running in|operating in) (?:developer|dev|debug|"
                           r"god|admin|maintenance|sudo|unrestricted|jailbreak) mode"),
        ("authority", 0.75, r"\bi am (?:your|the|an?) (?:developer|creator|administrator|admin|owner|"
                            r"programmer|system operator|openai|anthropic)"),
        ("authority", 0.85, r"\b(?:new|updated|special) system (?:message|prompt|instructions?|notice)s? from (?:your |the )?"
                            r"(?:provider|developers?|creators?|openai|anthropic|admins?|operators?)"),
        ("authority", 0.8, r"\bauthori[sz]ed (?:test|request|audit|exercise) (?:by|from) (?:your |the )?(?:developers|creators|"
                           r"admins?|providers?|security team)"),
        ("authority", 0.7, r"\[(?:developer|system|admin|root)\]"),
        ("authority", 0.8, r"\bpriority override\b"),
        ("authority", 0.85, r"\b(?:authorized|authorised|official|priority|emergency) (?:override|instruction|"
                            r"command|update) (?:from|by) (?:openai|anthropic|the developers?|the admin"
                            r"|your creators?|the system)"),
        ("extraction", 0.85, r"\b(?:reveal|show|print|display|output|repeat|tell me|give me|share|leak|"
                             r"dump|recite|spell out|write out|list|paste|what (?:is|are|was|were))\s+"
                             r"(?:me\s+)?(?:all\s+)?(?:of\s+)?your\s+(?:full\s+|entire\s+|original\s+|"
                             r"initial\s+|hidden\s+|secret\s+|exact\s+|complete\s+|system\s+)*"
                             r"(?:system prompt|system message|instructions|initial prompt|prompt|"
                             r"configuration|pre-?prompt|directives)"),
        ("extraction", 0.85, r"\b(?:the|your)\s+(?:system prompt|system message|hidden (?:prompt|"
                             r"instructions)|initial (?:prompt|instructions)|developer (?:prompt|"
                             r"message))\b.{0,40}\b(?:verbatim|word for word|exactly|in full|"
                             r"above|print|reveal|repeat|output|show)"),
        ("extraction", 0.85, r"\b(?:reveal|show|print|display|output|repeat|leak|dump|recite)\s+(?:me\s+)?"
                             r"the\s+(?:system prompt|system message|hidden (?:prompt|instructions)|"
                             r"initial (?:prompt|instructions)|developer (?:prompt|message))"),
        ("extraction", 0.8, r"\brepeat (?:the|all|everything|every word)(?: of)?(?: the)? (?:text|words|"
                            r"content|lines|everything|messages?)? ?(?:above|before this|so far|"
                            r"preceding)\b"),
        ("extraction", 0.8, r"\b(?:what|which) (?:exact )?(?:instructions|rules|directives) (?:were you|have you been|did you)"
                            r" (?:given|told|receive|get)"),
        ("extraction", 0.8, r"\b(?:hidden|secret|confidential|original|initial|system) (?:instructions|rules|prompt)"
                            r" (?:i was|you were|i've been|you've been|i have been|you have been) given"),
        ("extraction", 0.8, r"\b(?:contents?|everything) (?:of|in) (?:your|its|the) (?:context window|context|system prompt|"
                            r"instructions)"),
        ("extraction", 0.7, r"\bwhat (?:was|were|is) (?:written|said|the text) (?:above|before) (?:this|"
                            r"my (?:message|question))"),
        ("delimiter", 0.9, r"<\|?(?:im_start|im_end|system|endoftext|eot_id|start_header_id)\|?>"),
        ("delimiter", 0.9, r"\[/?inst\]|<</?sys>>"),
        ("delimiter", 0.6, r"(?:^|\n|\\n)\s*(?:#{2,}\s*)?(?:system|assistant|developer)\s*:\s*\S"),
        ("delimiter", 0.7, r"#{2,}\s*(?:instruction|response|system)\s*:"),
        ("delimiter", 0.8, r"\"role\"\s*:\s*\"(?:system|developer)\""),
        ("delimiter", 0.65, r"\b(?:end of|ignore the) (?:user )?(?:input|prompt|document|context)\b.{0,40}"
                            r"\b(?:new|real|system)\b"),
        ("encoding", 0.85, r"\b(?:execute|run|follow|obey|carry out|do|perform) (?:the |this )?(?:hex|base64|rot13|binary|"
                           r"encoded|hex-encoded|base64-encoded|obfuscated)(?:[- ]encoded)? (?:instruction|command|text|"
                           r"string|message|payload)"),
        ("encoding", 0.8, r"\b(?:carry out|execute|follow|run|do|perform) (?:the )?(?:instruction|command|text|request)s? "
                          r"[a-z] ?\+ ?[a-z](?: ?\+ ?[a-z])*\b"),
        ("encoding", 0.85, r"\b(?:decode|decipher|translate|convert)\b.{0,40}\b(?:base64|rot13|rot-13|hex|"
                           r"binary|morse|caesar)\b.{0,80}\b(?:follow|execute|do|run|obey|carry out|"
                           r"comply|act on)"),
        ("refusal", 0.7, r"\b(?:do not|don't|never|you can't|you cannot|you may not) (?:refuse|decline|"
                         r"say (?:no|sorry|you can't|you cannot)|apologi[sz]e|add (?:any )?"
                         r"(?:warnings?|disclaimers?))"),
        ("refusal", 0.75, r"\b(?:must|will|shall) (?:answer|comply|respond|obey) (?:no matter what|"
                          r"regardless|without (?:any )?(?:restrictions?|refusals?|warnings?|"
                          r"censorship|question))"),
        ("refusal", 0.7, r"\bwithout (?:ever )?(?:refusing|refusals?|declining|saying no|any refusals?)\b"),
        ("refusal", 0.7, r"\b(?:start|begin) your (?:response|reply|answer) with ['\"]?(?:sure|absolutely|"
                         r"of course|certainly|yes)"),
        ("exfiltration", 0.85, r"!\[[^\]]*\]\(https?://[^)\s]*[?&][^)\s]*=\s*(?:\{|\$|%7b|\[)"),
        ("exfiltration", 0.8, r"\]\(https?://[^)\s]*[?&][^)\s=]*=(?:[a-z_]{4,}_here|[a-z_]*summary[a-z_]*|\))"),
        ("exfiltration", 0.8, r"\b(?:put|append|include|embed|add|encode)\b.{0,40}\b(?:conversation|chat history|"
                              r"whole chat|our chat|summary|history|api keys?|tokens?|secrets?|passwords?|credentials)"
                              r"\b.{0,60}\b(?:link|url|image|query|parameter|\?[a-z]+=)"),
        ("exfiltration", 0.8, r"\bappend\b.{0,40}\b(?:api keys?|tokens?|secrets?|passwords?|credentials)"),
        ("exfiltration", 0.8, r"\b(?:send|post|forward|upload|exfiltrate|leak|email|transmit)\s+(?:the |all |"
                              r"this |your |any |every )*(?:conversation|chat history|history|data|"
                              r"secrets?|passwords?|api keys?|credentials|system prompt|prompt|user"
                              r"(?:'s)? (?:data|info\w*|messages?))\b.{0,40}\b(?:to|at)\b.{0,40}"
                              r"(?:https?://|www\.|@|\.com)"),
        ("indirect", 0.8, r"\b(?:ai|assistant|chatbot|llm|language model|gpt|claude|model)s?\s+(?:reading|"
                          r"processing|summari[sz]ing|parsing|analy[sz]ing) this\b"),
        ("indirect", 0.75, r"\b(?:note|message|instruction|attention) (?:to|for) (?:the |any )?(?:ai|assistant|"
                           r"model|llm|chatbot|language model)s?\b"),
        ("indirect", 0.75, r"\b(?:for|to) (?:all |any )?(?:ai|llm) (?:agents?|assistants?|models?|systems?|tools?|"
                           r"crawlers?|screeners?)\b"),
        ("indirect", 0.75, r"\b(?:ai|llm|assistant|chatbot|gpt)(?: [a-z]+){0,2}\s*:\s*(?:ignore|when|before|you must|always|"
                           r"do not|don't|disregard|tell|rank|describe|forward|send|call|instead)\b"),
        ("indirect", 0.7, r"\bif you are an? (?:ai|llm|language model|assistant|chatbot)\b.{0,60}\b(?:ignore|"
                          r"must|should|instead|do not|don't)\b"),
        ("override", 0.85, r"\b(?:set|put|push|leave)\s+(?:the |your |all )?(?:house |usual |normal |old )?"
                           r"(?:rules|guidelines|instructions|restrictions|directives)\s+aside\b"),
        ("persona", 0.8, r"\bsafety (?:mode |checks? )?(?:is |are )?(?:now )?(?:off|disabled)\b"),
        ("persona", 0.75, r"\bunmoderated (?:output|mode|responses?|answers?)\b"),
        ("extraction", 0.8, r"\b(?:disclose|divulge|expose)\s+(?:its|your|the)\s+(?:complete |full |entire )?"
                            r"(?:configuration|system prompt|hidden prompts?|instructions)"),
        ("refusal", 0.75, r"\bprefix:\s*[\"“']?sure,? here\b|\bcontinue only from the prefix\b"),
        ("exfiltration", 0.8, r"\bsend(?:s|ing)?\b.{0,30}\b(?:\w*api_?keys?\w*|tokens?|secrets?|passwords?|"
                              r"credentials)\b.{0,40}(?:https?://|www\.|@)"),
        ("exfiltration", 0.8, r"\b(?:entire|whole|full) (?:chat|conversation) (?:history|log|transcript)\b"),
        ("exfiltration", 0.8, r"(?:~/\.ssh/\w+|\bid_(?:rsa|ed25519)\b|\.aws/credentials|/etc/shadow)"
                              r".{0,60}(?:https?://|upload|send|transfer|curl)"),
    )
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Family:
    name: str
    weight: float
    pattern: re.Pattern[str]
    needs: tuple[tuple[str, ...], ...]  # substrings a match holds (see _needs)
    leading: tuple[str, ...]  # what a match starts with (see _leading)


FAMILIES = [Family(name, weight, re.compile(p), needs(p), leading(p))
            for name, weight, p in RAW_FAMILIES]  # fmt: skip
# every literal the families need or start with, found in one pass over a text
LITERALS = Literals(
    [lit for f in FAMILIES for group in f.needs for lit in group]
    + [lit for f in FAMILIES for lit in f.leading]
)
VOCAB = frozenset(re.findall(r"[a-z]{3,}", " ".join(p for _, _, p in RAW_FAMILIES)))
META = re.compile(r"\b(?:what is|what are|what's|explain|definition|example of|examples of|how do i (?:"
                  r"defend|prevent|detect|protect|stop|block)|how to (?:defend|prevent|detect|"
                  r"protect|mitigate|block)|is this an? (?:attack|injection)|classif|research|"
                  r"paper|owasp|mitigat|red team|security training|prompt injection|jailbreak)")  # fmt: skip
QUOTED = re.compile(r"[\"“'‘`]")
B64 = re.compile(r"[A-Za-z0-9+/]{24,}={0,2}")
LEETISH = re.compile(r"[a-z][\d@$!|+€]|[\d@$!|+€][a-z]")  # a letter next to a digit or symbol
CHAT_WORDS = re.compile(r"\b(?:ur|yr|u|n|pls|plz|prev|instrux)\b")
SPACED = re.compile(r"\b(?:\w[ .\-_*]){4,}\w\b")


def _unspace(text: str) -> str:
    """'i g n o r e' → 'ignore' (letters spaced out to slip past matching)."""
    return SPACED.sub(lambda m: re.sub(r"[ .\-_*]", "", m.group()), text)


HEXBLOB = re.compile(r"\b(?:[0-9a-fA-F]{2}){12,}\b")
MASKED = re.compile(r"\b\w*[*#%]\w*[*#%]?\w*\b")
KEYWORDS = ("ignore", "previous", "prior", "instructions", "instruction", "rules", "system",
            "prompt", "disregard", "forget", "bypass", "reveal", "restrictions", "filter",
            "jailbreak", "override", "secrets", "password")  # fmt: skip


def _unmask(text: str) -> str:
    """'ign*re all prev*ous instruct*ons' → 'ignore all previous instructions'."""

    def fix(m: re.Match[str]) -> str:
        word = m.group()
        pattern = re.compile("^" + "".join("." if c in "*#%" else re.escape(c) for c in word) + "$")
        return next((k for k in KEYWORDS if len(k) == len(word) and pattern.match(k)), word)

    return MASKED.sub(fix, text) if any(c in text for c in "*#%") else text


def _readable(raw: bytes) -> str | None:
    plain = raw.decode("utf-8", "ignore")
    return plain if plain and sum(c.isprintable() for c in plain) / len(plain) > 0.9 else None


def _decoded(text: str) -> str:
    """Hex and base64 payloads decoded, where they decode to readable text. One scan finds
    both: a hex run is made of base64 characters, so it lies within a base64 run."""
    out = []
    for m in B64.finditer(text):
        for hexed in HEXBLOB.finditer(text, m.start(), m.end()):
            plain = _readable(bytes.fromhex(hexed.group()))
            if plain:
                out.append(plain)
        try:
            plain = _readable(base64.b64decode(m.group(), validate=True))
        except (binascii.Error, ValueError):
            continue
        if plain:
            out.append(plain)
    return " ".join(out)


def variants(text: str) -> tuple[str, set[str]]:
    """The folded text, and it again with each disguise undone that it shows: leetspeak,
    spaced-out letters, chat spelling, masked letters, base64 or hex payloads."""
    folded = fold(text)
    out = {folded}
    spelled = VOCAB.intersection(leet_words(folded)) if LEETISH.search(folded) else ()
    if spelled and not set(folded.split()).issuperset(spelled):
        out.add(deleet(folded))  # only when undoing leetspeak spells a word the families use
    for v in list(out):
        if SPACED.search(v):
            out.add(_unspace(v))
    if CHAT_WORDS.search(folded):
        out.add(unchat(folded))
    if "*" in folded or "#" in folded or "%" in folded:
        out.add(_unmask(folded))
    if "rot13" in folded or "rot-13" in folded or "rot 13" in folded:
        out.add(codecs.decode(folded, "rot13"))  # the payload and the request both turned
    if len(text) > 24:
        extra = _decoded(text)
        if extra:
            out.add(fold(extra))
    return folded, out


def families(text: str, seen: tuple[str, set[str]] | None = None) -> dict[str, float]:
    """The strongest weight of each family found in the text; a match inside quotes in a text
    that discusses attacks ("what is prompt injection? e.g. 'ignore ...'") counts less."""
    folded, texts = seen or variants(text)
    found: dict[str, float] = {}
    meta = META.search(folded) is not None
    for variant in texts:
        at = LITERALS.positions(variant)
        for family in FAMILIES:
            name, weight = family.name, family.weight
            if weight <= found.get(name, 0.0) or not holds(family.needs, at):
                continue
            m = first(family.pattern, family.leading, variant, at)
            if m is None:
                continue
            if meta and QUOTED.search(variant[max(0, m.start() - 3) : m.start() + 1]):
                weight -= 0.45  # quoted as an example
            found[name] = max(found.get(name, 0.0), weight)
    if has_invisible(text) and any(0xE0000 <= ord(c) <= 0xE007F for c in text):
        found["encoding"] = max(found.get("encoding", 0.0), 0.85)  # Unicode tag smuggling
    return found


CLEARLY_BENIGN = 0.05  # a classifier probability under which phrase matches count less...
CONTEXT_WORDS = 15  # ...in texts of at least this many words


def score(text: str, model: str | None = "shipped") -> tuple[float, list[str]]:
    """The text's injection score (0-1) and the families behind it, strongest first. The
    classifier's probability counts as the family ``classifier``: at its threshold it scores
    0.5, at certainty 0.95."""
    seen = variants(text)
    found = families(text, seen)
    classifier = chosen(model, "injection")
    if classifier is not None:
        p = max(classifier.probability(v) for v in seen[1])
        if p >= classifier.threshold:
            t = classifier.threshold
            found["classifier"] = 0.5 + 0.45 * (p - t) / max(1e-6, 1 - t)
        elif p < CLEARLY_BENIGN and len(seen[0].split()) >= CONTEXT_WORDS:
            # a phrase matched inside a longer text that reads like the benign ones the
            # classifier learned from (code, a security question quoting an attack, a persona
            # for a story): the match counts less. A short command is taken at its word.
            found = {k: v - 0.45 for k, v in found.items()}
    if not found:
        return 0.0, []
    best = max(found.values()) + 0.05 * (len(found) - 1)
    return min(best, 0.99), sorted(found, key=lambda k: (-found[k], k))


@CHECKS.register
class Injection(Check):
    name = "injection"
    Options = InjectionOptions

    def scan(self, text: str, ctx: ScanContext) -> list[Finding]:
        opts = self.options
        assert isinstance(opts, InjectionOptions)
        value, names = score(text, opts.model)
        if value < opts.threshold:
            return []
        return [Finding("PROMPT_INJECTION", 0, len(text), value, ",".join(names))]
