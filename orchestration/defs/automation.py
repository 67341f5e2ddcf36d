"""Running it like production: the nightly job, its schedule, a landing-file sensor, alerts."""

import datetime as dt
import hashlib
import json
import os
import urllib.request
from pathlib import Path

import dagster as dg

from ..settings import Settings

nightly_refresh = dg.define_asset_job(
    name="nightly_refresh",
    selection=dg.AssetSelection.all(),
    description="Silos → raw → staging → identity → marts → scores → checks → published datamart.",
    executor_def=dg.in_process_executor,  # one DuckDB writer: steps run one after another
    # transient errors (a file still being written, a lock held by a reader) get retried
    op_retry_policy=dg.RetryPolicy(max_retries=2, delay=20, backoff=dg.Backoff.EXPONENTIAL),
    tags={"dagster/max_runtime": str(4 * 3600)},
)

nightly_schedule = dg.ScheduleDefinition(
    name="nightly_refresh_0200_paris",
    job=nightly_refresh,
    cron_schedule="0 2 * * *",
    execution_timezone="Europe/Paris",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="The nightly refresh, every day at 02:00 Europe/Paris.",
)


def landing_fingerprint(landing_dir: Path) -> tuple[str, int]:
    """A digest of the landing zone's file names, sizes and modification times (no content read)."""
    h = hashlib.sha1()
    count = 0
    if landing_dir.is_dir():
        for p in sorted(landing_dir.glob("*/*/*.*")):
            st = p.stat()
            h.update(f"{p.relative_to(landing_dir)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
            count += 1
    return h.hexdigest(), count


@dg.sensor(
    job=nightly_refresh,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts a refresh when landing files arrive or change (checked every 5 minutes).",
)
def landing_files_sensor(context: dg.SensorEvaluationContext):
    digest, count = landing_fingerprint(Settings.from_env().landing_dir)
    if context.cursor is None:
        context.update_cursor(digest)  # first evaluation: remember, the schedule covers what is there
        return dg.SkipReason(f"watching {count} landing files")
    if digest == context.cursor:
        return dg.SkipReason("no new or changed landing files")
    context.update_cursor(digest)
    return dg.RunRequest(run_key=digest, tags={"trigger": "landing_files"})


def write_alert(alert: dict) -> Path:
    """Append the alert to $DATAMART_HOME/alerts.log; also POST it to DATAMART_ALERT_WEBHOOK if set."""
    path = Settings.from_env().home / "alerts.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(alert) + "\n")
    webhook = os.environ.get("DATAMART_ALERT_WEBHOOK")
    if webhook:
        req = urllib.request.Request(webhook, data=json.dumps(alert).encode(),
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).close()
    return path


@dg.run_failure_sensor(default_status=dg.DefaultSensorStatus.RUNNING,
                       description="Writes a clear alert (log file, optional webhook) when a run fails.")
def refresh_failure_alert(context: dg.RunFailureSensorContext):
    failure = context.failure_event
    steps = sorted({e.step_key for e in context.get_step_failure_events() if e.step_key})
    alert = {
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "job": context.dagster_run.job_name,
        "run_id": context.dagster_run.run_id,
        "failed_steps": steps,
        # the class of the error only: messages can quote data, alerts never carry personal data
        "message": (failure.message or "run failed").splitlines()[0][:200],
    }
    path = write_alert(alert)
    context.log.info(f"alert written to {path}")
