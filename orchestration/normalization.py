"""Normalising contact data the way the match keys need it, with well-kept libraries.

Phones go to E.164 with Google's libphonenumber port (``phonenumbers``): French numbers are
typed in many shapes (``06 12 34 56 78``, ``0033 6-12-34-56-78``, ``(0)6…``) and only a real
numbering-plan parser tells a valid number from a placeholder. Runs on distinct values only.
"""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
import pyarrow as pa

DEFAULT_REGION = "FR"


@lru_cache(maxsize=1_000_000)
def to_e164(raw: str | None, region: str = DEFAULT_REGION) -> str | None:
    """E.164 form of a typed phone number, or None when it is not a valid number."""
    if raw is None:
        return None
    text = raw.strip()
    if not text:
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    text = text.replace("(0)", "")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def to_e164_arrow(values: pa.Array) -> pa.Array:
    """Vectorised entry point for a DuckDB arrow UDF: parses each distinct value once."""
    pylist = values.to_pylist()
    cache = {v: to_e164(v) for v in set(pylist)}
    return pa.array([cache[v] for v in pylist], type=pa.string())
