"""Writing each entity as one file per export day, with planted bad rows and their truth."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

BAD_SHARE = 0.005

# entity -> (id column, main timestamp, enum column and a wrong value, a price column, currency column)
RULES = {
    "crm/customers": ("crm_id", "updated_at", None, None, None),
    "ecommerce/accounts": ("account_id", "updated_at", None, None, None),
    "ecommerce/orders": ("order_id", "ordered_at", ("status", "lost"), "lines", "currency"),
    "pos/receipts": ("receipt_id", "purchased_at", None, "unit_price", None),
    "callcenter/calls": ("call_id", "called_at", ("reason", "other"), None, None),
    "esp/campaigns": ("campaign_id", "sent_at", ("channel", "fax"), None, None),
    "esp/events": ("event_id", "occurred_at", ("event_type", "hover"), None, None),
    "web/events": ("event_id", "occurred_at", ("event_type", "scroll"), None, None),
    "forms/signups": ("signup_id", "submitted_at", ("form_type", "quiz"), None, None),
    "partners/email_appends": ("crm_id", "appended_at", None, None, None),
    "reference/products": ("sku", None, None, "unit_cost", None),
    "reference/stores": ("store_id", None, None, None, None),
    "privacy/requests": ("request_id", "requested_at", ("request_type", "portability"), None, None),
}


def _kinds(entity: str) -> list[str]:
    _, ts, enum, price, currency = RULES[entity]
    kinds = ["unparseable", "missing_required"]
    if ts or entity == "pos/receipts":
        kinds.append("bad_type")
    if enum:
        kinds.append("unknown_enum")
    if price:
        kinds.append("negative_price")
    if currency:
        kinds.append("unsupported_currency")
    return kinds


def _corrupt(row: dict, entity: str, kind: str, k: int) -> dict | None:
    """A bad copy of a good row, with a fresh id so it can never be mistaken for the real one."""
    id_col, ts, enum, price, currency = RULES[entity]
    bad = dict(row)
    bad[id_col] = f"{row[id_col]}BAD{k}"
    if kind == "missing_required":
        bad[id_col] = ""
    elif kind == "bad_type":
        if entity == "pos/receipts":
            bad["quantity"] = "abc"
        else:
            bad[ts] = "not-a-date"
    elif kind == "unknown_enum":
        bad[enum[0]] = enum[1]
    elif kind == "negative_price":
        if price == "lines":
            lines = [dict(x) for x in row["lines"]]
            lines[0]["unit_price"] = -abs(lines[0]["unit_price"]) - 1
            bad["lines"] = lines
        elif entity == "pos/receipts":
            bad[price] = "-" + str(row[price]).lstrip("-")
        else:
            bad[price] = -abs(float(row[price] or 1)) - 1
    elif kind == "unsupported_currency":
        bad[currency] = "USD"
    return bad


def _csv_line(values: list, delimiter: str) -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerow(["" if v is None else v for v in values])
    return buf.getvalue().rstrip("\n")


def write_entity(out: Path, entity: str, df: pd.DataFrame, columns: list[str], fmt: str, rng: np.random.Generator,
                 delimiter: str = ",", last_day: np.datetime64 | None = None) -> tuple[int, int, list[tuple[str, int, str]]]:
    """Write one file per `_day` (up to `last_day`); returns (files, rows, bad rows as (file, line, kind)).

    Rows are grouped by a day key computed beside the frame, never on a copy of it."""
    folder = out / entity
    folder.mkdir(parents=True, exist_ok=True)
    bad_rows: list[tuple[str, int, str]] = []
    files = rows = 0
    kinds = _kinds(entity)
    days = pd.to_datetime(df["_day"]).to_numpy().astype("datetime64[D]")
    day_key = np.datetime_as_string(days, unit="D").astype(object)
    day_key[np.isnat(days) if last_day is None else ~(days <= last_day)] = None  # grouping drops them
    for day, group in df.groupby(day_key, sort=True):
        frame = group[columns]
        if fmt == "jsonl":
            lines = frame.to_json(orient="records", lines=True, force_ascii=False).splitlines()
        else:
            lines = frame.to_csv(index=False, header=False, sep=delimiter, lineterminator="\n").splitlines()
        n_records = len(lines)
        n_bad = rng.binomial(n_records, BAD_SHARE)
        rel = f"{entity}/{day}.{fmt}"
        planted = []
        for k in range(n_bad):
            kind = kinds[rng.integers(0, len(kinds))]
            source_row = frame.iloc[int(rng.integers(0, n_records))].to_dict()
            source_row = {k: (None if not isinstance(v, (list, dict)) and pd.isna(v) else v) for k, v in source_row.items()}
            if kind == "unparseable":
                text = ('{"' + columns[0] + '": "' + str(source_row[columns[0]]) + '", broken') if fmt == "jsonl" \
                    else _csv_line([source_row[c] for c in columns[:-2]], delimiter)
            else:
                bad = _corrupt(source_row, entity, kind, k)
                if fmt == "jsonl":
                    text = json.dumps({c: bad[c] for c in columns}, ensure_ascii=False, default=_json_default)
                else:
                    text = _csv_line([bad[c] for c in columns], delimiter)
            planted.append((int(rng.integers(0, len(lines) + 1)), text, kind))
        # insert from the end so earlier positions stay valid, then number the lines
        marks = [None] * len(lines)
        for pos, text, kind in sorted(planted, key=lambda x: -x[0]):
            lines.insert(pos, text)
            marks.insert(pos, kind)
        offset = 2 if fmt == "csv" else 1
        bad_rows += [(rel, i + offset, kind) for i, kind in enumerate(marks) if kind]
        header = [_csv_line(columns, delimiter)] if fmt == "csv" else []
        (folder / f"{day}.{fmt}").write_text("\n".join(header + lines) + "\n", encoding="utf-8")
        files += 1
        rows += len(lines)
    return files, rows, bad_rows


def _json_default(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    return str(v)
