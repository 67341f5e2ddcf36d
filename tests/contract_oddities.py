"""Rewrites a landing zone into one that is still contract-valid but odd (CONTRACT.md §1).

Written from the contract's text, not from the loader's specs, so that a test using it does not
share the pipeline's reading of the contract: what is required is typed in below. Every row stays
valid: only optional values change (blank, implausible but parseable, unparseable where the
contract says "loaded as null"), booleans switch between `true/false` and `1/0`, and files gain an
extra column (the contract: "extra columns are kept in raw, ignored downstream").
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd

# CONTRACT.md §1 "Required fields": the entity's own id, its main timestamp, and for purchase
# lines sku, quantity, unit_price (the enum that names an event's kind is kept as it is too)
REQUIRED = {
    "crm/customers": {"crm_id", "updated_at"},
    "ecommerce/accounts": {"account_id", "updated_at"},
    "ecommerce/orders": {"order_id", "ordered_at", "status", "lines", "currency"},
    "pos/receipts": {"receipt_id", "purchased_at", "line_no", "sku", "quantity", "unit_price"},
    "callcenter/calls": {"call_id", "called_at"},
    "esp/campaigns": {"campaign_id", "sent_at"},
    "esp/events": {"event_id", "occurred_at", "event_type"},
    "web/events": {"event_id", "occurred_at", "event_type"},
    "forms/signups": {"signup_id", "submitted_at"},
    "partners/email_appends": {"crm_id", "appended_at"},
    "reference/products": {"sku"},
    "reference/stores": {"store_id"},
    "privacy/requests": {"request_id", "requested_at", "request_type"},
}
# parseable but implausible values the contract says are kept (§1: "a birth date in 1890 or next
# year, a household of 40"), and unparseable optional values it says load as null
IMPLAUSIBLE = {
    "birth_date": lambda rng, today: rng.choice(["1890-05-17", (today + dt.timedelta(days=200)).isoformat(),
                                                 "1985-02-30"]),
    "household_size": lambda rng, today: rng.choice(["40", "0"]),
    "children_count": lambda rng, today: "25",
    "nps": lambda rng, today: rng.choice(["dix", "11"]),
    "duration_s": lambda rng, today: "200000",
}
BOOLEANS = {"consent_email", "consent_sms", "consent_post", "opt_in"}


def _odd_frame(df: pd.DataFrame, required: set[str], rng: np.random.Generator, blank_share: float,
               today: dt.date) -> pd.DataFrame:
    n = len(df)
    for col in df.columns:
        if col in required or n == 0:
            continue
        values = df[col].astype(object)
        blank = rng.random(n) < blank_share
        values[blank] = None
        if col in IMPLAUSIBLE:
            odd = (rng.random(n) < 0.03) & ~blank
            values[odd] = [IMPLAUSIBLE[col](rng, today) for _ in range(int(odd.sum()))]
        if col in BOOLEANS:
            as_digit = (rng.random(n) < 0.5) & values.notna()
            values[as_digit] = values[as_digit].map(lambda v: {"true": "1", "false": "0"}.get(str(v).lower(), v))
        df[col] = values
    df["source_system"] = "legacy-export"  # a column the contract does not list
    return df


def _rewrite_csv(path: Path, required: set[str], rng, blank_share, today) -> None:
    sep = ";" if "pos/" in path.as_posix() else ","
    try:
        df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, na_values=[""])
    except (ValueError, UnicodeDecodeError):  # a file planted broken stays as it is
        return
    _odd_frame(df, required, rng, blank_share, today).to_csv(path, sep=sep, index=False)


def _rewrite_jsonl(path: Path, required: set[str], rng, blank_share, today) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    out = []
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:  # a planted bad line stays as it is
            out.append(line)
            continue
        if not isinstance(row, dict):
            out.append(line)
            continue
        for key in list(row):
            if key not in required and rng.random() < blank_share:
                row[key] = None
        for item in row.get("lines") or []:
            if isinstance(item, dict) and rng.random() < blank_share:
                item["discount"] = None
        row["source_system"] = "legacy-export"
        out.append(json.dumps(row, ensure_ascii=False))
    path.write_text("".join(f"{line}\n" for line in out), encoding="utf-8")


def make_contract_odd(landing: Path, seed: int = 3, blank_share: float = 1 / 3, today: dt.date | None = None,
                      silent_sources: tuple[str, ...] = (), header_only_share: float = 0.0) -> int:
    """Rewrite every landing file in place; returns the number of files rewritten. Rows listed as bad
    by a generator stay bad (their required fields are untouched) and good rows stay good.
    `silent_sources` deliver nothing (their folders go); a `header_only_share` of the CSV files keep
    only their header (a silo that had nothing that day)."""
    rng = np.random.default_rng(seed)
    today = today or dt.date.today()
    for source in silent_sources:
        for path in sorted((landing / source).glob("*/*.*")):
            path.unlink()
    count = 0
    for path in sorted(landing.glob("*/*/*.*")):
        entity = f"{path.parent.parent.name}/{path.parent.name}"
        if entity not in REQUIRED or path.stat().st_size == 0:
            continue
        if path.suffix == ".csv" and rng.random() < header_only_share:
            path.write_text(path.read_text(encoding="utf-8", errors="replace").splitlines()[0] + "\n",
                            encoding="utf-8")
            continue
        if path.suffix == ".csv":
            _rewrite_csv(path, REQUIRED[entity], rng, blank_share, today)
        else:
            _rewrite_jsonl(path, REQUIRED[entity], rng, blank_share, today)
        count += 1
    return count
