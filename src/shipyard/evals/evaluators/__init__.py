"""Evaluator plug-ins: the interface in ``base``, the built-in families one module each."""
