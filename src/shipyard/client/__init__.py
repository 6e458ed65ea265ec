"""The remote (HTTP) side of the SDK: every domain's interface over the REST API."""
