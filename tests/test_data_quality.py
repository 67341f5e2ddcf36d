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


def test_every_layer_is_guarded_by_a_blocking_gx_check():
    from orchestration.defs.quality import GATES, quality_checks

    guarded = {g.asset.to_user_string() for g in GATES}
    layers = {key.split("/")[0] for key in guarded}
    assert {"raw", "staging", "intermediate", "marts"} <= layers
    assert {"staging/stg_crm__customers", "staging/stg_esp__events", "marts/fct_order_lines",
            "marts/customer_scores"} <= guarded
    suites = {s for g in GATES for s, _ in g.tables}
    assert {"staging.keys", "marts.integrity", "marts.scores_integrity", "marts.segment_profiles"} <= suites
    assert all(spec.blocking for c in quality_checks for spec in c.check_specs)


@pytest.mark.parametrize("suite,frame,expectation", [
    ("staging.stg_callcenter__calls",
     pd.DataFrame({"call_id": ["1", "2"], "caller_phone_e164": ["+33612345679", "06 12 34 56 79"],
                   "called_at": pd.to_datetime(["2025-01-01", "2025-01-02"])}),
     "expect_column_values_to_match_regex(caller_phone_e164)"),
    ("staging.stg_forms__signups",
     pd.DataFrame({"signup_id": ["1"], "email_key": ["Anne.Martin@Example.org"], "nps": [3],
                   "submitted_at": pd.to_datetime(["2025-01-01"])}),
     "expect_column_values_to_match_regex(email_key)"),
    ("staging.stg_crm__customers",
     pd.DataFrame({"crm_id": ["1", "2"], "email_key": [None, None], "phone_e164": [None, None],
                   "birth_date": pd.to_datetime(["1890-05-17", "1980-01-01"]), "consent_email": [None, True],
                   "created_at": pd.to_datetime(["2025-01-01"] * 2), "updated_at": pd.to_datetime(["2025-01-01"] * 2)}),
     "expect_column_values_to_be_between(birth_date)"),
])
def test_what_the_contract_allows_only_warns(suite, frame, expectation):
    """Identifiers the cleaning could not normalise, implausible dates, blank consents: flagged, not blocking."""
    outcome = validate(suite, frame)
    assert outcome.success and outcome.failed == []
    assert [w for w in outcome.warnings if w.startswith(expectation)], outcome.warnings
    assert outcome.to_metadata()["warnings"] == len(outcome.warnings) > 0


@pytest.mark.parametrize("suite,frame,expectation", [
    ("staging.stg_crm__customers",
     pd.DataFrame({"crm_id": ["1", None], "updated_at": pd.to_datetime(["2025-01-01"] * 2)}),
     "expect_column_values_to_not_be_null(crm_id)"),
    ("staging.keys", pd.DataFrame([{"duplicate_crm_ids": 2, "duplicate_account_ids": 0, "duplicate_order_ids": 0,
                                    "duplicate_web_lines": 0, "duplicate_store_lines": 0,
                                    "duplicate_esp_events": 0, "duplicate_web_events": 0}]),
     "expect_column_values_to_be_between(duplicate_crm_ids)"),
    ("marts.integrity", pd.DataFrame([{"order_lines_without_customer": 0, "rfm_rows_without_customer": 0,
                                       "map_rows_without_customer": 0, "lines_minus_staged": 0,
                                       "revenue_gap_eur": 12.5}]),
     "expect_column_values_to_be_between(revenue_gap_eur)"),
])
def test_staging_and_integrity_suites_catch_what_they_guard(suite, frame, expectation):
    outcome = validate(suite, frame)
    assert not outcome.success
    failed = [f for f in outcome.failed if f.startswith(expectation)]
    assert failed and all("[contract: " in f for f in failed), outcome.failed


def test_results_are_rendered_as_offline_data_docs_without_values(tmp_path):
    from data_quality.runner import docs_index

    df = pd.DataFrame({"call_id": ["1", "2"], "caller_phone_e164": ["+33612345679", "06 99 88 77 66"],
                       "called_at": pd.to_datetime(["2025-01-01", "2025-01-02"])})
    outcome = validate("staging.stg_callcenter__calls", df, home=tmp_path, run_name="2025-01-02-night")
    assert outcome.warnings
    index = docs_index(tmp_path)
    pages = list((tmp_path / "data_docs" / "validations").rglob("*.html"))
    assert index.exists() and len(pages) == 1
    html = index.read_text() + pages[0].read_text()
    assert "stg_callcenter__calls" in html and "2025-01-02-night" in html
    assert "06 99 88 77 66" not in html  # the offending value is not shown
    # nothing is fetched from the network when the pages are opened offline
    import re
    assert not re.search(r"<(script|link|img)\b[^>]*(src|href)=\"https?://", html)


@pytest.mark.parametrize("unit", ["us", "ms", "ns"])
def test_timestamp_ranges_judge_the_same_at_any_resolution(unit):
    # DuckDB hands timestamps over through Arrow in µs and dates in ms; the runner compares them
    # at ns (GX's vectorized path): the verdicts must not depend on it
    def calls(*stamps):
        return pd.DataFrame({"call_id": [str(i) for i in range(len(stamps))],
                             "caller_phone_e164": ["+33612345679"] * len(stamps),
                             "called_at": pd.Series(pd.to_datetime(list(stamps))).astype(f"datetime64[{unit}]")})

    assert not validate("staging.stg_callcenter__calls", calls("2025-01-01 10:00", "2025-01-02 00:00")).warnings
    late = validate("staging.stg_callcenter__calls", calls("2025-01-01 10:00", "2150-06-01 00:00"))
    assert [w for w in late.warnings if w.startswith("expect_column_values_to_be_between(called_at)")]
    if unit != "ns":  # a value outside the ns range (year 1500) is still judged, on the slow path
        early = pd.DataFrame({"call_id": ["1"], "caller_phone_e164": ["+33612345679"],
                              "called_at": np.array(["1500-01-01T00:00"], dtype=f"datetime64[{unit}]")})
        outcome = validate("staging.stg_callcenter__calls", early)
        assert [w for w in outcome.warnings if w.startswith("expect_column_values_to_be_between(called_at)")]


def _audience_measures(audience: list[tuple], excluded: list[tuple]) -> pd.DataFrame:
    """The audience compliance measures on a tiny warehouse: two customers, one who may be
    texted, one erased; `audience` / `excluded` are (customer_id, channel) rows."""
    import duckdb

    from data_quality.suites import METRIC_SUITES

    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    con.execute("""CREATE TABLE marts.dim_customer AS SELECT * FROM (VALUES
        ('C1', NULL, '+33612345678', NULL, false, true, false, false, false),
        ('C2', NULL, NULL, NULL, false, false, false, true, false))
        t(customer_id, email, phone, address_line, consent_email, consent_sms, consent_post, is_erased, is_objected)""")
    con.execute("CREATE TABLE marts.marketing_audience (customer_id VARCHAR, channel VARCHAR)")
    con.execute("CREATE TABLE marts.marketing_audience_exclusions (customer_id VARCHAR, channel VARCHAR)")
    con.executemany("INSERT INTO marts.marketing_audience VALUES (?, ?)", audience)
    con.executemany("INSERT INTO marts.marketing_audience_exclusions VALUES (?, ?)", excluded)
    return con.execute(METRIC_SUITES["marts.audience_compliance"][0]).df()


def test_the_audience_gate_passes_a_compliant_audience_and_stops_an_erased_person():
    decided = [("C1", "email"), ("C1", "post"), ("C2", "email"), ("C2", "sms"), ("C2", "post")]
    good = _audience_measures([("C1", "sms")], decided)
    assert validate("marts.audience_compliance", good).success
    bad = _audience_measures([("C1", "sms"), ("C2", "sms")], [d for d in decided if d != ("C2", "sms")])
    outcome = validate("marts.audience_compliance", bad)
    assert not outcome.success
    failed = {f.split("(")[1].split(")")[0] for f in outcome.failed}
    # C2 is erased, never consented to SMS and has no phone: each rule says so on its own
    assert failed == {"audience_erased", "audience_without_consent", "audience_without_contact_point"}
    lost = _audience_measures([("C1", "sms")], decided[:-1])  # a customer/channel left undecided
    assert not validate("marts.audience_compliance", lost).success


def test_a_gx_project_truncated_by_a_killed_refresh_is_set_aside_and_recreated(tmp_path):
    """A refresh killed while GX rewrote great_expectations.yml must not fail every later night."""
    home = tmp_path / "home"
    assert validate("marts.customer_scores", scores_frame(), home=home).success
    config = home / "gx" / "great_expectations.yml"
    text = config.read_text()
    config.write_text(text[: len(text) // 3])  # what SIGKILL mid-write leaves
    again = tmp_path / "again"  # the same home seen by a new process (the context is cached per path)
    (home).rename(again)
    assert validate("marts.customer_scores", scores_frame(), home=again).success
    assert (again / "gx" / "great_expectations.yml").read_text() != text[: len(text) // 3]
    assert [p.name.startswith("gx.broken-") for p in again.iterdir()].count(True) == 1


def test_a_truncated_gx_store_file_is_set_aside_too(tmp_path):
    home = tmp_path / "home"
    assert validate("marts.customer_scores", scores_frame(), home=home).success
    stored = next((home / "gx" / "checkpoints").glob("*"))
    stored.write_text(stored.read_text()[:40])
    again = tmp_path / "again"
    home.rename(again)
    assert validate("marts.customer_scores", scores_frame(), home=again).success
    assert any(p.name.startswith("gx.broken-") for p in again.iterdir())


def test_large_tables_are_validated_on_a_reproducible_sample_spread_over_the_table(monkeypatch):
    """A check on a big table validates at most MAX_ROWS_VALIDATED rows, drawn from the whole
    table (not its first rows), the same rows every time, and only rows the gate asked for."""
    import duckdb

    from orchestration.defs import quality

    monkeypatch.setattr(quality, "MAX_ROWS_VALIDATED", 20_000)
    con = duckdb.connect()
    con.execute("CREATE SCHEMA staging")
    con.execute("CREATE TABLE staging.stg_big AS SELECT i AS id, i % 3 = 0 AS tonight FROM range(3000000) t(i)")
    first, total = quality._fetch(con, "SELECT * FROM staging.stg_big", {})
    again, _ = quality._fetch(con, "SELECT * FROM staging.stg_big", {})
    assert total == 3_000_000 and 10_000 <= len(first) <= 20_000
    assert sorted(first["id"]) == sorted(again["id"])
    # spread: every sixth of the table is represented
    assert set(first["id"] // 500_000) == set(range(6))
    night, matching = quality._fetch(con, "SELECT * FROM staging.stg_big WHERE tonight", {})
    assert matching == 1_000_000 and 10_000 <= len(night) <= 20_000 and night["tonight"].all()
    small, n = quality._fetch(con, "SELECT * FROM staging.stg_big WHERE id < 15000", {})
    assert n == len(small) == 15_000  # under the cap: every row
    # the big table is thinned inside the scan before the reservoir, not read whole
    assert "TABLESAMPLE system" in quality._thinned("SELECT * FROM staging.stg_big", 3_000_000)
