"""Turning days into timestamps the way exports write them (mostly Paris local, some UTC)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd


def moments(days: np.ndarray, rng: np.random.Generator, start_hour: int = 8, end_hour: int = 22) -> pd.Series:
    """Paris local timestamps on the given day offsets... `days` are numpy datetime64[D]."""
    secs = rng.integers(start_hour * 3600, end_hour * 3600, len(days))
    return pd.Series(days.astype("datetime64[s]") + secs.astype("timedelta64[s]"))


def render(ts: pd.Series, rng: np.random.Generator, utc_share: float = 0.1) -> np.ndarray:
    """ISO strings: Paris local without offset, a share as UTC with 'Z', some with a space."""
    local = ts.dt.strftime("%Y-%m-%dT%H:%M:%S").to_numpy(dtype=object)
    u = rng.random(len(ts))
    spaced = u > 0.85
    local[spaced] = ts[spaced].dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy(dtype=object)
    as_utc = u < utc_share
    if as_utc.any():
        utc = (ts[as_utc].dt.tz_localize("Europe/Paris", ambiguous="NaT", nonexistent="shift_forward")
               .dt.tz_convert("UTC"))
        good = utc.notna().to_numpy()
        idx = np.flatnonzero(as_utc)[good]
        local[idx] = utc[good].dt.strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy(dtype=object)
    return local


def day_of(ts: pd.Series) -> np.ndarray:
    return ts.to_numpy().astype("datetime64[D]")


def as_date(d: np.datetime64) -> dt.date:
    return pd.Timestamp(d).date()
