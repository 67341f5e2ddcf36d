"""The Great Expectations suites, declared as data.

Raw suites are derived from the ingestion specs (what the contract requires of each entity);
staging, mart and model-output suites are declared per table below. A rule that names the
contract clause it enforces (`enforces=`) blocks the night when it fails; every other rule only
warns: what the contract allows (blank optional values, implausible but parseable values) never
fails a night (docs/trust.md). `runner.py` turns rules into GX expectations.

Row suites validate rows (what the night loaded, or a bounded sample of a rebuilt table).
Metric suites validate one row of whole-table measures computed by DuckDB (duplicate keys,
orphan facts, revenue reconciled between layers): rules GX cannot express across tables or
run on a large table, still declared and reported through GX.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestration.ingestion.specs import ENTITIES

from . import contract as c


@dataclass(frozen=True)
class Rule:
    kind: str  # not_null, unique, compound_unique, in_set, not_in_set, between, regex
    column: str | tuple[str, ...]
    enforces: str | None = None  # the contract clause it enforces: then a failure blocks the night
    min_value: object = None
    max_value: object = None
    value_set: tuple = ()
    regex: str | None = None
    mostly: float = 1.0

    @property
    def blocking(self) -> bool:
        return self.enforces is not None


def not_null(column: str, enforces: str | None = None) -> Rule:
    return Rule("not_null", column, enforces)


def unique(column: str, enforces: str | None = None) -> Rule:
    return Rule("unique", column, enforces)


def compound_unique(*columns: str, enforces: str | None = None) -> Rule:
    return Rule("compound_unique", tuple(columns), enforces)


def in_set(column: str, values, enforces: str | None = None) -> Rule:
    return Rule("in_set", column, enforces, value_set=tuple(values))


def not_in_set(column: str, values, enforces: str | None = None) -> Rule:
    return Rule("not_in_set", column, enforces, value_set=tuple(values))


def between(column: str, min_value=None, max_value=None, enforces: str | None = None, mostly: float = 1.0) -> Rule:
    return Rule("between", column, enforces, min_value=min_value, max_value=max_value, mostly=mostly)


def matches(column: str, regex: str, enforces: str | None = None, mostly: float = 1.0) -> Rule:
    return Rule("regex", column, enforces, regex=regex, mostly=mostly)


TS_MIN, TS_MAX = "1990-01-01T00:00:00", "2100-01-01T00:00:00"  # history goes back to the 1990s (CDNOW)

# plausible ranges on raw columns: the contract keeps implausible values, so these only warn
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


def _raw_rules(spec) -> list[Rule]:
    """What the loader guarantees of every loaded row: the contract sends the others to quarantine."""
    rules: list[Rule] = [not_null("_file_path", c.BAD_ROWS), between("_line", 1, None, c.BAD_ROWS)]
    for f in spec.fields:
        if f.required and f.type != "json":
            rules.append(not_null(f.name, c.REQUIRED))
        if f.enum:
            rules.append(in_set(f.name, f.enum, c.BAD_ROWS))
        if f.non_negative:
            rules.append(between(f.name, 0, None, c.BAD_ROWS))
        if f.type == "timestamp":
            rules.append(between(f.name, TS_MIN, TS_MAX))
        if (spec.name, f.name) in RAW_RANGES:
            rules.append(between(f.name, *RAW_RANGES[(spec.name, f.name)]))
    return rules


MART_RULES: dict[str, list[Rule]] = {
    "marts.dim_customer": [
        not_null("customer_id", c.DIM_CUSTOMER), unique("customer_id", c.DIM_CUSTOMER),
        between("source_count", 1, 8, c.IDENTITY_SOURCES),
        not_null("consent_email"), not_null("consent_sms"), not_null("consent_post"),
        matches("email", EMAIL, mostly=0.99), matches("phone", E164),
    ],
    "marts.customer_identity_map": [
        in_set("source", SOURCES, c.IDENTITY_SOURCES), not_null("source_record_id", c.IDENTITY_MAP),
        compound_unique("source", "source_record_id", enforces=c.IDENTITY_MAP),
        between("match_confidence", 0, 1), not_null("match_rule"),
    ],
    "marts.fct_order_lines": [
        not_null("order_id", c.ORDER_LINES), not_null("line_no", c.ORDER_LINES),
        in_set("channel", ["web", "store"], c.ORDER_CHANNELS),
        compound_unique("channel", "order_id", "line_no", enforces=c.ORDER_LINES),
        not_null("net_amount", c.LINE_NET), not_in_set("quantity", [0]), between("ordered_at", TS_MIN, TS_MAX),
    ],
    "marts.fct_customer_rfm": [
        not_null("customer_id", c.RFM), compound_unique("customer_id", "snapshot_date", enforces=c.RFM),
        between("r_score", 1, 5, c.RFM_SCORES), between("f_score", 1, 5, c.RFM_SCORES),
        between("m_score", 1, 5, c.RFM_SCORES), between("frequency", 1, None, c.RFM_FREQUENCY),
        between("recency_days", 0, None, c.RFM_RECENCY),
        between("monetary", 0, None, mostly=0.99),  # returns can exceed purchases for a few people
        not_null("rfm_segment"),
    ],
    "marts.customer_scores": [
        not_null("customer_id", c.SCORES), unique("customer_id", c.SCORES),
        between("purchase_propensity", 0, 1, c.PROPENSITY), not_null("purchase_propensity", c.PROPENSITY),
        between("expected_value_12m", 0, None), not_null("segment"), not_null("model_version"),
        between("p_alive", 0, 1), between("expected_purchases_12m", 0, None),
    ],
}


def _dates(*columns: str) -> list[Rule]:
    """Timestamps far in the past or future are kept by the contract: they only warn."""
    return [between(col, TS_MIN, TS_MAX) for col in columns]


# Staging: the rows the loader kept, cleaned. Keys and enums are the contract's; normalised
# identifiers (lower-case e-mail keys, E.164 phones) and plausible dates are the cleaning's
# quality, reported but never blocking (a typed oddity is the contract's to allow).
BIRTH_DATES = ("1900-01-01T00:00:00", TS_MAX)
STAGING_RULES: dict[str, list[Rule]] = {
    "staging.stg_crm__customers": [
        not_null("crm_id", c.REQUIRED), matches("email_key", EMAIL), matches("phone_e164", E164),
        between("birth_date", *BIRTH_DATES), *_dates("created_at", "updated_at"), not_null("consent_email"),
    ],
    "staging.stg_ecommerce__accounts": [
        not_null("account_id", c.REQUIRED), matches("email_key", EMAIL), matches("phone_e164", E164),
        between("birth_date", *BIRTH_DATES), *_dates("updated_at"),
    ],
    "staging.stg_ecommerce__orders": [
        not_null("order_id", c.REQUIRED), matches("guest_email_key", EMAIL), *_dates("ordered_at"),
        in_set("status", ["placed", "shipped", "delivered", "cancelled", "returned"], c.BAD_ROWS),
        in_set("currency", ["EUR"], c.CURRENCY),
    ],
    "staging.stg_ecommerce__order_lines": [
        not_null("order_id", c.REQUIRED), not_null("sku", c.PURCHASE_LINE), not_in_set("quantity", [0]),
        between("unit_price", 0, None, c.BAD_ROWS), not_null("net_amount", c.LINE_NET),
    ],
    "staging.stg_pos__receipt_lines": [
        not_null("receipt_id", c.REQUIRED), not_null("sku", c.PURCHASE_LINE),
        between("unit_price", 0, None, c.BAD_ROWS), not_null("net_amount", c.LINE_NET), *_dates("purchased_at"),
    ],
    "staging.stg_callcenter__calls": [not_null("call_id", c.REQUIRED), matches("caller_phone_e164", E164),
                                      *_dates("called_at")],
    "staging.stg_esp__events": [
        not_null("event_id", c.REQUIRED), matches("recipient_email_key", EMAIL),
        matches("recipient_phone_e164", E164), *_dates("occurred_at"),
        in_set("recipient_kind", ["email", "phone", "unknown"]),
    ],
    "staging.stg_forms__signups": [not_null("signup_id", c.REQUIRED), matches("email_key", EMAIL),
                                   between("nps", 0, 10), *_dates("submitted_at")],
    "staging.stg_partners__email_appends": [not_null("crm_id", c.REQUIRED), matches("appended_email_key", EMAIL)],
    "staging.stg_privacy__requests": [in_set("request_type", ["erasure", "objection", "access"], c.BAD_ROWS),
                                      matches("email_key", EMAIL), matches("phone_e164", E164)],
    "staging.stg_web__events": [not_null("event_id", c.REQUIRED), *_dates("occurred_at")],
}

# Model outputs beyond the scores themselves.
MODEL_RULES: dict[str, list[Rule]] = {
    "marts.segment_profiles": [not_null("segment", c.SCORES), between("share", 0, 1, c.SCORES),
                               between("customers", 1, None, c.SCORES)],
    "marts.ml_model_registry": [not_null("model_version", c.SCORES), between("roc_auc", 0, 1),
                                between("n_train", 1, None), between("brier", 0, 1)],
}


AUDIENCE_CHANNELS = ("email", "sms", "post")


def _zero(*metrics: str, enforces: str) -> list[Rule]:
    return [between(m, 0, 0, enforces) for m in metrics]


# What an ordinary night validates instead of a whole table (a weekly whole-scope night, a full
# refresh, a first build, a replay or a missed night validate whole tables; see
# orchestration/defs/quality.py): the staging rows derived from tonight's loads ($loaded_since:
# when this run's first file was loaded), tonight's RFM snapshot. Tables not listed (small ones,
# those rebuilt whole every night) are always validated whole.
NIGHT_ROWS: dict[str, str] = {
    **{f"staging.{t}": "loaded_at >= $loaded_since" for t in (
        "stg_crm__customers", "stg_ecommerce__accounts", "stg_ecommerce__orders", "stg_pos__receipt_lines",
        "stg_callcenter__calls", "stg_esp__events", "stg_web__events")},
    # web order lines have no load time of their own: the lines of the orders loaded tonight
    "staging.stg_ecommerce__order_lines":
        "order_id IN (SELECT order_id FROM staging.stg_ecommerce__orders WHERE loaded_at >= $loaded_since)",
    "marts.fct_customer_rfm": "snapshot_date = $as_of",
}


def _duplicates(table: str, key: str) -> str:
    return f"(SELECT count(*) - count(DISTINCT {key}) FROM {table})"


def _night_duplicates(table: str, key: str) -> str:
    """Duplicates among the keys of tonight's rows (older keys were checked on their night)."""
    if table not in NIGHT_ROWS:
        return _duplicates(table, key)
    return (f"(SELECT count(*) - count(DISTINCT {key}) FROM {table} "
            f"WHERE {key} IN (SELECT {key} FROM {table} WHERE {NIGHT_ROWS[table]}))")


STAGING_KEYS = {
    "duplicate_crm_ids": ("staging.stg_crm__customers", "crm_id"),
    "duplicate_account_ids": ("staging.stg_ecommerce__accounts", "account_id"),
    "duplicate_order_ids": ("staging.stg_ecommerce__orders", "order_id"),
    "duplicate_web_lines": ("staging.stg_ecommerce__order_lines", "order_id || '#' || line_no"),
    "duplicate_store_lines": ("staging.stg_pos__receipt_lines", "receipt_id || '#' || line_no"),
    "duplicate_esp_events": ("staging.stg_esp__events", "event_id"),
    "duplicate_web_events": ("staging.stg_web__events", "event_id"),
}


def _keys_sql(measure) -> str:
    return "SELECT " + ", ".join(f"{measure(t, k)} AS {name}" for name, (t, k) in STAGING_KEYS.items())


# name -> (SQL giving one row of measures, rules on them)
METRIC_SUITES: dict[str, tuple[str, list[Rule]]] = {
    "staging.keys": (_keys_sql(_duplicates), _zero(*STAGING_KEYS, enforces=c.UPSERT)),
    # every fact's customer is in dim_customer (RFM: tonight's snapshot; older snapshots keep the
    # ids of their night); revenue and lines reconcile with staging
    "marts.integrity": ("""
        WITH staged AS (
            SELECT count(*) AS lines, sum(net_amount) AS revenue FROM staging.stg_ecommerce__order_lines
            UNION ALL SELECT count(*), sum(net_amount) FROM staging.stg_pos__receipt_lines)
        SELECT
          (SELECT count(*) FROM marts.fct_order_lines f WHERE f.customer_id IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM marts.dim_customer d WHERE d.customer_id = f.customer_id))
              AS order_lines_without_customer,
          (SELECT count(*) FROM marts.fct_customer_rfm f WHERE f.snapshot_date = $as_of
              AND NOT EXISTS (SELECT 1 FROM marts.dim_customer d WHERE d.customer_id = f.customer_id))
              AS rfm_rows_without_customer,
          (SELECT count(*) FROM marts.customer_identity_map f WHERE f.customer_id IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM marts.dim_customer d WHERE d.customer_id = f.customer_id))
              AS map_rows_without_customer,
          (SELECT count(*) FROM marts.fct_order_lines) - (SELECT sum(lines) FROM staged) AS lines_minus_staged,
          abs(coalesce((SELECT sum(net_amount) FROM marts.fct_order_lines), 0)
              - coalesce((SELECT sum(revenue) FROM staged), 0))::DOUBLE AS revenue_gap_eur""",
                        [*_zero("order_lines_without_customer", "rfm_rows_without_customer",
                                "map_rows_without_customer", "lines_minus_staged", enforces=c.ORDER_LINES),
                         between("revenue_gap_eur", 0, 0.005, c.ORDER_LINES)]),
    "marts.scores_integrity": ("""SELECT
          (SELECT count(*) FROM marts.customer_scores s
              WHERE NOT EXISTS (SELECT 1 FROM marts.dim_customer d WHERE d.customer_id = s.customer_id))
              AS scores_without_customer,
          (SELECT count(*) FROM marts.dim_customer d
              WHERE NOT EXISTS (SELECT 1 FROM marts.customer_scores s WHERE s.customer_id = d.customer_id))
              AS customers_without_score,
          (SELECT abs(sum(share) - 1) FROM marts.segment_profiles
              WHERE snapshot_date = (SELECT max(snapshot_date) FROM marts.segment_profiles)) AS segment_share_gap""",
                                [*_zero("scores_without_customer", "customers_without_score", enforces=c.SCORES),
                                 between("segment_share_gap", 0, 0.001, c.SCORES)]),  # shares are rounded to 4 decimals
    # the audience honours erasure, objection, consent and contact points, measured on the
    # published tables themselves (not on the rules that built them), and every customer gets one
    # decision per channel: in the audience or excluded with a reason
    "marts.audience_compliance": (f"""SELECT
          count(*) FILTER (WHERE d.customer_id IS NULL) AS audience_without_customer,
          count(*) FILTER (WHERE d.is_erased) AS audience_erased,
          count(*) FILTER (WHERE d.is_objected) AS audience_objected,
          count(*) FILTER (WHERE NOT coalesce(CASE a.channel WHEN 'email' THEN d.consent_email
              WHEN 'sms' THEN d.consent_sms WHEN 'post' THEN d.consent_post END, false)) AS audience_without_consent,
          count(*) FILTER (WHERE (CASE a.channel WHEN 'email' THEN d.email WHEN 'sms' THEN d.phone
              WHEN 'post' THEN d.address_line END) IS NULL) AS audience_without_contact_point,
          (SELECT count(*) FROM marts.marketing_audience) + (SELECT count(*) FROM marts.marketing_audience_exclusions)
              - {len(AUDIENCE_CHANNELS)} * (SELECT count(*) FROM marts.dim_customer) AS decisions_minus_expected
        FROM marts.marketing_audience a LEFT JOIN marts.dim_customer d USING (customer_id)""",
                                   [*_zero("audience_erased", enforces=c.ERASURE),
                                    # an objection sets consents to false: no consent, no audience
                                    *_zero("audience_without_customer", "audience_objected", "audience_without_consent",
                                           "audience_without_contact_point", "decisions_minus_expected",
                                           enforces=c.OBJECTION)]),
}

# the SQL of a metric suite on an ordinary night, where it differs from METRIC_SUITES
METRIC_NIGHT_SQL: dict[str, str] = {"staging.keys": _keys_sql(_night_duplicates)}

SUITES: dict[str, list[Rule]] = ({f"raw.{e.name}": _raw_rules(e) for e in ENTITIES} | STAGING_RULES | MART_RULES
                                  | MODEL_RULES | {name: rules for name, (_, rules) in METRIC_SUITES.items()})
