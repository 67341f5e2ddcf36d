"""Ingestion: one step per source silo, generated from the entity specs (group `ingestion`).

Each source's step loads all its entities and materializes one asset per raw table
(`raw/<source>__<entity>`), the same keys dbt's sources use, so lineage connects by itself.
"""

import dagster as dg

from ..ingestion.loader import load_entity
from ..ingestion.specs import SOURCES, EntitySpec, entities_of
from ..resources import DatamartResource
from ..warehouse import table_rows

OWNER = "team:data-engineering"
WAREHOUSE_POOL = "duckdb_warehouse"  # DuckDB has one writer per file


def raw_key(spec: EntitySpec) -> dg.AssetKey:
    return dg.AssetKey(["raw", spec.name])


def _ingestion_step(source: str) -> dg.AssetsDefinition:
    specs = entities_of(source)

    @dg.multi_asset(
        name=f"ingest_{source}",
        specs=[
            dg.AssetSpec(
                raw_key(spec),
                group_name="ingestion",
                kinds={"duckdb", "python"},
                owners=[OWNER],
                description=(f"`{spec.source}/{spec.entity}` landing files ({spec.fmt}) loaded as typed rows "
                             f"into {spec.raw_table}. Bad rows go to quarantine.rejected_rows with file, "
                             "line and reason; one audit.load_log row per file."),
                metadata={"fields": ", ".join(f"{f.name}:{f.type}{'*' if f.required else ''}" for f in spec.fields)},
            )
            for spec in specs
        ],
        check_specs=[
            dg.AssetCheckSpec("landing_anomalies", asset=raw_key(spec), blocking=False,
                              description="Warns about files that loaded but look wrong: ten times the usual "
                                          "rows of the entity, or dated after today (left for their night).")
            for spec in specs
        ],
        pool=WAREHOUSE_POOL,
        retry_policy=dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL),
    )
    def _load(context: dg.AssetExecutionContext, datamart: DatamartResource):
        s = datamart.settings()
        with datamart.connect() as con:
            for spec in specs:
                r = load_entity(con, s.landing_dir, spec, s.as_of, load_id=context.run.run_id)
                context.log.info(
                    f"{spec.name}: {r.files_loaded} file(s) loaded ({r.files_reloaded} reloaded), "
                    f"{r.files_skipped} unchanged, {r.files_refused} refused; rows read {r.rows_read}, "
                    f"loaded {r.rows_loaded}, quarantined {r.rows_quarantined}")
                for why in r.refused:
                    context.log.warning(f"refused {why}")
                for why in r.warnings:
                    context.log.warning(why)
                yield dg.MaterializeResult(asset_key=raw_key(spec), metadata={
                    "files_loaded": r.files_loaded,
                    "files_reloaded": r.files_reloaded,
                    "files_unchanged": r.files_skipped,
                    "files_refused": r.files_refused,
                    "rows_read": r.rows_read,
                    "rows_loaded": r.rows_loaded,
                    "rows_quarantined": r.rows_quarantined,
                    "dagster/row_count": table_rows(con, spec.raw_table),
                })
                yield dg.AssetCheckResult(asset_key=raw_key(spec), check_name="landing_anomalies",
                                          passed=not r.warnings, severity=dg.AssetCheckSeverity.WARN,
                                          metadata={"files_flagged": len(r.warnings),
                                                    "flagged": "; ".join(r.warnings) or "none"})

    return _load


ingestion_assets = [_ingestion_step(source) for source in SOURCES]
