"""Assembles marts.customer_scores (one row per customer of dim_customer for the night),
marts.segment_profiles, and the guards the Dagster checks enforce."""

from __future__ import annotations

import datetime as dt
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from . import registry
from .features import engine_features, features_as_of
from .propensity import HORIZON_DAYS, drift, engine_cutoffs, evaluate, score, train
from .segmentation import RFM, decision_rules, life_stage, segment
from .value import ENGINE_VALUE_INPUTS, customer_value

MAX_PSI = 0.25  # population stability index above which a feature has shifted too much
# Recency moves with the calendar in a closed or young cohort (everyone ages by the 90-day
# horizon between the training snapshot and tonight): its drift is reported as a warning.
# A shift in what customers do (frequency, spend, basket, channel mix) blocks the night.
# How many e-mails someone received is marketing's calendar, not the customer's behaviour.
CALENDAR_DRIFT = {"recency_days", "emails_received_365d"}
MIN_ROWS_FOR_BLOCKING_DRIFT = 1000  # PSI on a few hundred customers is mostly noise: warn only


def build_customer_scores(con, as_of: dt.date, random_state: int = 0, model_dir: Path | None = None,
                          retrain: bool = False, from_engine: bool = False) -> tuple[pd.DataFrame, dict]:
    """`from_engine`: the features and the value model's inputs are read from the tables the
    engine computed for tonight (features.ENGINE_FEATURES, value.ENGINE_VALUE_INPUTS: the Spark
    engine) instead of being computed here."""
    features = engine_features(con, engine_cutoffs(as_of)) if from_engine else partial(features_as_of, con)
    value_inputs = (con.execute(f"SELECT * EXCLUDE (as_of) FROM {ENGINE_VALUE_INPUTS} ORDER BY customer_id").df()
                    if from_engine else None)
    customers = con.execute("SELECT customer_id FROM marts.dim_customer ORDER BY customer_id").df()
    existing = registry.latest(con, model_dir) if model_dir else None
    trained = registry.needs_retraining(existing, as_of, retrain)
    model = train(con, as_of, random_state, features) if trained else existing
    if trained and model is not None and model_dir is not None:
        registry.save(model, model_dir)
        registry.register(con, model)
    propensity, now = score(model, con, as_of, features)
    # the latest labelled cutoff: the deployed model's guard, the decision rules and the
    # segments' future purchase rate all read it (computed once: it scans a year of events)
    cut = as_of - dt.timedelta(days=HORIZON_DAYS)
    backtest = features(cut)
    guard = evaluate(model, backtest, cut) if model is not None else {}
    psi = drift(model, now) if model is not None else {}

    feats = customers.merge(now, on="customer_id", how="left")
    feats[RFM + ["has_purchased"]] = feats[RFM + ["has_purchased"]].fillna(
        {"recency_days": 9999, "frequency": 0, "monetary": 0, "has_purchased": 0})
    feats = feats.fillna({"age": -1, "household_size": 0, "children_count": 0})
    feats = feats.merge(propensity, on="customer_id", how="left")
    feats["purchase_propensity"] = feats["purchase_propensity"].fillna(
        float(propensity["purchase_propensity"].median()) if len(propensity) else 0.0)
    segments, s_meta, clusters, label_names = segment(feats, random_state)
    # the value model keeps the propensity model's cadence: its parameters sit beside the artefact
    value_fit = registry.value_fit_path(model_dir, model) if model_dir is not None and model is not None else None
    value, v_meta = customer_value(con, as_of, random_state, fit_path=value_fit, refit=trained, inputs=value_inputs)
    feats = feats.merge(value, on="customer_id", how="left")
    rules, r_meta = decision_rules(backtest, feats, random_state)

    version = (model.version if model is not None else "propensity-fallback") + "+" + v_meta["model"]
    scores = pd.DataFrame({
        "customer_id": feats["customer_id"],
        "snapshot_date": pd.Timestamp(as_of).date(),
        "purchase_propensity": feats["purchase_propensity"].clip(0, 1).astype(float),
        "expected_value_12m": feats["expected_value_12m"].fillna(0.0).astype(float),
        "segment": segments.astype(str),
        "model_version": version,
        "p_alive": feats["p_alive"].astype(float),
        "expected_purchases_12m": feats["expected_purchases_12m"].fillna(0.0).astype(float),
        "segment_rule": rules.astype(str),
        "segment_life_stage": life_stage(feats, as_of).astype(str),
    })
    profiles = _profiles(scores, feats, backtest, clusters, label_names, as_of)
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
        "segmentation": s_meta,
        "decision_rules": r_meta,
        "value": {**v_meta, "total_expected_value_12m": round(float(scores["expected_value_12m"].sum()), 2)},
        "_tables": {"segment_profiles": profiles},
    }
    return scores, meta


def _profiles(scores, feats, backtest, clusters, label_names, as_of) -> pd.DataFrame:
    """Size, mean features and the future purchase rate of each unsupervised segment. The rate is
    measured honestly on the backtest cutoff: segments assigned there, purchases in the 90 days after."""
    frame = scores[["customer_id", "segment", "purchase_propensity", "expected_value_12m"]].join(feats[RFM])
    prof = frame.groupby("segment").agg(
        customers=("customer_id", "size"), recency_days=("recency_days", "mean"), frequency=("frequency", "mean"),
        monetary=("monetary", "mean"), propensity=("purchase_propensity", "mean"),
        expected_value_12m=("expected_value_12m", "mean")).reset_index()
    prof["share"] = prof["customers"] / prof["customers"].sum()
    prof.loc[prof["segment"] == "Prospects", ["recency_days"]] = np.nan
    rate = {}
    if clusters is not None and len(backtest):
        buyers = backtest[backtest["has_purchased"] > 0]
        if len(buyers):
            names = pd.Series(clusters.predict(buyers)).map(label_names).to_numpy()
            rate = buyers.assign(segment=names).groupby("segment")["label"].mean().to_dict()
        others = backtest[backtest["has_purchased"] == 0]
        if len(others):
            rate["Prospects"] = float(others["label"].mean())
    prof["future_purchase_rate_90d"] = prof["segment"].map(rate).astype(float)
    prof.insert(0, "snapshot_date", pd.Timestamp(as_of).date())
    return prof.round(4)
