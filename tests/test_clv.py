"""BG/NBD and Gamma-Gamma reproduce the published CDNOW fits (data shipped in the lifetimes wheel)."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models_ml.clv import fit_bgnbd, fit_gamma_gamma


def cdnow(name: str) -> pd.DataFrame:
    # locate the package without importing it: only its data files are used
    spec = importlib.util.find_spec("lifetimes")
    if spec is None:
        pytest.skip("the lifetimes wheel (a test dependency) is not installed")
    return pd.read_csv(Path(spec.submodule_search_locations[0]) / "datasets" / name)


def test_bgnbd_matches_the_published_cdnow_fit():
    d = cdnow("cdnow_customers_summary.csv")
    assert len(d) == 2357
    m = fit_bgnbd(d["frequency"], d["recency"], d["T"])
    for got, published in [(m.r, 0.243), (m.alpha, 4.414), (m.a, 0.793), (m.b, 2.426)]:
        assert got == pytest.approx(published, rel=0.01)
    assert m.log_likelihood == pytest.approx(-9582.4, abs=0.5)
    # sanity of the conditional quantities: a one-time buyer is surely alive, a lapsed regular less so
    alive = m.p_alive([0, 10], [0, 5.0], [38.86, 38.86])
    assert alive[0] == 1.0 and 0 < alive[1] < 0.5
    expected = m.expected_purchases(39, d["frequency"], d["recency"], d["T"])
    assert np.all(expected >= 0) and expected.sum() > 0


def test_gamma_gamma_matches_the_published_cdnow_fit():
    d = cdnow("cdnow_customers_summary_with_transactions.csv")
    g = fit_gamma_gamma(d["x"], d["zbar"])
    for got, published in [(g.p, 6.25), (g.q, 3.74), (g.gamma, 15.44)]:
        assert got == pytest.approx(published, rel=0.01)
    spend = g.expected_spend(np.array([0, 1, 20]), np.array([0.0, 100.0, 100.0]))
    # shrinkage: one purchase of 100 is pulled towards the mean more than twenty purchases of 100
    assert spend[0] < spend[1] < spend[2] < 100
