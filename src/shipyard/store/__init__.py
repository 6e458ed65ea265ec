"""Database engine and sessions, migrations, and the content-addressed artifact store."""
