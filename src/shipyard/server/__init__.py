"""The HTTP server: app factory, routers (one per domain), middleware."""
