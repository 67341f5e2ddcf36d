"""Sample silos: a realistic landing zone for demos, tests and benchmarks, with its ground truth.

`generate(out, customers, days, start, seed)` writes every entity of the contract as one file
per export day, messy the way real exports are, with ~0.5 % bad rows of every kind, and writes
the truth (which records are one person, which rows are bad, what was bought) beside it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from .files import write_entity
from .people import build_pools, make_people
from .silos import Silos

COLUMNS = {
    "crm/customers": ("csv", ["crm_id", "loyalty_card_id", "civility", "first_name", "last_name", "birth_date", "email",
                              "phone", "address_line", "postcode", "city", "country", "household_size",
                              "children_count", "occupation", "income_band", "acquisition_channel", "created_at",
                              "updated_at", "consent_email", "consent_sms", "consent_post"]),
    "ecommerce/accounts": ("csv", ["account_id", "email", "first_name", "last_name", "phone", "birth_date",
                                   "address_line", "postcode", "city", "country", "loyalty_card_id", "created_at",
                                   "updated_at"]),
    "ecommerce/orders": ("jsonl", ["order_id", "account_id", "guest_email", "ordered_at", "status", "currency",
                                   "shipping", "lines"]),
    "pos/receipts": ("csv", ["receipt_id", "store_id", "purchased_at", "loyalty_card_id", "line_no", "sku", "quantity",
                             "unit_price", "discount_amount", "payment_method"]),
    "callcenter/calls": ("csv", ["call_id", "called_at", "caller_phone", "crm_id", "reason", "outcome", "order_id",
                                 "duration_s"]),
    "esp/campaigns": ("csv", ["campaign_id", "name", "channel", "objective", "sent_at", "offer_code"]),
    "esp/events": ("csv", ["event_id", "campaign_id", "recipient", "event_type", "occurred_at", "url"]),
    "web/events": ("jsonl", ["event_id", "anonymous_id", "account_id", "occurred_at", "event_type", "page_path",
                             "utm_source", "utm_medium", "utm_campaign", "device"]),
    "forms/signups": ("csv", ["signup_id", "form_type", "submitted_at", "email", "first_name", "last_name",
                              "postcode", "opt_in", "interests", "nps"]),
    "partners/email_appends": ("csv", ["crm_id", "appended_email", "opt_in", "appended_at"]),
    "reference/products": ("csv", ["sku", "name", "category", "brand", "unit_cost"]),
    "reference/stores": ("csv", ["store_id", "name", "city", "postcode", "region", "opened_at"]),
    "privacy/requests": ("csv", ["request_id", "requested_at", "request_type", "email", "phone", "crm_id"]),
}


def generate(out: Path, customers: int, days: int, start: dt.date, seed: int,
             truth_out: Path | None = None) -> dict:
    out = Path(out)
    truth_out = Path(truth_out) if truth_out else out.parent / (out.name + "_truth")
    rng = np.random.default_rng(seed)
    people = make_people(customers, rng, build_pools(seed))
    s = Silos(people, np.datetime64(start, "D"), days, rng)
    frames = {"reference/products": s.products(), "reference/stores": s.stores(),
              "crm/customers": s.crm(), "ecommerce/accounts": s.accounts()}
    # the silos that collect e-mails come before the ESP that writes to them
    frames["forms/signups"] = s.forms()
    frames["partners/email_appends"] = s.partner_appends()
    frames["esp/campaigns"], frames["esp/events"], clicks = s.campaigns()
    buys = s.purchases(clicks)
    frames["ecommerce/orders"], web_truth = s.web_orders(buys)
    frames["pos/receipts"], store_truth = s.receipts(buys)
    frames["web/events"] = s.web()
    frames["callcenter/calls"] = s.calls()
    frames["privacy/requests"] = s.privacy(buyers=buys["pix"].unique())

    end = np.datetime64(start, "D") + np.timedelta64(days - 1, "D")
    summary = {"persons": customers, "files_written": 0, "rows": {}, "bad_rows": 0}
    bad_all = []
    for entity, (fmt, columns) in COLUMNS.items():
        # each frame is dropped once written: at 1,000,000 customers x 2 years the frames alone
        # take ~10 GB (the e-mail events ~6 GB), and no copy of one is made while it is written
        df = frames.pop(entity)
        if df.empty:
            continue
        files, rows, bad = write_entity(out, entity, df, columns, fmt, rng, ";" if entity == "pos/receipts" else ",",
                                        last_day=end)
        summary["files_written"] += files
        summary["rows"][entity] = rows
        bad_all += bad
    summary["bad_rows"] = len(bad_all)

    truth_out.mkdir(parents=True, exist_ok=True)
    identity = pd.concat(s.truth, ignore_index=True)
    identity = identity[identity["source_record_id"].notna()]
    identity = identity.drop_duplicates(["source", "source_record_id"])
    identity.to_parquet(truth_out / "identity.parquet", index=False)
    people[["person_id", "household_id", "first_name", "last_name", "birth_date", "email", "mobile", "postcode",
            "city"]].rename(columns={"mobile": "phone"}).astype({"birth_date": str}).to_parquet(
        truth_out / "persons.parquet", index=False)
    pd.DataFrame(bad_all, columns=["file_path", "line", "kind"]).to_parquet(truth_out / "bad_rows.parquet", index=False)
    lines = pd.concat([web_truth, store_truth], ignore_index=True)
    lines["local_date"] = pd.to_datetime(lines["local_date"]).dt.date
    lines = lines[lines["local_date"] <= pd.Timestamp(end).date()]
    lines.astype({"order_id": str, "person_id": object}).to_parquet(truth_out / "order_lines.parquet", index=False)
    return summary
