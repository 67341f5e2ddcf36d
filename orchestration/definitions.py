"""The Dagster code location: assembles assets, checks, jobs, schedules and resources."""

import dagster as dg

from .defs.automation import landing_files_sensor, nightly_refresh, nightly_schedule, refresh_failure_alert
from .defs.bi import parquet_export, publish_postgres
from .defs.dbt import dbt_marts, dbt_staging
from .defs.identity import identity_resolution
from .defs.ingestion import ingestion_assets
from .defs.models import customer_scores
from .defs.privacy import erased_customers
from .defs.publish import published_datamart
from .defs.quality import quality_checks
from .resources import DatamartResource, dbt_resource

defs = dg.Definitions(
    assets=[*ingestion_assets, dbt_staging, identity_resolution, erased_customers, dbt_marts, customer_scores, published_datamart,
            parquet_export, publish_postgres],
    asset_checks=quality_checks,
    jobs=[nightly_refresh],
    schedules=[nightly_schedule],
    sensors=[landing_files_sensor, refresh_failure_alert],
    resources={"datamart": DatamartResource(), "dbt": dbt_resource()},
    executor=dg.in_process_executor,
)
