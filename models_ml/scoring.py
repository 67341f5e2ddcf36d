"""The night's scores: fitted on samples here, applied to every customer by the engine.

A night has two halves:

- **fit** (`fit_night`, in this process): the propensity model (trained weekly, else the
  deployed one), the value model's parameters, the segments and the decision rules, the guards
  and the drift, all from samples of at most FIT_SAMPLE_ROWS customers the engine draws
  (features.sample_sql). Its result, `NightModels`, is small and picklable.
- **apply** (`apply_night`, a pure function of a chunk of customers): every customer of
  dim_customer gets their scores from their own features and purchase history. On DuckDB it runs
  here over the query's record batches (`apply_in_duckdb`); on Spark it runs on the executors as
  a pandas UDF (orchestration/engines/models_spark.py). Either way no process holds every
  customer's features.

`finish_night` turns the scored rows into marts.customer_scores and marts.segment_profiles with
SQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from . import registry
from .features import FEATURES, FIT_SAMPLE_ROWS, engine_features, features_sample, features_sql, sample_sql
from .propensity import (
    HORIZON_DAYS,
    SCORE_CHUNK_ROWS,
    TrainedPropensity,
    drift,
    engine_cutoffs,
    evaluate,
    predict_in_chunks,
    train,
)
from .segmentation import RFM, Rules, Segments, fit_rules, fit_segments, life_stage
from .value import ENGINE_VALUE_INPUTS, VALUE_COLUMNS, VALUE_INPUTS_SQL, ValueModel, fit_value
from .value import MAX_FIT_ROWS as VALUE_FIT_ROWS

MAX_PSI = 0.25  # population stability index above which a feature has shifted too much
# Recency moves with the calendar in a closed or young cohort (everyone ages by the 90-day
# horizon between the training snapshot and tonight): its drift is reported as a warning.
# A shift in what customers do (frequency, spend, basket, channel mix) blocks the night.
# How many e-mails someone received is marketing's calendar, not the customer's behaviour.
CALENDAR_DRIFT = {"recency_days", "emails_received_365d"}
MIN_ROWS_FOR_BLOCKING_DRIFT = 1000  # PSI on a few hundred customers is mostly noise: warn only

SCORES_TABLE = "marts.customer_scores"
PROFILES_TABLE = "marts.segment_profiles"
SCORED = "ml.scored_customers"  # the applied rows, before finish_night (a work table)
# the published columns, then what the profiles read
SCORE_COLUMNS = {"customer_id": "VARCHAR", "snapshot_date": "DATE", "purchase_propensity": "DOUBLE",
                 "expected_value_12m": "DOUBLE", "segment": "VARCHAR", "model_version": "VARCHAR",
                 "p_alive": "DOUBLE", "expected_purchases_12m": "DOUBLE", "segment_rule": "VARCHAR",
                 "segment_life_stage": "VARCHAR"}
SCORED_COLUMNS = {**SCORE_COLUMNS, **{c: "DOUBLE" for c in RFM}}
DECLARED_FILL = {"age": -1, "household_size": 0, "children_count": 0}
RFM_FILL = {"recency_days": 9999, "frequency": 0, "monetary": 0, "has_purchased": 0}


@dataclass
class NightModels:
    """Everything a chunk of customers needs to be scored for the night."""

    as_of: dt.date
    version: str
    propensity: TrainedPropensity | None  # None: the documented fallback on recent purchases
    fill_propensity: float  # for a customer without features (not known at the night's cutoff)
    segments: Segments
    rules: Rules
    value: ValueModel | None


def propensity_of(model: TrainedPropensity | None, features: pd.DataFrame) -> np.ndarray:
    """P(purchase within 90 days) of each row of features."""
    if model is None:
        # Too little history for a backtest: the customer's recent purchases, a documented heuristic.
        p = np.where(features["purchases_90d"] > 0, 0.5, np.where(features["has_purchased"] > 0, 0.2, 0.05))
    else:
        p = predict_in_chunks(model, features)
    return np.clip(p, 0, 1)


def apply_night(night: NightModels, rows: pd.DataFrame) -> pd.DataFrame:
    """SCORED_COLUMNS of a chunk of scoring_input_sql's rows (one per customer)."""
    rows = rows.reset_index(drop=True)
    known = rows["known"].astype(bool).to_numpy()
    p = np.full(len(rows), night.fill_propensity, dtype=float)
    if known.any():
        p[known] = propensity_of(night.propensity, rows[known])
    feats = rows.fillna(RFM_FILL).fillna(DECLARED_FILL)
    value = pd.DataFrame(np.nan, index=rows.index, columns=VALUE_COLUMNS)
    buyers = rows["x"].notna()
    if night.value is not None and buyers.any():
        value.loc[buyers] = night.value.apply(rows[buyers])
    return pd.DataFrame({
        "customer_id": rows["customer_id"].astype(str),
        "snapshot_date": night.as_of,
        "purchase_propensity": p,
        "expected_value_12m": value["expected_value_12m"].fillna(0.0).astype(float),
        "segment": night.segments.assign(feats).astype(str),
        "model_version": night.version,
        "p_alive": value["p_alive"].astype(float),
        "expected_purchases_12m": value["expected_purchases_12m"].fillna(0.0).astype(float),
        "segment_rule": night.rules.assign(feats).astype(str),
        "segment_life_stage": life_stage(feats).astype(str),
        **{c: feats[c].astype(float) for c in RFM},
    })


def scoring_input_sql(con) -> str:
    """One row per customer of dim_customer: `known` (features at the night's cutoff exist), the
    features and the value model's inputs. Parameters `$cutoff` and `$as_of` (both the night).
    Plain SQL in DuckDB's dialect: on the Spark engine it runs there."""
    features = ", ".join(f"f.{c}" for c in FEATURES)
    return (f"SELECT c.customer_id, (f.customer_id IS NOT NULL) AS known, {features}, "
            "v.x, v.t_x, v.T, v.m "
            "FROM marts.dim_customer c "
            f"LEFT JOIN ({features_sql(con)}) AS f ON f.customer_id = c.customer_id "
            f"LEFT JOIN ({VALUE_INPUTS_SQL}) AS v ON v.customer_id = c.customer_id "
            "ORDER BY c.customer_id")


def value_sample_sql(seed: int) -> str:
    """The value model's fit sample (parameter `$as_of`)."""
    return sample_sql(VALUE_INPUTS_SQL, VALUE_FIT_ROWS, seed)


def fit_night(con, as_of: dt.date, random_state: int = 0, model_dir: Path | None = None, retrain: bool = False,
              from_engine: bool = False) -> tuple[NightModels, dict]:
    """The night's models and metadata, from samples the engine drew. `from_engine`: the samples
    are the tables the engine wrote (features.ENGINE_FEATURES, value.ENGINE_VALUE_INPUTS: the
    Spark engine) instead of queries run here."""
    if from_engine:
        features = engine_features(con, engine_cutoffs(as_of))
        value_sample = con.execute(f"SELECT * EXCLUDE (as_of) FROM {ENGINE_VALUE_INPUTS} ORDER BY customer_id").df()
    else:
        features = features_sample(con, random_state)
        value_sample = con.execute(value_sample_sql(random_state), {"as_of": as_of}).df()
    existing = registry.latest(con, model_dir) if model_dir else None
    trained = registry.needs_retraining(existing, as_of, retrain)
    model = train(con, as_of, random_state, features) if trained else existing
    if trained and model is not None and model_dir is not None:
        registry.save(model, model_dir)
        registry.register(con, model)
    now = features(as_of)
    # the latest labelled cutoff: the deployed model's guard, the decision rules and the
    # segments' future purchase rate all read it
    cut = as_of - dt.timedelta(days=HORIZON_DAYS)
    backtest = features(cut)
    guard = evaluate(model, backtest, cut) if model is not None else {}
    psi = drift(model, now) if model is not None else {}
    known_p = propensity_of(model, now) if len(now) else np.empty(0)
    segments = fit_segments(now, random_state)
    rules = fit_rules(backtest, random_state)
    # the value model keeps the propensity model's cadence: its parameters sit beside the artefact
    value_fit = registry.value_fit_path(model_dir, model) if model_dir is not None and model is not None else None
    value, v_meta = fit_value(value_sample, as_of, fit_path=value_fit, refit=trained)

    version = (model.version if model is not None else "propensity-fallback") + "+" + v_meta["model"]
    night = NightModels(as_of, version, model, float(np.median(known_p)) if len(known_p) else 0.0,
                        segments, rules, value)
    metrics = model.metrics if model is not None else {"model": "fallback_recent_rate",
                                                       "reason": "too little history for a time-based backtest"}
    meta = {
        "propensity": {"model": model.name if model else "fallback_recent_rate", "trained_tonight": trained,
                       **{k: v for k, v in metrics.items() if not k.startswith("_")}},
        "_evaluation": metrics.get("_evaluation") if trained else None,
        "model_version": version,
        "guards": {"deployed_model_roc_auc": guard.get("roc_auc"),
                   "recency_baseline_roc_auc": guard.get("baseline_recency_roc_auc"),
                   "beats_baseline": (guard["roc_auc"] >= guard["baseline_recency_roc_auc"]) if guard else None,
                   "max_feature_psi": round(max(psi.values()), 4) if psi else None,
                   "drifted_features": sorted(k for k, v in psi.items() if v > MAX_PSI),
                   "blocking_drift": sorted(k for k, v in psi.items() if v > MAX_PSI and k not in CALENDAR_DRIFT
                                            and len(now) >= MIN_ROWS_FOR_BLOCKING_DRIFT)},
        "segmentation": dict(segments.meta),
        "decision_rules": rules.meta,
        "value": v_meta,
        "fit_sample": {"customers_tonight": len(now), "customers_backtest": len(backtest),
                       "value_buyers": len(value_sample), "max_rows": FIT_SAMPLE_ROWS},
        "_future_rate": _future_rates(segments, backtest),
    }
    return night, meta


def apply_in_duckdb(con, night: NightModels, chunk: int | None = None) -> None:
    """SCORED from apply_night over scoring_input_sql's record batches, `chunk` rows at a time."""
    create_scored(con)
    # read on a cursor of its own: the chunks are written on `con` while the query streams
    reader = con.cursor().sql(scoring_input_sql(con), params={"cutoff": night.as_of, "as_of": night.as_of}) \
        .to_arrow_reader(chunk or SCORE_CHUNK_ROWS)
    for batch in reader:
        con.register("_scored_chunk", apply_night(night, batch.to_pandas()))
        con.execute(f"INSERT INTO {SCORED} BY NAME SELECT * FROM _scored_chunk")
        con.unregister("_scored_chunk")


def create_scored(con, select: str | None = None) -> None:
    """The work table SCORED: empty, or the rows of `select` with SCORED_COLUMNS' types."""
    con.execute("CREATE SCHEMA IF NOT EXISTS ml")
    if select is None:
        cols = ", ".join(f"{c} {t}" for c, t in SCORED_COLUMNS.items())
        con.execute(f"CREATE OR REPLACE TABLE {SCORED} ({cols})")
    else:
        cols = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in SCORED_COLUMNS.items())
        con.execute(f"CREATE OR REPLACE TABLE {SCORED} AS SELECT {cols} FROM ({select})")


def finish_night(con, meta: dict) -> dict:
    """marts.customer_scores and marts.segment_profiles from SCORED; the segment sizes and the
    total value into `meta` (returned)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.execute(f"CREATE OR REPLACE TABLE {SCORES_TABLE} AS SELECT {', '.join(SCORE_COLUMNS)} FROM {SCORED} "
                "ORDER BY customer_id")
    con.register("_future_rate", pd.DataFrame(list(meta.pop("_future_rate").items()),
                                              columns=["segment", "rate"]).astype({"rate": float}))
    # segments by name (pandas' groupby order); the Prospects' recency is the 9999 placeholder
    con.execute(f"""
        CREATE OR REPLACE TABLE {PROFILES_TABLE} AS
        WITH prof AS (
            SELECT segment, count(*) AS customers,
                   avg(recency_days) AS recency_days, avg(frequency) AS frequency, avg(monetary) AS monetary,
                   avg(purchase_propensity) AS propensity, avg(expected_value_12m) AS expected_value_12m,
                   max(snapshot_date) AS snapshot_date
            FROM {SCORED} GROUP BY segment
        )
        SELECT p.snapshot_date, p.segment, p.customers,
               round(CASE WHEN p.segment = 'Prospects' THEN NULL ELSE p.recency_days END, 4) AS recency_days,
               round(p.frequency, 4) AS frequency, round(p.monetary, 4) AS monetary,
               round(p.propensity, 4) AS propensity, round(p.expected_value_12m, 4) AS expected_value_12m,
               round(p.customers / sum(p.customers) OVER (), 4) AS share,
               round(r.rate, 4) AS future_purchase_rate_90d
        FROM prof p LEFT JOIN _future_rate r USING (segment)
        ORDER BY p.segment""")
    con.unregister("_future_rate")
    sizes = con.execute(f"SELECT segment, customers FROM {PROFILES_TABLE} ORDER BY customers DESC, segment"
                        ).fetchall()
    total = con.execute(f"SELECT coalesce(sum(expected_value_12m), 0) FROM {SCORED}").fetchone()[0]
    con.execute(f"DROP TABLE {SCORED}")
    if meta["segmentation"].get("k"):
        n = sum(size for _, size in sizes)
        meta["segmentation"].update(smallest_segment_share=round(min(size for _, size in sizes) / n, 4),
                                    sizes={str(name): int(size) for name, size in sizes})
    meta["value"]["total_expected_value_12m"] = round(float(total), 2)
    return meta


def build_customer_scores(con, as_of: dt.date, random_state: int = 0, model_dir: Path | None = None,
                          retrain: bool = False, from_engine: bool = False,
                          apply: Callable[[NightModels], None] | None = None) -> dict:
    """The night's scoring: fit_night, then `apply` (default: apply_in_duckdb; it fills SCORED),
    then finish_night. Writes marts.customer_scores and marts.segment_profiles; returns the
    night's metadata."""
    night, meta = fit_night(con, as_of, random_state, model_dir, retrain, from_engine)
    (apply or partial(apply_in_duckdb, con))(night)
    return finish_night(con, meta)


def _future_rates(segments: Segments, backtest: pd.DataFrame) -> dict[str, float]:
    """The future purchase rate of each unsupervised segment, measured honestly on the backtest
    cutoff's sample: segments assigned there, purchases in the 90 days after."""
    rate: dict[str, float] = {}
    if segments.clusters is None or not len(backtest):
        return rate
    buyers = backtest[backtest["has_purchased"] > 0]
    if len(buyers):
        rate = buyers.assign(segment=segments.assign(buyers)).groupby("segment")["label"].mean().to_dict()
    others = backtest[backtest["has_purchased"] == 0]
    if len(others):
        rate["Prospects"] = float(others["label"].mean())
    return {str(k): float(v) for k, v in rate.items()}
