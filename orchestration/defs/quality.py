"""Great Expectations suites (data_quality/) as blocking Dagster asset checks.

GX cannot validate DuckDB through SQL as released, so each check fetches what the night
changed through Arrow into pandas (raw: the rows this run loaded; marts: the rebuilt table),
capped by a reproducible sample on very large nights, and validates it. A failed check stops
every downstream asset, the publish step included.
"""


from dataclasses import dataclass

import dagster as dg

from ..ingestion.specs import ENTITIES
from ..resources import DatamartResource
from ..warehouse import table_exists
from .ingestion import raw_key

MAX_ROWS_VALIDATED = 200_000


@dataclass(frozen=True)
class Gate:
    asset: dg.AssetKey
    name: str
    tables: tuple[tuple[str, str], ...]  # (suite name, SQL giving the rows to validate)


def _night_rows(table: str) -> str:
    return f"SELECT * EXCLUDE (_loaded_at) FROM {table} WHERE _load_id = $run_id"


GATES: list[Gate] = [
    Gate(raw_key(e), f"gx_raw_{e.name}", ((f"raw.{e.name}", _night_rows(e.raw_table)),))
    for e in ENTITIES
] + [
    Gate(dg.AssetKey(["marts", name]), f"gx_{name}", ((f"marts.{name}", f"SELECT * FROM marts.{name}"),))
    for name in ("dim_customer", "customer_identity_map", "fct_order_lines", "fct_customer_rfm")
] + [
    Gate(dg.AssetKey(["marts", "customer_scores"]), "gx_customer_scores",
         (("marts.customer_scores", "SELECT * FROM marts.customer_scores"),)),
]


def _fetch(con, sql: str, run_id: str):
    count = con.execute(f"SELECT count(*) FROM ({sql})", {"run_id": run_id} if "$run_id" in sql else None
                        ).fetchall()[0][0]
    sample = f" USING SAMPLE reservoir({MAX_ROWS_VALIDATED} ROWS) REPEATABLE (42)" if count > MAX_ROWS_VALIDATED else ""
    rel = con.sql(f"SELECT * FROM ({sql}){sample}", params={"run_id": run_id} if "$run_id" in sql else None)
    return rel.to_arrow_table().to_pandas(), count


CHECK_LOG = "audit.check_results"


def record_check(con, run_id, check, suite, passed, rows, failed) -> None:
    """Keep every check outcome in the warehouse, for `datamart status` and the published audit."""
    con.execute(f"""CREATE TABLE IF NOT EXISTS {CHECK_LOG} (run_id VARCHAR, check_name VARCHAR, suite VARCHAR,
                    passed BOOLEAN, rows_checked BIGINT, failed_expectations INTEGER, checked_at TIMESTAMP)""")
    con.execute(f"INSERT INTO {CHECK_LOG} VALUES (?, ?, ?, ?, ?, ?, now()::TIMESTAMP)",
                [run_id, check, suite, passed, rows, failed])


def _gate_check(gate: Gate) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=gate.asset, name=gate.name, blocking=True,
                    description=f"Great Expectations suites {', '.join(s for s, _ in gate.tables)}.")
    def _check(context: dg.AssetCheckExecutionContext, datamart: DatamartResource) -> dg.AssetCheckResult:
        from data_quality.runner import validate  # GX import costs seconds: only when checking

        metadata, passed = {}, True
        with datamart.connect(read_only=False) as con:
            for suite, sql in gate.tables:
                table = sql.split(" FROM ")[1].split()[0]
                if not table_exists(con, table):
                    metadata[f"{suite}.rows"] = 0
                    continue
                df, total = _fetch(con, sql, context.run.run_id)
                if df.empty:
                    metadata[f"{suite}.rows"] = 0
                    continue
                outcome = validate(suite, df)
                passed &= outcome.success
                metadata[f"{suite}.rows"] = total
                metadata[f"{suite}.rows_validated"] = len(df)
                for k, v in outcome.to_metadata().items():
                    metadata[f"{suite}.{k}"] = v
                record_check(con, context.run.run_id, gate.name, suite, outcome.success, total,
                             len(outcome.failed))
        return dg.AssetCheckResult(passed=passed, metadata=metadata,
                                   severity=dg.AssetCheckSeverity.ERROR)

    return _check


quality_checks = [_gate_check(g) for g in GATES]
