"""Expected 12-month value per customer: BG/NBD × Gamma-Gamma fitted on the night's history.

Per customer, from purchase days up to the night (a purchase = a distinct purchase day, as in
the BG/NBD literature): x repeat purchase days, t_x and T in weeks since the first purchase,
m the mean net spend of the repeat days. Customers who never bought get 0 expected value and
no P(alive) (the model says nothing about people who have not started buying).

The four BG/NBD and three Gamma-Gamma parameters describe the population, not a customer: they
are fitted on the propensity model's weekly cadence (the fit is ~7 s of a 200k-customer night,
whatever the night brings) and kept beside its artefact; every night applies them to each
customer's history as of that night.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd

from .clv import BgNbd, GammaGamma, fit_bgnbd, fit_gamma_gamma

WEEKS_12M = 365.25 / 7
MAX_FIT_ROWS = 200_000  # the fit is O(n) per iteration: a sample is enough beyond this

# Plain SQL in DuckDB's dialect: on the Spark engine it runs there (orchestration/engines/models_spark.py).
# Divisions by a double: Spark divides by a decimal 7.0 into a decimal of 6 places.
VALUE_INPUTS_SQL = """
WITH days AS (
    SELECT customer_id, order_date, sum(net_amount)::DOUBLE AS amount
    FROM marts.fct_order_lines
    WHERE is_purchase AND customer_id IS NOT NULL AND order_date <= $as_of
    GROUP BY customer_id, order_date
), ranked AS (
    SELECT *, row_number() OVER (PARTITION BY customer_id ORDER BY order_date) AS n FROM days
)
SELECT customer_id,
       (count(*) - 1)::DOUBLE AS x,
       date_diff('day', min(order_date), max(order_date)) / CAST(7 AS DOUBLE) AS t_x,
       date_diff('day', min(order_date), $as_of) / CAST(7 AS DOUBLE) + CAST(1 AS DOUBLE) / 7 AS T,
       coalesce(avg(amount) FILTER (WHERE n > 1), 0) AS m
FROM ranked GROUP BY customer_id
ORDER BY customer_id  -- a stable row order: the same sample and fit every run
"""


# The inputs the Spark engine computed for tonight (orchestration/engines/models_spark.py)
ENGINE_VALUE_INPUTS = "ml.customer_value_inputs"


VALUE_COLUMNS = ["p_alive", "expected_purchases_12m", "expected_value_12m"]


@dataclasses.dataclass
class ValueModel:
    """The fitted population parameters; `apply` gives each buyer's value from their own history."""

    bg: BgNbd
    gg: GammaGamma

    def apply(self, d: pd.DataFrame) -> pd.DataFrame:
        """VALUE_COLUMNS for rows with x, t_x, T and m (the rows of VALUE_INPUTS_SQL)."""
        purchases = self.bg.expected_purchases(WEEKS_12M, d["x"], d["t_x"], d["T"])
        spend = self.gg.expected_spend(d["x"], d["m"].clip(lower=0.01))
        return pd.DataFrame({
            "p_alive": self.bg.p_alive(d["x"], d["t_x"], d["T"]),
            "expected_purchases_12m": purchases,
            "expected_value_12m": np.clip(purchases * spend, 0, None).round(2),
        }, index=d.index)


def fit_value(sample: pd.DataFrame, as_of: dt.date, fit_path: Path | None = None,
              refit: bool = True) -> tuple[ValueModel | None, dict]:
    """The value model for the night, fitted on `sample` (at most MAX_FIT_ROWS rows of
    VALUE_INPUTS_SQL, value_sample_sql) and its metadata; None with fewer than 20 buyers or 10
    repeat buyers.

    With `fit_path`, the parameters saved there are reused unless `refit` (or none are saved
    yet, or they were fitted after `as_of`); a new fit is saved there."""
    if len(sample) < 20 or (sample["x"] > 0).sum() < 10:
        return None, {"model": "none", "reason": "fewer than 20 buyers or 10 repeat buyers"}
    saved = None if refit or fit_path is None else _load(fit_path, as_of)
    if saved is None:
        bg = fit_bgnbd(sample["x"], sample["t_x"], sample["T"])
        repeat = sample[(sample["x"] > 0) & (sample["m"] > 0)]
        gg = fit_gamma_gamma(repeat["x"], repeat["m"])
        fitted = {"fitted_as_of": as_of.isoformat(), "fitted_on": len(sample)}
        if fit_path is not None:
            _save(fit_path, bg, gg, fitted)
    else:
        bg, gg, fitted = saved
    meta = {"model": "bgnbd+gamma_gamma", "bgnbd": {"r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b,
                                                     "log_likelihood": bg.log_likelihood},
            "gamma_gamma": {"p": gg.p, "q": gg.q, "gamma": gg.gamma}}
    meta = {k: ({kk: round(float(vv), 4) for kk, vv in v.items()} if isinstance(v, dict) else v)
            for k, v in meta.items()}
    return ValueModel(bg, gg), {**meta, **fitted, "fitted_tonight": saved is None}


def _save(path: Path, bg: BgNbd, gg: GammaGamma, fitted: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"bgnbd": _floats(bg), "gamma_gamma": _floats(gg), **fitted}, sort_keys=True))
    tmp.replace(path)


def _floats(params) -> dict:
    return {k: float(v) for k, v in dataclasses.asdict(params).items()}


def _load(path: Path, as_of: dt.date) -> tuple[BgNbd, GammaGamma, dict] | None:
    if not path.exists():
        return None
    saved = json.loads(path.read_text())
    if dt.date.fromisoformat(saved["fitted_as_of"]) > as_of:
        return None  # never parameters fitted on a future the night cannot see
    return (BgNbd(**saved["bgnbd"]), GammaGamma(**saved["gamma_gamma"]),
            {"fitted_as_of": saved["fitted_as_of"], "fitted_on": saved["fitted_on"]})
