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
                 "DATAMART_INCREMENTAL_WINDOW_DAYS"):
        monkeypatch.delenv(name, raising=False)
    tonight = night_scope(WED, WED - dt.timedelta(days=1))
    tomorrow = night_scope(WED + dt.timedelta(days=1), WED)
    assert dbt_args(None, tonight) == dbt_args(None, tomorrow)
    assert "unit_test" in dbt_args(None, tonight)  # unit tests only on whole-scope nights
    assert "unit_test" not in dbt_args(None, night_scope(WED, None))
    assert dbt_env(WED.isoformat(), tonight) == {"DATAMART_DBT_AS_OF": "2025-12-31",
                                                 "DATAMART_DBT_WHOLE_TABLE_TESTS": "false"}
    # a launchpad tunable is still a dbt var, and so is a full refresh a dbt flag
    args = dbt_args(DbtBuildConfig(pressure_cap_7d=5, full_refresh=True), night_scope(WED, None))
    assert '{"pressure_cap_7d": 5}' in args and "--full-refresh" in args
