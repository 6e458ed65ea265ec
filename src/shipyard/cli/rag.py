"""``shipyard rag``: ingest files into versioned indexes, search them, evaluate retrieval."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import click
import orjson
from rich.table import Table

from shipyard.cli.common import console, get_client, json_option, print_json, progress_bar
from shipyard.cli.registry import rollback as registry_rollback
from shipyard.core.errors import InvalidInput
from shipyard.rag.embedders import parse_embedder


class _Bar:
    """The ingest reporter: one bar per stage (a spinner-like bar when the size is unknown)."""

    def __init__(self, progress: Any) -> None:
        self.progress = progress
        self.task: Any = None

    def stage(self, description: str, total: int | None) -> None:
        if self.task is not None:
            task = self.progress.tasks[-1]
            self.progress.update(self.task, total=task.total or 1, completed=task.total or 1)
        self.task = self.progress.add_task(description, total=total)

    def advance(self, n: int = 1) -> None:
        if self.task is not None:
            self.progress.advance(self.task, n)

    def done(self) -> None:
        self.stage("done", 1)
        self.progress.update(self.task, completed=1)


def _filters(items: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInput(f"--filter {item!r}: use KEY=VALUE (repeat for more)")
        out.setdefault(key, []).append(value)
    return {k: v[0] if len(v) == 1 else v for k, v in out.items()}


@click.group("rag")
def command() -> None:
    """Indexes for retrieval: ingest files, search, evaluate, roll back.

    Every ingest makes a new version of the index in the registry (kind `index`); searches
    go to the version behind `production` unless told otherwise. `promote` moves production
    to a version and `rollback` moves it back; a running server follows within seconds.
    """


@command.command("ingest")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--index", "name", required=True, help="The index to add a version to.")
@click.option("--chunker", type=click.Choice(["structure", "tokens"]), default="structure",
              show_default=True, help="structure: paragraphs under their heading; tokens: "
              "fixed windows.")  # fmt: skip
@click.option(
    "--chunk-size", type=int, default=200, show_default=True, help="Most tokens per chunk."
)
@click.option("--overlap", type=int, default=None, help="Tokens shared by neighbouring windows "
              "(tokens: 40, structure: 0).")  # fmt: skip
@click.option("--tokenizer", type=click.Choice(["minilm", "words"]), default="minilm",
              show_default=True, help="What a token is when counting.")  # fmt: skip
@click.option("--embedder", default="minilm", show_default=True,
              help="minilm, gateway:ROUTE or openai:MODEL[@BASE_URL].")  # fmt: skip
@click.option("--backend", type=click.Choice(["auto", "exact", "hnsw"]), default="auto",
              show_default=True, help="auto: exact up to 20,000 chunks, HNSW above.")  # fmt: skip
@click.option("--promote", is_flag=True, help="Point production at the new version.")
@click.option("-m", "--description", default="", help="What changed in this version.")
@json_option
@click.pass_context
def ingest(
    ctx: click.Context, path: Path, name: str, chunker: str, chunk_size: int,
    overlap: int | None, tokenizer: str, embedder: str, backend: str, promote: bool,
    description: str, as_json: bool,
) -> None:  # fmt: skip
    """Make a new version of an index from the files under PATH.

    Reads .txt, .md, .html, .pdf and .jsonl (one document per record). Only documents that
    changed since the newest version are chunked and embedded again; deleted ones are dropped;
    when nothing changed, no version is made.
    """
    client = get_client(ctx)
    chunking: dict[str, Any] = {"strategy": chunker, "size": chunk_size, "tokenizer": tokenizer}
    if overlap is not None:
        chunking["overlap"] = overlap
    with progress_bar() as progress:
        bar = _Bar(progress)
        report = client.rag.ingest(
            path, name, chunker=chunking, embedder=parse_embedder(embedder), backend=backend,
            promote=promote, description=description, reporter=bar,
        )  # fmt: skip
        bar.done()
    if as_json:
        print_json({**report.model_dump(mode="json"), "chunks_per_s": report.chunks_per_s})
        return
    d, c = report.documents, report.chunks
    for rel, reason in report.skipped:
        console.print(f"skipped {rel}: {reason}")
    docs = (f"{d['added']} added, {d['changed']} changed, {d['unchanged']} unchanged, "
            f"{d['deleted']} deleted")  # fmt: skip
    if not report.created:
        console.print(f"{name}: nothing changed ({docs}); the index stays at v{report.version}")
        return
    console.print(
        f"{name} v{report.version}: {c['total']} chunks from {sum(d.values()) - d['deleted']} "
        f"documents ({docs}); embedded {c['embedded']}, reused {c['reused']}, "
        f"{c['from_cache']} from the cache; {report.backend} index; "
        f"{report.seconds:.1f} s ({report.chunks_per_s:.0f} chunks/s)"
    )
    if "production" in report.aliases:
        console.print(f"production → v{report.version}")
    else:
        hint = f"shipyard rag promote {name} {report.version}"
        console.print(f"production is unchanged; to serve this version: {hint}")


@command.command("search")
@click.argument("name")
@click.argument("query")
@click.option("-k", "k", type=int, default=5, show_default=True, help="How many chunks.")
@click.option("--mode", type=click.Choice(["hybrid", "vector", "keyword"]), default="hybrid",
              show_default=True, help="hybrid fuses vector and BM25 rankings.")  # fmt: skip
@click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE",
              help="Only chunks whose field (doc_id, source, title, heading, page) or metadata "
              "matches; repeat a key for any of several values.")  # fmt: skip
@click.option("--label", default=None, help="The alias to search (default production).")
@click.option("--version", "version", type=int, default=None, help="A version number.")
@click.option("--rerank", default=None, help="A reranker (built in: mmr).")
@click.option("--json", "as_json", is_flag=True,
              help="One JSON object per hit: doc_id, chunk_id, source, score, text.")  # fmt: skip
@click.pass_context
def search(
    ctx: click.Context, name: str, query: str, k: int, mode: str, filters: tuple[str, ...],
    label: str | None, version: int | None, rerank: str | None, as_json: bool,
) -> None:  # fmt: skip
    """The top chunks of index NAME for QUERY, with their source and score."""
    result = get_client(ctx).rag.search(
        name, query, k, mode=mode, filters=_filters(filters), label=label,  # type: ignore[arg-type]
        version=version, rerank=rerank,
    )  # fmt: skip
    if as_json:
        for hit in result.hits:
            row = {"rank": hit.rank, "doc_id": hit.doc_id, "chunk_id": hit.chunk_id,
                   "source": hit.source, "score": hit.score, "vector_score": hit.vector_score,
                   "title": hit.title, "heading": hit.heading, "page": hit.page,
                   "text": hit.text, "index": result.index, "version": result.version}  # fmt: skip
            click.echo(orjson.dumps(row).decode())
        return
    console.print(f"{result.index} v{result.version} ({result.mode}): {len(result.hits)} hits "
                  f"in {result.latency_ms:.1f} ms")  # fmt: skip
    for hit in result.hits:
        where = hit.source + (f" p.{hit.page}" if hit.page else "")
        heading = f" — {hit.heading}" if hit.heading else ""
        console.print(f"\n{hit.rank}. {where}{heading}  [doc {hit.doc_id}, chunk {hit.chunk_id}, "
                      f"score {hit.score:.4f}, cosine {hit.vector_score:.3f}]")  # fmt: skip
        text = hit.text if len(hit.text) <= 400 else hit.text[:400].rstrip() + " …"
        console.print("   " + text.replace("\n", "\n   "))


@command.command("promote")
@click.argument("name")
@click.argument("version", type=int)
@click.option("--alias", default="production", show_default=True)
@click.option("--reason", default="", help="Why (kept in the alias history).")
@click.pass_context
def promote(ctx: click.Context, name: str, version: int, alias: str, reason: str) -> None:
    """Point ALIAS (production) of index NAME at VERSION."""
    ev = get_client(ctx).registry.set_alias(name, alias, version, reason)
    console.print(f"{name}@{alias}: {ev.from_version or '-'} → {ev.to_version}")


@command.command("list")
@json_option
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """Indexes with their newest version and aliases."""
    from shipyard.registry.schemas import Kind

    entries = get_client(ctx).registry.list_entries(kind=Kind.index)
    if as_json:
        print_json(entries)
        return
    table = Table("name", "latest", "aliases", "description")
    for e in entries:
        aliases = ", ".join(f"{k}→{v}" for k, v in e.aliases.items())
        table.add_row(e.name, str(e.latest_version or "-"), aliases, e.description)
    console.print(table)


@command.command("versions")
@click.argument("name")
@json_option
@click.pass_context
def versions(ctx: click.Context, name: str, as_json: bool) -> None:
    """Every version of an index: what it was built from and how."""
    items = get_client(ctx).registry.list_versions(name)
    if as_json:
        print_json([{"version": v.version, "aliases": v.aliases, **v.payload} for v in items])
        return
    table = Table("version", "aliases", "documents", "chunks", "chunker", "embedder", "backend",
                  "description")  # fmt: skip
    for v in items:
        m = v.payload
        chunker = f"{m['chunker']['strategy']}/{m['chunker'].get('size')}"
        table.add_row(str(v.version), ", ".join(v.aliases), str(m["counts"]["documents"]),
                      str(m["counts"]["chunks"]), chunker, m["embedder"]["id"],
                      m["backend"]["name"], v.description)  # fmt: skip
    console.print(table)


def _side_ref(name: str, ref: str | None) -> tuple[str | None, int | None]:
    """``--label``-style refs for one side: ``3``, ``v3``, ``NAME/3``, ``NAME@alias``, ``alias``."""
    if ref is None:
        return None, None
    text = ref.split("/", 1)[1] if ref.startswith(f"{name}/") else ref
    text = text.split("@", 1)[1] if text.startswith(f"{name}@") else text
    digits = text[1:] if text.startswith("v") else text
    if digits.isdigit():
        return None, int(digits)
    return text, None


@command.command("eval")
@click.argument("name")
@click.option("--queries", "queries_file", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help='JSONL of {"query", "relevant": [doc ids, sources or chunk ids]}.')  # fmt: skip
@click.option("-k", "k", type=int, default=10, show_default=True, help="The cut-off.")
@click.option("--mode", type=click.Choice(["hybrid", "vector", "keyword"]), default="hybrid",
              show_default=True)  # fmt: skip
@click.option("--version", "ref", default=None,
              help="The version to score: a number or an alias (default production).")  # fmt: skip
@click.option("--against", default=None,
              help="Also score this version (number or alias), as side A.")  # fmt: skip
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Write the comparison as Markdown and HTML here.")  # fmt: skip
@json_option
@click.pass_context
def eval_(
    ctx: click.Context, name: str, queries_file: Path, k: int, mode: str, ref: str | None,
    against: str | None, report_dir: Path | None, as_json: bool,
) -> None:  # fmt: skip
    """Score retrieval on labeled queries: hit rate, recall@k, MRR and nDCG@k.

    Each run is stored as a tracking run (experiment rag/NAME) with one result per query.
    With --against, both versions are scored and compared with paired significance tests,
    and the queries that got worse are listed.
    """
    from shipyard.evals.compare import compare, print_comparison, render_html, render_markdown
    from shipyard.rag.evaluate import evaluate, read_queries

    client = get_client(ctx)
    queries = read_queries(queries_file)
    sides: list[tuple[str | None, str]] = [(against, "A")] if against else []
    sides.append((ref, "B" if against else ""))
    reports = []
    with progress_bar() as progress:
        for side_ref, tag in sides:
            label, version = _side_ref(name, side_ref)
            task = progress.add_task(f"scoring {tag or name}".strip(), total=len(queries))
            reports.append(evaluate(
                client, name, queries, k=k, mode=mode, label=label, version=version,  # type: ignore[arg-type]
                advance=functools.partial(progress.advance, task),
            ))  # fmt: skip
    if as_json and not against:
        print_json(reports[0][0])
        return
    for report, _ in reports:
        if report.missing_labels:
            shown = ", ".join(report.missing_labels[:5])
            console.print(f"note: {len(report.missing_labels)} relevant ids are not in "
                          f"{name} v{report.version} (e.g. {shown})")  # fmt: skip
    if not against:
        r = reports[0][0]
        table = Table("metric", f"{name} v{r.version}")
        for key, value in r.metrics.items():
            table.add_row(key, f"{value:.3f}" if "latency" not in key else f"{value:.1f} ms")
        console.print(table)
        console.print(f"run {r.run_id}: {r.queries} queries, {mode}, k={k}")
        return
    comparison = compare(reports[0][1], reports[1][1])
    if as_json:
        print_json(comparison)
        return
    print_comparison(console, comparison)
    if report_dir is not None:
        report_dir.mkdir(parents=True, exist_ok=True)
        (report_dir / f"{name}-retrieval.md").write_text(render_markdown(comparison))
        (report_dir / f"{name}-retrieval.html").write_text(render_html(comparison))
        console.print(f"reports: {report_dir / f'{name}-retrieval.md'}, "
                      f"{report_dir / f'{name}-retrieval.html'}")  # fmt: skip


@command.command("app")
@click.argument("name")
@click.option("--index", required=True, help="The index (its alias: --index-label).")
@click.option("--index-label", default="production", show_default=True)
@click.option("--prompt", required=True,
              help="A prompt declaring the variables question and context.")  # fmt: skip
@click.option("--prompt-label", default="production", show_default=True)
@click.option("--route", default=None, help="A gateway route or model (default: the prompt's).")
@click.option("-k", "k", type=int, default=4, show_default=True, help="Chunks given to the model.")
@click.option("--mode", type=click.Choice(["hybrid", "vector", "keyword"]), default="hybrid",
              show_default=True)  # fmt: skip
@click.option("-m", "--description", default="")
@click.pass_context
def app(
    ctx: click.Context, name: str, index: str, index_label: str, prompt: str,
    prompt_label: str, route: str | None, k: int, mode: str, description: str,
) -> None:  # fmt: skip
    """Create (or add a version of) RAG app NAME: an index, a prompt and a route.

    The first version is labelled production; an unchanged configuration adds no version.
    """
    version = get_client(ctx).rag.create_app(
        name, index=index, index_label=index_label, prompt=prompt, prompt_label=prompt_label,
        route=route, k=k, mode=mode, description=description,
    )  # fmt: skip
    console.print(f"app {name} v{version.version}: {index}@{index_label} + "
                  f"{prompt}@{prompt_label}" + (f" → {route}" if route else ""))  # fmt: skip


@command.command("apps")
@json_option
@click.pass_context
def apps(ctx: click.Context, as_json: bool) -> None:
    """RAG apps with their versions and aliases."""
    from shipyard.registry.schemas import Kind

    client = get_client(ctx)
    entries = client.registry.list_entries(kind=Kind.app)
    if as_json:
        print_json(entries)
        return
    table = Table("name", "latest", "aliases", "index", "prompt", "route", "k")
    for e in entries:
        spec = client.registry.get_version(e.name, version=e.latest_version).payload
        aliases = ", ".join(f"{a}→{v}" for a, v in e.aliases.items())
        table.add_row(e.name, str(e.latest_version), aliases,
                      f"{spec['index']}@{spec['index_label']}",
                      f"{spec['prompt']}@{spec['prompt_label']}", spec.get("route") or "-",
                      str(spec["k"]))  # fmt: skip
    console.print(table)


@command.command("ask")
@click.argument("name")
@click.argument("question")
@click.option("--label", default=None, help="The app alias (default production).")
@json_option
@click.pass_context
def ask(ctx: click.Context, name: str, question: str, label: str | None, as_json: bool) -> None:
    """Ask RAG app NAME a question: the answer, its sources and a groundedness score."""
    answer = get_client(ctx).rag.ask(name, question, label=label)
    if as_json:
        print_json(answer)
        return
    console.print(answer.answer or "(no answer)")
    console.print("")
    for c in answer.citations:
        mark = "*" if c.cited else " "
        where = c.source + (f" p.{c.page}" if c.page else "")
        heading = f" — {c.heading}" if c.heading else ""
        console.print(f"{mark}[{c.n}] {where}{heading}  (chunk {c.chunk_id})")
    grounded = "-" if answer.groundedness is None else f"{answer.groundedness:.2f}"
    console.print(
        f"\n{name} v{answer.app_version}: {answer.index} v{answer.index_version}, prompt "
        f"{answer.prompt}, model {answer.model or '-'}; groundedness {grounded}; "
        f"{answer.latency_ms:.0f} ms; trace {answer.trace_id}"
    )


@command.command("stats")
@click.argument("name", required=False)
@click.option("--threshold", type=float, default=None,
              help="Best cosine score counted as covered (default 0.5).")  # fmt: skip
@click.option("--since", default="24h", show_default=True, help="Window start: 30m, 24h, 7d.")
@json_option
@click.pass_context
def stats(
    ctx: click.Context, name: str | None, threshold: float | None, since: str, as_json: bool
) -> None:
    """Searches per index version, and the share whose best match clears the threshold."""
    from shipyard.cli.common import since_ms

    rows = get_client(ctx).rag.stats(name, threshold, since_ms(since))
    if as_json:
        print_json(rows)
        return
    table = Table("index", "version", "searches", "covered", "share", "best score p50",
                  "threshold")  # fmt: skip
    for r in rows:
        p50 = "-" if r.best_score_p50 is None else f"{r.best_score_p50:.3f}"
        table.add_row(r.index, str(r.version or "-"), str(r.requests), str(r.covered),
                      f"{r.share_covered:.0%}", p50, f"{r.threshold:.2f}")  # fmt: skip
    console.print(table)


command.add_command(registry_rollback)  # `shipyard rag rollback NAME`: the registry's own
