"""Python ML assets downstream of the marts (group `models`)."""


import dagster as dg

from ..resources import DatamartResource
from .ingestion import OWNER, WAREHOUSE_POOL

SCORES_TABLE = "marts.customer_scores"


@dg.asset(
    key=["marts", "customer_scores"],
    group_name="models",
    kinds={"sklearn", "duckdb"},
    owners=["team:data-science"],
    pool=WAREHOUSE_POOL,
    deps=[dg.AssetKey(["marts", "dim_customer"]), dg.AssetKey(["marts", "fct_order_lines"])],
    description=(
        "Propensity to buy within 90 days (trained on an earlier cutoff, evaluated on a later "
        "one), expected 12-month value and a behavioural segment for every customer, as of the "
        "night. Metrics of the held-out evaluation are in the metadata."
    ),
)
def customer_scores(context: dg.AssetExecutionContext, datamart: DatamartResource) -> dg.MaterializeResult:
    from models_ml.scoring import build_customer_scores  # sklearn import is slow: load lazily

    s = datamart.settings()
    with datamart.connect() as con:
        scores, metrics = build_customer_scores(con, s.as_of)
        con.register("_scores_df", scores)
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.execute(f"CREATE OR REPLACE TABLE {SCORES_TABLE} AS SELECT * FROM _scores_df")
        con.unregister("_scores_df")
        rows = con.execute(f"SELECT count(*) FROM {SCORES_TABLE}").fetchall()[0][0]
        pictures = _pictures(con, s.as_of, scores, metrics.pop("_evaluation", None))
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, **_flatten(metrics), **pictures})


def _pictures(con, as_of, scores, evaluation) -> dict:
    """RFM grid, segment profiles, gain/calibration and value distribution, as images and tables."""
    import numpy as np

    from .. import charts

    out = {}
    grid = con.execute("""
        SELECT r_score, f_score, count(*) FROM marts.fct_customer_rfm WHERE snapshot_date = ? GROUP BY ALL
    """, [as_of]).fetchall()
    if grid:
        m = np.zeros((5, 5))
        for r, f, n in grid:
            m[r - 1, f - 1] = n
        out["rfm_grid"] = charts.heatmap(m, [str(i) for i in range(1, 6)], [str(i) for i in range(1, 6)],
                                         "Customers per RFM cell", "frequency score", "recency score")
    profile = con.execute("""
        SELECT s.segment, count(*) AS customers, round(avg(r.recency_days), 0) AS recency_days,
               round(avg(r.frequency), 2) AS frequency, round(avg(r.monetary), 2) AS monetary,
               round(avg(s.purchase_propensity), 3) AS propensity, round(avg(s.expected_value_12m), 2) AS value_12m
        FROM marts.customer_scores s
        LEFT JOIN marts.fct_customer_rfm r ON r.customer_id = s.customer_id AND r.snapshot_date = s.snapshot_date
        GROUP BY s.segment ORDER BY customers DESC
    """).df()
    out["segment_profiles"] = charts.table(profile)
    if evaluation is not None:
        y, p = evaluation
        out["propensity_gain_and_calibration"] = charts.gain_and_calibration(
            np.asarray(y), np.asarray(p), "Propensity on the held-out cutoff")
    value = scores["expected_value_12m"].to_numpy()
    if len(value):
        out["value_distribution"] = charts.histogram(np.log10(1 + value), "Expected 12-month value",
                                                     "log10(1 + EUR)")
    return out


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, f"{key}."))
        elif isinstance(v, (int, float, str, bool)) or v is None:
            out[key] = v
        else:
            out[key] = dg.MetadataValue.json(v) if isinstance(v, list) else str(v)
    return out
