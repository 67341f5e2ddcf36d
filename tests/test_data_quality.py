"""The GX suites: good frames pass, broken ones fail, and no offending value leaks."""

import numpy as np
import pandas as pd
import pytest

from data_quality.runner import suite_names, validate
from orchestration.ingestion.specs import ENTITIES


def scores_frame(n=500):
    rng = np.random.default_rng(0)
    return pd.DataFrame({"customer_id": [f"C{i:05d}" for i in range(n)], "snapshot_date": pd.Timestamp("2025-06-30"),
                         "purchase_propensity": rng.random(n), "expected_value_12m": rng.random(n) * 100,
                         "segment": "Recent regulars", "model_version": "v1", "p_alive": rng.random(n),
                         "expected_purchases_12m": rng.random(n) * 3})


def test_every_raw_entity_and_contract_mart_has_a_suite():
    names = set(suite_names())
    assert {f"raw.{e.name}" for e in ENTITIES} <= names
    assert {"marts.dim_customer", "marts.customer_identity_map", "marts.fct_order_lines",
            "marts.fct_customer_rfm", "marts.customer_scores"} <= names


def test_a_good_frame_passes():
    outcome = validate("marts.customer_scores", scores_frame())
    assert outcome.success and outcome.evaluated >= 5 and outcome.failed == []


@pytest.mark.parametrize("column,value,expectation", [
    ("customer_id", "C00001", "expect_column_values_to_be_unique(customer_id)"),
    ("customer_id", None, "expect_column_values_to_not_be_null(customer_id)"),
    ("purchase_propensity", 1.3, "expect_column_values_to_be_between(purchase_propensity)"),
])
def test_a_broken_frame_fails_and_names_the_expectation(column, value, expectation):
    df = scores_frame()
    df.loc[7, column] = value
    outcome = validate("marts.customer_scores", df)
    assert not outcome.success
    assert any(f.startswith(expectation) for f in outcome.failed)


def test_unknown_enum_fails_without_leaking_the_value():
    df = pd.DataFrame({"source": ["crm", "jean.secret@example.org"], "source_record_id": ["a", "b"],
                       "customer_id": ["C1", "C2"], "match_rule": ["singleton"] * 2, "match_confidence": [1.0, 1.0]})
    outcome = validate("marts.customer_identity_map", df)
    assert not outcome.success
    assert "jean.secret" not in repr(outcome.to_metadata()) + repr(outcome.failed)
