"""Versioned model artefacts and the `ml_model_registry` table.

Artefacts are pickles under `$DATAMART_HOME/models/propensity/<version>.pkl`, with the value
model's parameters fitted alongside in `<version>.value.json` (models_ml/value.py); the registry
table (published with the marts) lists each version with its training night, cutoffs and
backtest metrics. Nightly scoring reuses the latest artefact; it is retrained weekly or on
demand (the `retrain` flag in the Dagster launchpad).
"""

from __future__ import annotations

import datetime as dt
import json
import pickle
from pathlib import Path

import pandas as pd

from orchestration.warehouse import table_exists

from .propensity import TrainedPropensity

REGISTRY = "marts.ml_model_registry"
RETRAIN_EVERY_DAYS = 7


def save(model: TrainedPropensity, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{model.version}.pkl"
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        pickle.dump(model, fh)
    tmp.replace(path)
    return path


def value_fit_path(folder: Path, model: TrainedPropensity) -> Path:
    """Where the value model's parameters fitted with `model` are kept."""
    return folder / f"{model.version}.value.json"


def latest(con, folder: Path) -> TrainedPropensity | None:
    if not table_exists(con, REGISTRY):
        return None
    rows = con.execute(f"SELECT model_version FROM {REGISTRY} ORDER BY trained_at DESC, trained_as_of DESC LIMIT 1"
                       ).fetchall()
    if not rows or not (folder / f"{rows[0][0]}.pkl").exists():
        return None
    with (folder / f"{rows[0][0]}.pkl").open("rb") as fh:
        return pickle.load(fh)


def needs_retraining(model: TrainedPropensity | None, as_of: dt.date, force: bool) -> bool:
    if force or model is None:
        return True
    age = as_of - dt.date.fromisoformat(model.trained_as_of)
    return age.days >= RETRAIN_EVERY_DAYS or age.days < 0  # weekly, and never a model from the future


def register(con, model: TrainedPropensity) -> None:
    m = {k: v for k, v in model.metrics.items() if not k.startswith("_")}
    row = pd.DataFrame([{
        "model_version": model.version, "model_name": model.name,
        "trained_at": dt.datetime.now().replace(microsecond=0), "trained_as_of": dt.date.fromisoformat(model.trained_as_of),
        "train_cutoff": dt.date.fromisoformat(m["train_cutoff"]), "test_cutoff": dt.date.fromisoformat(m["test_cutoff"]),
        "roc_auc": m["roc_auc"], "pr_auc": m["pr_auc"], "top_decile_lift": m["top_decile_lift"], "brier": m["brier"],
        "baseline_recency_roc_auc": m["baseline_recency_roc_auc"], "n_train": m["n_train"], "n_test": m["n_test"],
        "features": json.dumps(model.columns),
    }])
    con.register("_registry_row", row)
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.execute(f"CREATE TABLE IF NOT EXISTS {REGISTRY} AS SELECT * FROM _registry_row WHERE false")
    con.execute(f"DELETE FROM {REGISTRY} WHERE model_version = ?", [model.version])
    con.execute(f"INSERT INTO {REGISTRY} SELECT * FROM _registry_row")
    con.unregister("_registry_row")
