"""Nightly automation: the landing sensor and the failure alert."""

import json

import dagster as dg

from orchestration.defs.automation import landing_files_sensor, write_alert

from .conftest import DatamartEnv


def test_landing_sensor_fires_once_per_change(tmp_path):
    landing = tmp_path / "landing"
    (landing / "crm" / "customers").mkdir(parents=True)
    with DatamartEnv(tmp_path / "home", landing, __import__("datetime").date(2025, 1, 1)):
        ctx = dg.build_sensor_context()
        first = landing_files_sensor(ctx)
        assert isinstance(first, dg.SkipReason)
        ctx = dg.build_sensor_context(cursor=ctx.cursor)
        assert isinstance(landing_files_sensor(ctx), dg.SkipReason)  # nothing new
        (landing / "crm" / "customers" / "2025-01-02.csv").write_text("crm_id,updated_at\n")
        ctx = dg.build_sensor_context(cursor=ctx.cursor)
        request = landing_files_sensor(ctx)
        assert isinstance(request, dg.RunRequest) and request.tags["trigger"] == "landing_files"
        ctx = dg.build_sensor_context(cursor=ctx.cursor)
        assert isinstance(landing_files_sensor(ctx), dg.SkipReason)  # the same change fires once


def test_failure_alert_is_written_to_the_log(tmp_path):
    with DatamartEnv(tmp_path / "home", tmp_path / "landing", __import__("datetime").date(2025, 1, 1)):
        path = write_alert({"job": "nightly_refresh", "run_id": "r1", "failed_steps": ["dbt_marts"],
                            "message": "DagsterDbtCliRuntimeError"})
    alert = json.loads(path.read_text().splitlines()[-1])
    assert alert["failed_steps"] == ["dbt_marts"] and path.name == "alerts.log"
