"""Tracing: traces, spans and scores; OTLP and native ingest; queries and aggregates."""
