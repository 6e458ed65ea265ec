"""Build the ``pyref`` demo corpus for Shipyard's RAG feature.

Converts every topic of the Python language reference that ships offline in
``pydoc_data.topics`` into one Markdown file under
``src/shipyard/demo_data/pyref/<topic>.md``. The file stem (the pydoc topic
key, e.g. ``atom-identifiers``) is the document id.

Usage (from the repository root)::

    .venv/bin/python scripts/build_pyref_corpus.py [--out DIR]

The output depends only on the running interpreter's ``pydoc_data`` (the
checked-in corpus was built with Python 3.11).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from pydoc_data.topics import topics

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "src" / "shipyard" / "demo_data" / "pyref"

UNDERLINE_CHARS = "*=-~^"

README = """\
Python {version} language reference topics, taken from the standard library's
offline help data (pydoc_data.topics; Python Software Foundation License).
Converted to Markdown, one file per topic (file stem = topic id), by
scripts/build_pyref_corpus.py. Regenerate with that script; do not edit by hand.
"""


def _is_underline(line: str, above: str) -> bool:
    """True if ``line`` is a reST-style underline for the heading ``above``."""
    if not line or not above.strip() or above.startswith((" ", "\t")):
        return False
    if len(set(line)) != 1 or line[0] not in UNDERLINE_CHARS:
        return False
    # pydoc writes underlines exactly as long as the heading text.
    return len(line) == len(above.rstrip())


def _heading_text(text: str) -> str:
    """Make a heading readable: pydoc renders inline code as "x"; use `x`."""
    text = re.sub(r'"([^"]+)"', r"`\1`", text.strip())
    return re.sub(r"\s+", " ", text)


def _fence_unindented_blocks(lines: list[str]) -> list[str]:
    """Fence flush-left grid tables and doctest sessions.

    pydoc indents most literal blocks, but grid tables (``+---+``) and some
    ``>>>`` sessions start at column 0, where Markdown would mangle them
    (``>`` is a blockquote, ``|`` a table row). Wrap each such run, up to the
    next blank line, in a fenced code block.
    """
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        kind = None
        if line.startswith("+-") and line.rstrip().endswith("+"):
            kind = "text"
        elif line.startswith(">>>"):
            kind = "pycon"
        if kind is None:
            out.append(line)
            i += 1
            continue
        j = i
        while j < len(lines) and lines[j].strip():
            j += 1
        if out and out[-1].strip():
            out.append("")
        out.append(f"```{kind}")
        out.extend(lines[i:j])
        out.append("```")
        i = j
    return out


def convert(topic: str, text: str) -> str:
    lines = text.expandtabs().splitlines()
    # Drop trailing whitespace everywhere (keeps leading indentation intact).
    lines = [ln.rstrip() for ln in lines]

    title = topic
    body_start = 0
    if len(lines) >= 2 and _is_underline(lines[1], lines[0]):
        title = _heading_text(lines[0]) or topic
        title_char = lines[1][0]
        body_start = 2
    else:
        title_char = None

    levels: dict[str, int] = {}
    if title_char is not None:
        levels[title_char] = 1

    body = lines[body_start:]
    out: list[str] = []
    i = 0
    while i < len(body):
        line = body[i]
        nxt = body[i + 1] if i + 1 < len(body) else ""
        if _is_underline(nxt, line):
            ch = nxt[0]
            if ch not in levels:
                levels[ch] = len(levels) + 2 if title_char is None else len(levels) + 1
            level = max(2, min(levels[ch], 6))
            while out and not out[-1].strip():
                out.pop()
            if out:
                out.append("")
            out.append("#" * level + " " + _heading_text(line))
            out.append("")
            i += 2
            # Skip blank lines right after the underline.
            while i < len(body) and not body[i].strip():
                i += 1
            continue
        if (
            line
            and len(line) >= 4
            and len(set(line)) == 1
            and line[0] in "=-"
            and (not out or not out[-1].strip())
        ):
            # A free-standing reST transition line: make it a Markdown rule.
            out.append("---")
            i += 1
            continue
        out.append(line)
        i += 1

    out = _fence_unindented_blocks(out)

    # Collapse runs of blank lines to a single one; strip leading/trailing.
    collapsed: list[str] = []
    for line in out:
        if not line.strip() and collapsed and not collapsed[-1].strip():
            continue
        collapsed.append(line)
    while collapsed and not collapsed[0].strip():
        collapsed.pop(0)
    while collapsed and not collapsed[-1].strip():
        collapsed.pop()

    return f"# {title}\n\n" + "\n".join(collapsed) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    args = parser.parse_args(argv)

    out_dir: Path = args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    # Remove stale topic files so the directory mirrors pydoc_data exactly.
    for old in out_dir.glob("*.md"):
        if old.stem not in topics:
            old.unlink()

    total = 0
    for topic in sorted(topics):
        md = convert(topic, topics[topic])
        path = out_dir / f"{topic}.md"
        path.write_text(md, encoding="utf-8")
        total += len(md.encode("utf-8"))

    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    (out_dir / "NOTICE").write_text(README.format(version=version), encoding="utf-8")
    print(f"wrote {len(topics)} topics to {out_dir} ({total:,} bytes of Markdown)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
