"""Python ML assets downstream of the marts (group `models`)."""

from functools import partial

import dagster as dg

from ..engines import engine, models_spark
from ..resources import DatamartResource
from .ingestion import WAREHOUSE_POOL

SCORES_TABLE = "marts.customer_scores"
SCORES_KEY = dg.AssetKey(["marts", "customer_scores"])


class ScoringConfig(dg.Config):
    """Launchpad options of the scoring step."""

    retrain: bool = False  # retrain the propensity model tonight (otherwise weekly)
    random_state: int = 0


@dg.asset(
    key=SCORES_KEY,
    group_name="models",
    kinds={"sklearn", "duckdb"},
    owners=["team:data-science"],
    pool=WAREHOUSE_POOL,
    deps=[dg.AssetKey(["marts", "dim_customer"]), dg.AssetKey(["marts", "fct_order_lines"])],
    description=(
        "Propensity to buy within 90 days (time-based backtest picks the model; retrained weekly or on "
        "demand, artefacts versioned in marts.ml_model_registry), expected 12-month value, P(alive) and "
        "expected purchases (BG/NBD + Gamma-Gamma, fitted with the propensity model), and segments three ways (KMeans on RFM, a decision "
        "tree's readable rules, life stage from declared data). Profiles in marts.segment_profiles."
    ),
    check_specs=[
        dg.AssetCheckSpec("every_customer_scored", asset=SCORES_KEY, blocking=True,
                          description="One score row per customer of dim_customer, none for anyone else."),
        dg.AssetCheckSpec("propensity_beats_recency_baseline", asset=SCORES_KEY, blocking=True,
                          description="The deployed model's AUC on the latest labelled cutoff is not below "
                                      "recency alone."),
        dg.AssetCheckSpec("feature_drift", asset=SCORES_KEY, blocking=True,
                          description="No behavioural feature's population stability index against the "
                                      "training snapshot is above 0.25 (recency alone only warns)."),
    ],
)
def customer_scores(context: dg.AssetExecutionContext, config: ScoringConfig, datamart: DatamartResource):
    from models_ml.scoring import PROFILES_TABLE, build_customer_scores  # sklearn import is slow: load lazily

    s = datamart.settings()
    on_spark = engine() == "spark"
    with datamart.connect() as con:
        # on Spark the samples are drawn and every customer is scored there (engines/models_spark.py)
        engine_inputs = models_spark.run(con, s.home, s.as_of, config.random_state) if on_spark else {}
        apply = partial(models_spark.apply_on_spark, con, s.home, timings=engine_inputs) if on_spark else None
        metrics = build_customer_scores(con, s.as_of, config.random_state, model_dir=s.home / "models" / "propensity",
                                        retrain=config.retrain, from_engine=on_spark, apply=apply)
        rows = con.execute(f"SELECT count(*) FROM {SCORES_TABLE}").fetchall()[0][0]
        unscored, strangers = con.execute(f"""
            SELECT count(*) FILTER (WHERE s.customer_id IS NULL), count(*) FILTER (WHERE d.customer_id IS NULL)
            FROM marts.dim_customer d FULL JOIN {SCORES_TABLE} s USING (customer_id)""").fetchall()[0]
        profiles = con.execute(f"SELECT * FROM {PROFILES_TABLE}").df()  # a row per segment
        pictures = _pictures(con, s.as_of, metrics.pop("_evaluation", None), profiles)
    guards = metrics["guards"]
    yield dg.MaterializeResult(metadata={"dagster/row_count": rows, **_flatten(metrics), **engine_inputs,
                                         **pictures})
    yield dg.AssetCheckResult(check_name="every_customer_scored", passed=unscored == 0 and strangers == 0,
                              metadata={"customers_without_score": unscored, "scores_without_customer": strangers})
    beats = guards["beats_baseline"]
    yield dg.AssetCheckResult(
        check_name="propensity_beats_recency_baseline", passed=beats is not False,
        metadata={"deployed_model_roc_auc": guards["deployed_model_roc_auc"],
                  "recency_baseline_roc_auc": guards["recency_baseline_roc_auc"],
                  "note": "no labelled cutoff yet" if beats is None else ""})
    yield dg.AssetCheckResult(
        check_name="feature_drift", passed=not guards["drifted_features"],
        # behavioural drift blocks the night; recency drifting alone (the calendar) warns
        severity=dg.AssetCheckSeverity.ERROR if guards["blocking_drift"] else dg.AssetCheckSeverity.WARN,
        metadata={"max_feature_psi": guards["max_feature_psi"],
                  "drifted_features": ", ".join(guards["drifted_features"]) or "none",
                  "blocking_drift": ", ".join(guards["blocking_drift"]) or "none"})


def _pictures(con, as_of, evaluation, profiles) -> dict:
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
    out["segment_profiles"] = charts.table(profiles.drop(columns=["snapshot_date"]).round(2))
    if evaluation is not None:
        y, p = evaluation
        out["propensity_gain_and_calibration"] = charts.gain_and_calibration(
            np.asarray(y), np.asarray(p), "Propensity on the held-out cutoff")
    # the value distribution of at most 100,000 customers: a picture, not every row in this process
    value = con.execute(f"SELECT expected_value_12m FROM {SCORES_TABLE} USING SAMPLE 100000 ROWS (reservoir, 0)"
                        ).fetchnumpy()["expected_value_12m"]
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
