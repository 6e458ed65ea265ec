"""Check digits shared by the privacy code: the Luhn check of payment card numbers."""

from __future__ import annotations


def luhn_ok(digits: str) -> bool:
    """Whether a string of digits ends in a valid Luhn (mod 10) check digit."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0
