"""Data drift: per-column statistics between a reference and a current table, a table-level
verdict, and reports as JSON or a compact HTML page (charts, never rows)."""

from shipyard.ml.drift.compare import ColumnDrift, DriftOptions, DriftReport, compare
from shipyard.ml.drift.profile import Profile, Summary, summarise

__all__ = ["ColumnDrift", "DriftOptions", "DriftReport", "Profile", "Summary", "compare",
           "summarise"]  # fmt: skip
