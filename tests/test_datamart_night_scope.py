"""What a dbt step covers on a night: whole tables (tests, column metadata, unit tests) only on
whole-scope nights, the night's window otherwise; the dbt command line does not change from one
ordinary night to the next (so dbt's partial parsing stays valid)."""

import datetime as dt

import pytest

from orchestration.defs.dbt import DbtBuildConfig, dbt_args, dbt_env, night_scope, whole_scope_night

WED = dt.date(2025, 12, 31)  # a Wednesday
SUN = dt.date(2025, 12, 28)


@pytest.mark.parametrize("as_of, last_built, full_refresh, whole", [
    (WED, None, False, True),                            # first build of a warehouse
    (WED, WED - dt.timedelta(days=1), False, False),     # the ordinary next night
    (WED, WED, False, False),                            # tonight re-run
    (WED, WED - dt.timedelta(days=3), False, True),      # missed nights: catch-up tested whole
    (WED - dt.timedelta(days=45), WED, False, True),     # a replay of an earlier night
    (SUN, SUN - dt.timedelta(days=1), False, True),      # the weekly whole-scope night
    (WED, WED - dt.timedelta(days=1), True, True),       # full refresh from the launchpad
])
def test_whole_scope_nights(as_of, last_built, full_refresh, whole):
    assert whole_scope_night(as_of, last_built, full_refresh) is whole


def test_launchpad_and_environment_force_the_scope(monkeypatch):
    yesterday = WED - dt.timedelta(days=1)
    monkeypatch.delenv("DATAMART_WHOLE_TABLE_TESTS", raising=False)
    monkeypatch.delenv("DATAMART_DBT_COLUMN_METADATA", raising=False)
    ordinary = night_scope(WED, yesterday)
    assert not ordinary.whole_table_tests and not ordinary.column_metadata
    monkeypatch.setenv("DATAMART_DBT_COLUMN_METADATA", "1")
    assert night_scope(WED, yesterday).column_metadata
    assert not night_scope(WED, yesterday).whole_table_tests
    # the launchpad wins over the environment
    assert not night_scope(WED, yesterday, DbtBuildConfig(column_metadata=False)).column_metadata
    assert night_scope(WED, None, DbtBuildConfig(whole_table_tests=False)).column_metadata
    assert not night_scope(WED, None, DbtBuildConfig(whole_table_tests=False)).whole_table_tests
    monkeypatch.setenv("DATAMART_WHOLE_TABLE_TESTS", "maybe")
    with pytest.raises(ValueError, match="DATAMART_WHOLE_TABLE_TESTS"):
        night_scope(WED, yesterday)


def test_ordinary_nights_share_one_dbt_command_line(monkeypatch):
    for name in ("DATAMART_PRESSURE_CAP_7D", "DATAMART_PRESSURE_CAP_30D", "DATAMART_HOUSEHOLD_PRESSURE_CAP_30D",
                 "DATAMART_INCREMENTAL_WINDOW_DAYS", "DATAMART_DBT_NIGHT_THREADS"):
        monkeypatch.delenv(name, raising=False)
    tonight = night_scope(WED, WED - dt.timedelta(days=1))
    tomorrow = night_scope(WED + dt.timedelta(days=1), WED)
    assert dbt_args(None, tonight) == dbt_args(None, tomorrow)
    assert "unit_test" in dbt_args(None, tonight)  # unit tests only on whole-scope nights
    assert "unit_test" not in dbt_args(None, night_scope(WED, None))
    # small nodes on ordinary nights: two dbt threads; a whole-scope night keeps the profile's one
    assert dbt_args(None, tonight)[-2:] == ["--threads", "2"]
    assert "--threads" not in dbt_args(None, night_scope(WED, None))
    assert dbt_env(WED.isoformat(), tonight) == {"DATAMART_DBT_AS_OF": "2025-12-31",
                                                 "DATAMART_DBT_WHOLE_TABLE_TESTS": "false"}
    # a launchpad tunable is still a dbt var, and so is a full refresh a dbt flag
    args = dbt_args(DbtBuildConfig(pressure_cap_7d=5, full_refresh=True), night_scope(WED, None))
    assert '{"pressure_cap_7d": 5}' in args and "--full-refresh" in args


# --- the Great Expectations gates follow the same nights --------------------------------------

def _warehouse_with_two_nights(path):
    """A warehouse whose staging e-mail events hold last night's rows (one with a malformed
    e-mail key, which slipped through then) and tonight's, loaded by run `tonight`."""
    import duckdb

    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA audit; CREATE SCHEMA staging; CREATE SCHEMA marts")
    con.execute("CREATE TABLE audit.load_log (load_id VARCHAR, loaded_at TIMESTAMP)")
    con.execute("INSERT INTO audit.load_log VALUES ('last-night', '2025-12-30 02:00'), ('tonight', '2025-12-31 02:00')")
    con.execute("""CREATE TABLE staging.stg_esp__events AS SELECT * FROM (VALUES
        ('e1', 'not-an-email', NULL, TIMESTAMP '2025-12-29 10:00', 'email', TIMESTAMP '2025-12-30 02:00:01'),
        ('e2', 'a@example.org', NULL, TIMESTAMP '2025-12-30 10:00', 'email', TIMESTAMP '2025-12-31 02:00:01'),
        ('e3', 'b@example.org', NULL, TIMESTAMP '2025-12-30 11:00', 'email', TIMESTAMP '2025-12-31 02:00:02'))
        t(event_id, recipient_email_key, recipient_phone_e164, occurred_at, recipient_kind, loaded_at)""")
    con.execute("CREATE TABLE marts.fct_customer_rfm AS SELECT DATE '2025-12-30' AS snapshot_date")
    return con


def test_gx_gates_validate_tonights_rows_on_ordinary_nights_and_whole_tables_otherwise(tmp_path, monkeypatch):
    from data_quality import runner
    from orchestration.defs.quality import LAYERS, _run_layer, whole_scope

    monkeypatch.delenv("DATAMART_WHOLE_TABLE_TESTS", raising=False)
    con = _warehouse_with_two_nights(tmp_path / "w.duckdb")
    gate = [g for g in LAYERS["staging"] if g.name == "gx_stg_esp__events"]

    class Settings:
        as_of, home = WED, None

    assert whole_scope(con, WED) is False                       # the night after the last built
    assert whole_scope(con, WED, {"ops": {"dbt_marts": {"config": {"full_refresh": True}}}}) is True
    assert whole_scope(con, WED, {"ops": {"dbt_staging": {"config": {"whole_table_tests": True}}}}) is True
    assert whole_scope(con, SUN) is True                        # weekly (and a replay: a later snapshot)
    assert whole_scope(con, WED + dt.timedelta(days=2)) is True  # a missed night
    monkeypatch.setenv("DATAMART_WHOLE_TABLE_TESTS", "1")
    assert whole_scope(con, WED) is True
    monkeypatch.delenv("DATAMART_WHOLE_TABLE_TESTS")

    [(_, passed, meta)], _ = _run_layer(con, gate, "tonight", Settings, "n", runner, whole=False)
    assert passed and meta["staging.stg_esp__events.rows"] == 2 and meta["scope"] == "tonight's rows"
    assert meta["warnings"] == 0
    # the whole table holds last night's malformed key: flagged (the cleaning's quality, not a
    # contract clause), with its count, never its value
    [(_, passed, meta)], _ = _run_layer(con, gate, "tonight", Settings, "n", runner, whole=True)
    assert passed and meta["warnings"] == 1 and meta["staging.stg_esp__events.rows"] == 3
    assert "recipient_email_key" in meta["staging.stg_esp__events.warned"]
    assert "not-an-email" not in repr(meta)  # counts only, never the value
    # checks re-run alone (a run that loaded nothing) validate the latest run's loads
    [(_, passed, meta)], _ = _run_layer(con, gate, "a-rerun", Settings, "n", runner, whole=False)
    assert passed and meta["staging.stg_esp__events.rows"] == 2
