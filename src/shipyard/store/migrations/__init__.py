"""Alembic migrations. ``HEAD`` names the newest revision; a test keeps it honest."""

HEAD = "0007"
