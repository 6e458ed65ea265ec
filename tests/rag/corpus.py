"""Small corpora written for the RAG tests, and a minimal PDF writer."""

from __future__ import annotations

from pathlib import Path

DOCS = {
    "guide/rivers.md": """# Rivers of the world

## The Nile

The Nile flows north through eleven countries and empties into the Mediterranean Sea.
Its delta in Egypt is one of the most fertile farming regions on earth.

## The Amazon

The Amazon carries more water than any other river. Its basin holds the largest tropical
rainforest, home to jaguars, river dolphins and thousands of fish species.
""",
    "guide/baking.md": """# Baking bread

Knead the dough for ten minutes until it is smooth and elastic. Let it rise in a warm place
until it doubles in size, usually about an hour.

## Sourdough

A sourdough starter is a culture of wild yeast and lactic acid bacteria. Feed it flour and
water every day and it will leaven bread without commercial yeast.
""",
    "notes/astronomy.txt": """Mars is the fourth planet from the sun. Its red colour comes from
iron oxide dust on the surface.

Jupiter is the largest planet in the solar system; the Great Red Spot is a storm larger than
the earth that has raged for centuries.
""",
    "pages/chess.html": """<html><head><title>Chess openings</title>
<style>body { color: red }</style><script>var x = "kingside castle script";</script></head>
<body><h1>Chess openings</h1><p>The Sicilian Defence answers 1.e4 with 1...c5 and leads to
sharp, unbalanced positions.</p><h2>Queen's Gambit</h2><p>White offers a pawn on c4 to gain
control of the centre; Black may accept or decline it.</p></body></html>
""",
    "records.jsonl": (
        '{"id": "faq-1", "title": "Refunds", "team": "billing", '
        '"text": "Refunds are paid to the original card within five business days."}\n'
        '{"id": "faq-2", "title": "Passwords", "team": "support", '
        '"text": "Reset a forgotten password from the sign-in page with the link sent by '
        'e-mail."}\n'
    ),
}


def write_corpus(root: Path, docs: dict[str, str] | None = None) -> Path:
    for rel, text in (docs or DOCS).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def write_pdf(path: Path, pages: list[list[str]], title: str = "") -> Path:
    """A real (tiny) PDF: one Helvetica text line per string, one page per list."""
    objects: list[bytes] = []
    n_pages = len(pages)
    font_id = 3 + 2 * n_pages
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n_pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    for i, lines in enumerate(pages):
        content_id = 4 + 2 * i
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content_id} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode()
        )
        ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
        for line in lines:
            ops.append(f"({_escape(line)}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode()
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    info_id = len(objects) + 1
    objects.append(f"<< /Title ({_escape(title)}) >>".encode())
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {info_id} 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(out))
    return path
