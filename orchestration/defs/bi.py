"""BI access: Parquet export and PostgreSQL copy of the published datamart (group `publish`)."""

import os

import dagster as dg

from ..bi.parquet import export_marts
from ..bi.postgres import publish_to_postgres
from ..resources import DatamartResource
from .ingestion import OWNER

PUBLISHED = dg.AssetKey(["publish", "datamart"])


@dg.asset(
    key=["publish", "parquet"],
    group_name="publish",
    kinds={"parquet"},
    owners=[OWNER],
    deps=[PUBLISHED],
    description="One Parquet file per published mart in $DATAMART_HOME/parquet (swapped in as a whole).",
)
def parquet_export(datamart: DatamartResource) -> dg.MaterializeResult:
    s = datamart.settings()
    counts = export_marts(s.published_path, s.home / "parquet")
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(s.home / "parquet")),
                                          "tables": dg.MetadataValue.json(counts)})


@dg.asset(
    key=["publish", "postgres"],
    group_name="publish",
    kinds={"postgres"},
    owners=[OWNER],
    deps=[PUBLISHED],
    output_required=False,
    description=(
        "Loads the published marts into PostgreSQL (schema `marts`, ADBC bulk ingest into __next tables, "
        "swapped by rename in one transaction) with the read-only role `datamart_reader`. Runs when "
        "DATAMART_POSTGRES_URL is set; otherwise it is skipped."
    ),
)
def publish_postgres(context: dg.AssetExecutionContext, datamart: DatamartResource):
    url = os.environ.get("DATAMART_POSTGRES_URL")
    if not url:
        context.log.info("DATAMART_POSTGRES_URL is not set: no PostgreSQL copy tonight")
        return
    counts = publish_to_postgres(datamart.settings().published_path, url,
                                 os.environ.get("DATAMART_POSTGRES_READER_PASSWORD"))
    yield dg.MaterializeResult(metadata={"tables": dg.MetadataValue.json(counts)})
