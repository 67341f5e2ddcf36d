"""The Great Expectations suites, declared as data.

Raw suites are derived from the ingestion specs (what the contract requires of each entity)
plus a few declared ranges; mart and score suites are declared per table below. Each rule is
a tuple `(kind, column(s), *args)`; `runner.py` turns them into GX expectations.
"""

from __future__ import annotations

from orchestration.ingestion.specs import ENTITIES

TS_MIN, TS_MAX = "1990-01-01T00:00:00", "2100-01-01T00:00:00"  # history goes back to the 1990s (CDNOW)

# declared ranges on raw columns, beyond what the specs say
RAW_RANGES = {
    ("crm__customers", "household_size"): (1, 15),
    ("crm__customers", "children_count"): (0, 12),
    ("forms__signups", "nps"): (0, 10),
    ("callcenter__calls", "duration_s"): (0, 86_400),
    ("pos__receipts", "line_no"): (1, 10_000),
}

SOURCES = ["crm", "ecommerce", "pos", "callcenter", "esp", "web", "forms", "partners"]
E164 = r"^\+[1-9][0-9]{6,14}$"
EMAIL = r"^[^@\sA-Z]+@[^@\sA-Z]+\.[^@\sA-Z]+$"


def _raw_rules(spec) -> list[tuple]:
    rules: list[tuple] = [("not_null", "_file_path"), ("between", "_line", 1, None)]
    for f in spec.fields:
        if f.required and f.type != "json":
            rules.append(("not_null", f.name))
        if f.enum:
            rules.append(("in_set", f.name, list(f.enum)))
        if f.non_negative:
            rules.append(("between", f.name, 0, None))
        if f.type == "timestamp":
            rules.append(("between", f.name, TS_MIN, TS_MAX))
        if (spec.name, f.name) in RAW_RANGES:
            rules.append(("between", f.name, *RAW_RANGES[(spec.name, f.name)]))
    return rules


MART_RULES: dict[str, list[tuple]] = {
    "marts.dim_customer": [
        ("not_null", "customer_id"), ("unique", "customer_id"), ("between", "source_count", 1, 8),
        ("not_null", "consent_email"), ("not_null", "consent_sms"), ("not_null", "consent_post"),
        ("regex", "email", EMAIL, 0.99), ("regex", "phone", E164),
    ],
    "marts.customer_identity_map": [
        ("in_set", "source", SOURCES), ("not_null", "source_record_id"),
        ("compound_unique", ["source", "source_record_id"]), ("between", "match_confidence", 0, 1),
        ("not_null", "match_rule"),
    ],
    "marts.fct_order_lines": [
        ("not_null", "order_id"), ("not_null", "line_no"), ("in_set", "channel", ["web", "store"]),
        ("compound_unique", ["channel", "order_id", "line_no"]), ("not_null", "net_amount"),
        ("not_in_set", "quantity", [0]), ("between", "ordered_at", TS_MIN, TS_MAX),
    ],
    "marts.fct_customer_rfm": [
        ("not_null", "customer_id"), ("compound_unique", ["customer_id", "snapshot_date"]),
        ("between", "r_score", 1, 5), ("between", "f_score", 1, 5), ("between", "m_score", 1, 5),
        ("between", "frequency", 1, None), ("between", "recency_days", 0, None),
        ("between", "monetary", 0, None, 0.99),  # returns can exceed purchases for a few people
        ("not_null", "rfm_segment"),
    ],
    "marts.customer_scores": [
        ("not_null", "customer_id"), ("unique", "customer_id"), ("between", "purchase_propensity", 0, 1),
        ("not_null", "purchase_propensity"), ("between", "expected_value_12m", 0, None),
        ("not_null", "segment"), ("not_null", "model_version"), ("between", "p_alive", 0, 1),
        ("between", "expected_purchases_12m", 0, None),
    ],
}

SUITES: dict[str, list[tuple]] = {f"raw.{e.name}": _raw_rules(e) for e in ENTITIES} | MART_RULES
