"""Point-in-time customer features, computed inside DuckDB from facts dated on or before a cutoff."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

FEATURES = ["recency_days", "frequency", "monetary", "tenure_days", "avg_basket", "purchases_90d",
            "purchases_365d", "spend_365d", "store_share", "days_since_first_seen", "has_purchased"]

_SQL = """
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
           avg(amount) AS avg_basket,
           count(*) FILTER (WHERE order_date > $cutoff - INTERVAL 90 DAY) AS purchases_90d,
           count(*) FILTER (WHERE order_date > $cutoff - INTERVAL 365 DAY) AS purchases_365d,
           coalesce(sum(amount) FILTER (WHERE order_date > $cutoff - INTERVAL 365 DAY), 0) AS spend_365d,
           avg(CASE WHEN channel = 'store' THEN 1.0 ELSE 0.0 END) AS store_share
    FROM purchases GROUP BY customer_id
), label AS (
    SELECT DISTINCT customer_id FROM marts.fct_order_lines
    WHERE is_purchase AND customer_id IS NOT NULL
      AND order_date > $cutoff AND order_date <= $cutoff + INTERVAL 90 DAY
)
SELECT d.customer_id,
       coalesce(p.recency_days, 9999)::DOUBLE AS recency_days,
       coalesce(p.frequency, 0)::DOUBLE AS frequency,
       coalesce(p.monetary, 0)::DOUBLE AS monetary,
       coalesce(p.tenure_days, 0)::DOUBLE AS tenure_days,
       coalesce(p.avg_basket, 0)::DOUBLE AS avg_basket,
       coalesce(p.purchases_90d, 0)::DOUBLE AS purchases_90d,
       coalesce(p.purchases_365d, 0)::DOUBLE AS purchases_365d,
       coalesce(p.spend_365d, 0)::DOUBLE AS spend_365d,
       coalesce(p.store_share, 0)::DOUBLE AS store_share,
       greatest(date_diff('day', CAST(d.first_seen_at AS DATE), $cutoff), 0)::DOUBLE AS days_since_first_seen,
       (p.customer_id IS NOT NULL)::DOUBLE AS has_purchased,
       (l.customer_id IS NOT NULL) AS label
FROM marts.dim_customer d
LEFT JOIN per_customer p USING (customer_id)
LEFT JOIN label l USING (customer_id)
WHERE d.first_seen_at IS NULL OR CAST(d.first_seen_at AS DATE) <= $cutoff
"""


def features_as_of(con: duckdb.DuckDBPyConnection, cutoff: dt.date) -> pd.DataFrame:
    """One row per customer known at `cutoff`: features from facts up to it, and the label
    (a purchase within the 90 days after it; only meaningful for cutoffs at least 90 days old)."""
    return con.execute(_SQL, {"cutoff": cutoff}).df()
