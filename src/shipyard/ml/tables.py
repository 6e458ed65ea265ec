"""Reading tables from files: CSV, Parquet and JSON lines, with clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.core.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

SUFFIXES = (".csv", ".tsv", ".parquet", ".pq", ".jsonl", ".ndjson")


def read_table(path: str | Path) -> pd.DataFrame:
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    suffix = path.suffixes[-2] if path.suffix == ".gz" and len(path.suffixes) > 1 else path.suffix
    try:
        if suffix in (".csv", ".tsv"):
            return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", low_memory=False)
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suffix in (".jsonl", ".ndjson"):
            return pd.read_json(path, lines=True)
    except ImportError as exc:
        raise InvalidInput(f"cannot read {path.name}: {exc}") from None
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InvalidInput(f"cannot read {path}: {str(exc).splitlines()[0]}") from None
    raise InvalidInput(f"{path.name}: not a table file (use one of {', '.join(SUFFIXES)})")
