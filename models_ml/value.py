"""Expected value over the next 12 months: a first, honest run-rate estimate.

expected_value_12m = purchase_propensity × the customer's net spend of the last 365 days
(or their average basket when they bought earlier than that). It is a placeholder until the
BG/NBD + Gamma-Gamma model lands; it is never negative.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def expected_value_12m(features: pd.DataFrame, propensity: pd.Series) -> pd.Series:
    run_rate = np.where(features["spend_365d"] > 0, features["spend_365d"], features["avg_basket"])
    return pd.Series(np.clip(propensity.to_numpy() * run_rate, 0, None).round(2), index=features.index)
