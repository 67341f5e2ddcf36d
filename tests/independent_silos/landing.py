"""Writing the landing zone (one file per source, entity and export day) and the truth files."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

# The contract's columns, in the contract's order.
COLUMNS: dict[tuple[str, str], list[str]] = {
    ("crm", "customers"): ["crm_id", "loyalty_card_id", "civility", "first_name", "last_name", "birth_date",
                           "email", "phone", "address_line", "postcode", "city", "country",
                           "household_size", "children_count", "occupation", "income_band",
                           "acquisition_channel", "created_at", "updated_at", "consent_email",
                           "consent_sms", "consent_post"],
    ("ecommerce", "accounts"): ["account_id", "email", "first_name", "last_name", "phone", "birth_date",
                                "address_line", "postcode", "city", "country", "loyalty_card_id",
                                "created_at", "updated_at"],
    ("ecommerce", "orders"): ["order_id", "account_id", "guest_email", "ordered_at", "status", "currency",
                              "shipping", "lines"],
    ("pos", "receipts"): ["receipt_id", "store_id", "purchased_at", "loyalty_card_id", "line_no", "sku",
                          "quantity", "unit_price", "discount_amount", "payment_method"],
    ("callcenter", "calls"): ["call_id", "called_at", "caller_phone", "crm_id", "reason", "outcome",
                              "order_id", "duration_s"],
    ("esp", "campaigns"): ["campaign_id", "name", "channel", "objective", "sent_at", "offer_code",
                           "holdout_share"],
    ("esp", "events"): ["event_id", "campaign_id", "recipient", "event_type", "occurred_at", "url"],
    ("web", "events"): ["event_id", "anonymous_id", "account_id", "occurred_at", "event_type", "page_path",
                        "utm_source", "utm_medium", "utm_campaign", "device"],
    ("forms", "signups"): ["signup_id", "form_type", "submitted_at", "email", "first_name", "last_name",
                           "postcode", "opt_in", "interests", "nps"],
    ("partners", "email_appends"): ["crm_id", "appended_email", "opt_in", "appended_at"],
    ("reference", "products"): ["sku", "name", "category", "brand", "unit_cost"],
    ("reference", "stores"): ["store_id", "name", "city", "postcode", "region", "opened_at"],
    ("privacy", "requests"): ["request_id", "requested_at", "request_type", "email", "phone", "crm_id"],
}
EXT = {k: ("jsonl" if k in (("ecommerce", "orders"), ("web", "events")) else "csv") for k in COLUMNS}
@dataclass(slots=True)
class Row:
    day: int                 # export day index (the file it goes to)
    key: int                 # order inside the file (usually a UTC timestamp)
    values: object           # csv: list[str] (contract columns then extras); jsonl: dict or str
    bad: str | None = None   # the reason, when the row is deliberately invalid
    raw: bool = False        # csv: write values as they are (a row with a wrong field count)


@dataclass
class Entity:
    source: str
    entity: str
    rows: list = field(default_factory=list)
    schedule: list = field(default_factory=list)   # export days that get a file (maybe empty)
    extras: list = field(default_factory=list)     # extra CSV columns (after the contract's)
    extras_from: int = 0                           # first export day whose files carry the extras
    sep: str = ","
    crlf: bool = False

    @property
    def columns(self) -> list[str]:
        return COLUMNS[(self.source, self.entity)]

    @property
    def ext(self) -> str:
        return EXT[(self.source, self.entity)]


class Landing:
    def __init__(self, root: Path, clock):
        self.root = Path(root)
        self.clock = clock
        self.bad_rows: list[tuple[str, int, str]] = []
        self.files = 0
        self.rows: dict[str, int] = {}

    def relpath(self, e: Entity, day: int) -> str:
        return f"{e.source}/{e.entity}/{self.clock.day_str(day)}.{e.ext}"

    def write(self, e: Entity) -> None:
        days = sorted(set(e.schedule))
        allowed = set(days)
        by_day: dict[int, list[Row]] = {d: [] for d in days}
        for r in e.rows:
            if r.day not in allowed:
                raise AssertionError(f"{e.source}/{e.entity}: row for day {r.day} has no file")
            by_day[r.day].append(r)
        folder = self.root / e.source / e.entity
        folder.mkdir(parents=True, exist_ok=True)
        ncol = len(e.columns)
        total = 0
        for d in days:
            rows = by_day[d]
            rows.sort(key=lambda r: r.key)
            rel = self.relpath(e, d)
            if e.ext == "csv":
                buf = io.StringIO()
                w = csv.writer(buf, delimiter=e.sep, quotechar='"', quoting=csv.QUOTE_MINIMAL,
                               lineterminator="\r\n" if e.crlf else "\n")
                with_extras = bool(e.extras) and d >= e.extras_from
                w.writerow(e.columns + (e.extras if with_extras else []))
                for i, r in enumerate(rows):
                    v = r.values
                    if r.raw:
                        out = list(v) + ([""] * len(e.extras) if with_extras else [])
                    else:
                        out = v if (with_extras and len(v) == ncol + len(e.extras)) else v[:ncol]
                        if with_extras and len(out) < ncol + len(e.extras):
                            out = list(out) + [""] * (ncol + len(e.extras) - len(out))
                    w.writerow(out)
                    if r.bad:
                        self.bad_rows.append((rel, i + 2, r.bad))
                text = buf.getvalue()
            else:
                lines = []
                for i, r in enumerate(rows):
                    lines.append(r.values if isinstance(r.values, str)
                                 else json.dumps(r.values, ensure_ascii=False))
                    if r.bad:
                        self.bad_rows.append((rel, i + 1, r.bad))
                text = "".join(s + "\n" for s in lines)
            (folder / f"{self.clock.day_str(d)}.{e.ext}").write_text(text, encoding="utf-8", newline="")
            self.files += 1
            total += len(rows)
        self.rows[f"{e.source}/{e.entity}"] = total


class Truth:
    def __init__(self):
        self.records: dict[tuple[str, str, str], None] = {}
        self.purchases: list[dict] = []
        self.privacy: list[tuple[str, str, str]] = []

    def rec(self, source: str, rid: str, pid: str = "") -> None:
        if rid:
            self.records[(source, rid, pid)] = None

    def records_rows(self) -> list[tuple[str, str, str]]:
        real = {(s, r) for (s, r, p) in self.records if p}
        rows = [k for k in self.records if k[2] or (k[0], k[1]) not in real]
        return sorted(rows)
