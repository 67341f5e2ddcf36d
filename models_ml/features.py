"""Point-in-time customer features, computed inside DuckDB from facts dated on or before a cutoff.

Purchases come from marts.fct_order_lines and e-mail reactivity from marts.fct_message_events;
when the working warehouse also holds the silos' staging tables, web intent (key pages, quotes
started) and calls/complaints are joined through the identity map; declared data comes from
dim_customer.
Facts dated after the cutoff never enter a feature (only the label).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import duckdb
import pandas as pd

from orchestration.warehouse import table_exists

BASE = ["recency_days", "frequency", "monetary", "tenure_days", "avg_basket", "purchases_90d",
        "purchases_365d", "spend_365d", "store_share", "days_since_first_seen", "has_purchased",
        "mean_interpurchase_days", "returns_365d"]
OPTIONAL = {
    "email": ["emails_received_365d", "email_open_rate", "email_click_rate"],
    "web": ["key_page_views_90d", "quotes_started_90d"],
    "calls": ["calls_365d", "complaints_365d"],
    "declared": ["age", "household_size", "children_count"],
}
FEATURES = BASE + [f for group in OPTIONAL.values() for f in group]

_PURCHASES = """
WITH purchases AS (
    SELECT customer_id, channel, order_id, max(order_date) AS order_date, sum(net_amount) AS amount
    FROM marts.fct_order_lines
    WHERE is_purchase AND customer_id IS NOT NULL AND order_date <= $cutoff
    GROUP BY customer_id, channel, order_id
), per_customer AS (
    SELECT customer_id,
           date_diff('day', max(order_date), $cutoff) AS recency_days,
           count(*) AS frequency,
           sum(amount) AS monetary,
           date_diff('day', min(order_date), $cutoff) AS tenure_days,
           CAST(sum(amount) AS DOUBLE) / count(*) AS avg_basket,  -- a double on both engines (Spark averages a decimal into 6 places)
           count(*) FILTER (WHERE order_date > $cutoff - INTERVAL 90 DAY) AS purchases_90d,
           count(*) FILTER (WHERE order_date > $cutoff - INTERVAL 365 DAY) AS purchases_365d,
           coalesce(sum(amount) FILTER (WHERE order_date > $cutoff - INTERVAL 365 DAY), 0) AS spend_365d,
           avg(CASE WHEN channel = 'store' THEN 1 ELSE 0 END) AS store_share,
           CASE WHEN count(DISTINCT order_date) > 1
                THEN date_diff('day', min(order_date), max(order_date)) / (count(DISTINCT order_date) - 1) END
               AS mean_interpurchase_days
    FROM purchases GROUP BY customer_id
), returns AS (
    -- store returns are dated on the return day: no look-ahead
    SELECT customer_id, count(*) AS returns_365d FROM marts.fct_order_lines
    WHERE customer_id IS NOT NULL AND net_amount < 0 AND order_date <= $cutoff
      AND order_date > $cutoff - INTERVAL 365 DAY
    GROUP BY customer_id
), label AS (
    SELECT DISTINCT customer_id FROM marts.fct_order_lines
    WHERE is_purchase AND customer_id IS NOT NULL
      AND order_date > $cutoff AND order_date <= $cutoff + INTERVAL 90 DAY
)
"""

# the e-mail events' fact already carries the customer: no join of a year of recipients (at 1M
# customers 3.8 s against 1.1 s warm, 4.8 s against 1.8 s cold, the same rows)
_EMAIL = """, email AS (
    SELECT e.customer_id,
           count(*) FILTER (WHERE e.event_type = 'sent') AS emails_received_365d,
           count(*) FILTER (WHERE e.event_type = 'open') / greatest(count(*) FILTER (WHERE e.event_type = 'sent'), 1)
               AS email_open_rate,
           count(*) FILTER (WHERE e.event_type = 'click') / greatest(count(*) FILTER (WHERE e.event_type = 'sent'), 1)
               AS email_click_rate
    FROM marts.fct_message_events e
    WHERE e.event_date <= $cutoff AND e.event_date > $cutoff - INTERVAL 365 DAY AND e.customer_id IS NOT NULL
    GROUP BY e.customer_id
)"""
_WEB = """, web AS (
    SELECT m.customer_id,
           count(*) FILTER (WHERE w.event_type = 'key_page_view') AS key_page_views_90d,
           count(*) FILTER (WHERE w.event_type = 'quote_started') AS quotes_started_90d
    FROM staging.stg_web__events w
    JOIN marts.customer_identity_map m ON m.source = 'web' AND m.source_record_id = w.anonymous_id
    WHERE w.event_date <= $cutoff AND w.event_date > $cutoff - INTERVAL 90 DAY AND m.customer_id IS NOT NULL
    GROUP BY m.customer_id
)"""
_CALLS = """, calls AS (
    SELECT m.customer_id, count(*) AS calls_365d,
           count(*) FILTER (WHERE c.reason = 'complaint') AS complaints_365d
    FROM staging.stg_callcenter__calls c
    JOIN marts.customer_identity_map m ON m.source = 'callcenter' AND m.source_record_id = c.caller_phone_raw
    WHERE c.call_date <= $cutoff AND c.call_date > $cutoff - INTERVAL 365 DAY AND m.customer_id IS NOT NULL
    GROUP BY m.customer_id
)"""


def _has_column(con, qualified: str, column: str) -> bool:
    if hasattr(con, "has_column"):  # another engine's connection (orchestration/engines/spark_sql.py)
        return con.has_column(qualified, column)
    schema, name = qualified.split(".")
    return con.execute("SELECT count(*) FROM information_schema.columns WHERE table_schema=? AND table_name=? "
                       "AND column_name=?", [schema, name, column]).fetchall()[0][0] > 0


def features_as_of(con: duckdb.DuckDBPyConnection, cutoff: dt.date) -> pd.DataFrame:
    """One row per customer known at `cutoff`: features from facts up to it, and the label
    (a purchase within the 90 days after it; only meaningful for cutoffs at least 90 days old)."""
    return con.execute(features_sql(con), {"cutoff": cutoff}).df()


def features_sql(con) -> str:
    """The query of features_as_of, its cutoff the parameter `$cutoff`. Plain SQL in DuckDB's
    dialect: on the Spark engine it runs there (orchestration/engines/models_spark.py)."""
    mapped = table_exists(con, "marts.customer_identity_map")
    parts = {"email": table_exists(con, "marts.fct_message_events"),
             "web": mapped and table_exists(con, "staging.stg_web__events"),
             "calls": mapped and table_exists(con, "staging.stg_callcenter__calls"),
             "declared": _has_column(con, "marts.dim_customer", "household_size")}
    ctes = _PURCHASES + (_EMAIL if parts["email"] else "") + (_WEB if parts["web"] else "") + \
        (_CALLS if parts["calls"] else "")
    cols = [
        "coalesce(p.recency_days, 9999)::DOUBLE AS recency_days",
        *(f"coalesce(p.{c}, 0)::DOUBLE AS {c}" for c in ("frequency", "monetary", "tenure_days", "avg_basket",
                                                          "purchases_90d", "purchases_365d", "spend_365d",
                                                          "store_share", "mean_interpurchase_days")),
        "greatest(date_diff('day', CAST(d.first_seen_at AS DATE), $cutoff), 0)::DOUBLE AS days_since_first_seen",
        "(p.customer_id IS NOT NULL)::DOUBLE AS has_purchased",
        "coalesce(r.returns_365d, 0)::DOUBLE AS returns_365d",
    ]
    joins = ["LEFT JOIN per_customer p USING (customer_id)", "LEFT JOIN returns r USING (customer_id)",
             "LEFT JOIN label l USING (customer_id)"]
    for group, alias in (("email", "email"), ("web", "web"), ("calls", "calls")):
        for f in OPTIONAL[group]:
            cols.append(f"coalesce({alias}.{f}, 0)::DOUBLE AS {f}" if parts[group] else f"0::DOUBLE AS {f}")
        if parts[group]:
            joins.append(f"LEFT JOIN {alias} USING (customer_id)")
    if parts["declared"]:
        # years between the two dates' years (DuckDB's date_diff('year'); Spark's counts whole years)
        cols += ["coalesce(year($cutoff) - year(d.birth_date), -1)::DOUBLE AS age",
                 "coalesce(d.household_size, 0)::DOUBLE AS household_size",
                 "coalesce(d.children_count, 0)::DOUBLE AS children_count"]
    else:
        cols += ["-1::DOUBLE AS age", "0::DOUBLE AS household_size", "0::DOUBLE AS children_count"]
    sql = (ctes + "SELECT d.customer_id, " + ", ".join(cols) + ", (l.customer_id IS NOT NULL) AS label "
           "FROM marts.dim_customer d " + " ".join(joins) +
           " WHERE d.first_seen_at IS NULL OR CAST(d.first_seen_at AS DATE) <= $cutoff"
           " ORDER BY d.customer_id")  # a stable row order: same sample, same fit, same scores
    return sql


FIT_SAMPLE_ROWS = 300_000  # a fit reads at most this many customers of a cutoff (sample_sql)


def sample_sql(sql: str, rows: int, seed: int) -> str:
    """At most `rows` rows of `sql` (a query with a customer_id), in customer order: those whose
    md5 of customer id and seed comes first. The engine draws it, so a fit never pulls everyone
    into this process, and the same customers are drawn on DuckDB and on Spark. With fewer
    customers than `rows` it is every row, as `sql` gives them."""
    return (f"SELECT * FROM (SELECT * FROM ({sql}) AS everyone "
            f"ORDER BY md5(concat(customer_id, '#{int(seed)}')) LIMIT {int(rows)}) AS sampled "
            "ORDER BY customer_id")


def features_sample(con: duckdb.DuckDBPyConnection, seed: int = 0):
    """features_as_of for a fit: a cutoff's features of at most FIT_SAMPLE_ROWS customers (sample_sql)."""
    sql = sample_sql(features_sql(con), FIT_SAMPLE_ROWS, seed)

    def features(cutoff: dt.date) -> pd.DataFrame:
        return con.execute(sql, {"cutoff": cutoff}).df()
    return features


# The features the Spark engine computed for tonight's cutoffs (orchestration/engines/models_spark.py)
ENGINE_FEATURES = "ml.customer_features"


def engine_features(con: duckdb.DuckDBPyConnection, computed: Iterable[dt.date]):
    """features_sample, read from the rows the engine drew (ENGINE_FEATURES) for the cutoffs
    `computed`; another cutoff is an error, not an empty frame (which means: nobody known yet)."""
    computed = set(computed)

    def features(cutoff: dt.date) -> pd.DataFrame:
        if cutoff not in computed:
            raise LookupError(f"the engine computed no features for the cutoff {cutoff}")
        return con.execute(f"SELECT * EXCLUDE (cutoff) FROM {ENGINE_FEATURES} WHERE cutoff = ? "
                           f"ORDER BY customer_id", [cutoff]).df()
    return features
