"""Assembles marts.customer_scores: one row per customer of dim_customer for the night."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from .features import features_as_of
from .propensity import train_and_score
from .segmentation import segment
from .value import customer_value


def build_customer_scores(con, as_of: dt.date, random_state: int = 0) -> tuple[pd.DataFrame, dict]:
    all_customers = con.execute("SELECT customer_id FROM marts.dim_customer").df()
    propensity, p_meta = train_and_score(con, as_of, random_state)
    feats = features_as_of(con, as_of)
    feats = all_customers.merge(feats, on="customer_id", how="left").fillna(
        {"recency_days": 9999, "has_purchased": 0}).fillna(0)
    feats = feats.merge(propensity, on="customer_id", how="left")
    feats["purchase_propensity"] = feats["purchase_propensity"].fillna(float(propensity["purchase_propensity"].median())
                                                                       if len(propensity) else 0.0)
    segments, s_meta = segment(feats, random_state)
    value, v_meta = customer_value(con, as_of, random_state)
    feats = feats.merge(value, on="customer_id", how="left")
    scores = pd.DataFrame({
        "customer_id": feats["customer_id"],
        "snapshot_date": pd.Timestamp(as_of).date(),
        "purchase_propensity": feats["purchase_propensity"].clip(0, 1).astype(float),
        "expected_value_12m": feats["expected_value_12m"].fillna(0.0).astype(float),
        "segment": segments.astype(str),
        "model_version": p_meta.get("model_version", p_meta.get("model", "fallback")) + "+" + v_meta["model"],
        "p_alive": feats["p_alive"].astype(float),
        "expected_purchases_12m": feats["expected_purchases_12m"].fillna(0.0).astype(float),
    })
    meta = {"propensity": {k: v for k, v in p_meta.items() if k not in ("model_version", "_evaluation")},
            "_evaluation": p_meta.get("_evaluation"),
            "model_version": scores["model_version"].iloc[0] if len(scores) else "",
            "segmentation": s_meta,
            "value": {**v_meta, "total_expected_value_12m": round(float(scores["expected_value_12m"].sum()), 2),
                      "mean_expected_value_12m": round(float(scores["expected_value_12m"].mean()), 2) if len(scores) else 0}}
    return scores, meta
