"""The nightly job and its schedule."""


import dagster as dg

nightly_refresh = dg.define_asset_job(
    name="nightly_refresh",
    selection=dg.AssetSelection.all(),
    description="Silos → raw → staging → identity → marts → scores → checks → published datamart.",
    executor_def=dg.in_process_executor,  # one DuckDB writer: steps run one after another
)

nightly_schedule = dg.ScheduleDefinition(
    name="nightly_refresh_0200_paris",
    job=nightly_refresh,
    cron_schedule="0 2 * * *",
    execution_timezone="Europe/Paris",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
