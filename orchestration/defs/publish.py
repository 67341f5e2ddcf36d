"""Write-audit-publish: the datamart BI reads is replaced only after every check passed."""


import datetime as dt
import os

import dagster as dg

from .. import charts
from ..resources import DatamartResource
from ..warehouse import connect
from .ingestion import OWNER, WAREHOUSE_POOL

PUBLISHED_SCHEMAS = ("marts",)
PUBLISHED_TABLES = ("audit.load_log", "audit.check_results")
# BI tools still embed DuckDB 1.x, which cannot open files written in the 2.0 format.
STORAGE_VERSION = "v1.5.0"

MART_KEYS = [dg.AssetKey(["marts", k]) for k in (
    "dim_customer", "customer_identity_map", "fct_order_lines", "fct_customer_rfm", "marketing_audience")]


@dg.asset(
    key=["publish", "datamart"],
    group_name="publish",
    kinds={"duckdb"},
    owners=[OWNER],
    pool=WAREHOUSE_POOL,
    deps=[*MART_KEYS, dg.AssetKey(["marts", "customer_scores"])],
    # BI expects last night's data every morning: warn after 25 h, fail after 26 h
    freshness_policy=dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(hours=26),
                                                    warn_window=dt.timedelta(hours=25)),
    description=(
        "Copies the marts and the load log into a brand-new DuckDB file (BI-readable storage "
        "version) and atomically replaces $DATAMART_HOME/datamart.duckdb. Runs only when every "
        "blocking check upstream passed; readers keep the last good version meanwhile. A fresh "
        "file also leaves no trace of erased people's deleted bytes."
    ),
)
def published_datamart(context: dg.AssetExecutionContext, datamart: DatamartResource) -> dg.MaterializeResult:
    s = datamart.settings()
    target = s.published_path
    tmp = target.with_name(target.name + ".next")
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)  # a previous crash mid-publish
    counts = {}
    con = connect(s.warehouse_path)
    try:
        con.execute(f"ATTACH '{tmp}' AS pub (STORAGE_VERSION '{STORAGE_VERSION}')")
        tables = [f"{sch}.{name}" for sch, name in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            f"WHERE table_catalog = current_database() AND table_schema IN ({', '.join('?' * len(PUBLISHED_SCHEMAS))}) "
            "AND table_type = 'BASE TABLE' ORDER BY 1, 2", list(PUBLISHED_SCHEMAS)).fetchall()]
        present = {f"{a}.{b}" for a, b in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables").fetchall()}
        for qualified in [*tables, *(t for t in PUBLISHED_TABLES if t in present)]:
            schema = qualified.split(".")[0]
            con.execute(f"CREATE SCHEMA IF NOT EXISTS pub.{schema}")
            con.execute(f"CREATE TABLE pub.{qualified} AS SELECT * FROM {qualified}")
            counts[qualified] = con.execute(f"SELECT count(*) FROM pub.{qualified}").fetchall()[0][0]
        con.execute("CREATE SCHEMA IF NOT EXISTS pub.audit")
        con.execute("""CREATE TABLE pub.audit.refresh_info AS
                       SELECT ?::DATE AS as_of, now()::TIMESTAMP AS published_at, ? AS run_id""",
                    [s.as_of, context.run.run_id])
        con.execute("DETACH pub")
        accounting = con.execute("""
            SELECT source || '/' || entity AS entity, sum(rows_loaded) AS loaded, sum(rows_quarantined) AS quarantined
            FROM audit.load_log WHERE load_id = ? GROUP BY ALL ORDER BY 1""", [context.run.run_id]).fetchall()
    finally:
        con.close()
    os.replace(tmp, target)  # atomic: readers see the old file or the new one, never a mix
    pictures = {}
    if accounting:
        pictures["load_accounting"] = charts.bar_chart(
            [a[0] for a in accounting], {"loaded": [a[1] for a in accounting], "quarantined": [a[2] for a in accounting]},
            "Rows loaded and quarantined tonight, per entity", "rows", log=True)
    return dg.MaterializeResult(metadata={**pictures,
        "path": dg.MetadataValue.path(str(target)),
        "as_of": s.as_of.isoformat(),
        "storage_version": STORAGE_VERSION,
        "tables": dg.MetadataValue.json(counts),
        "size_mb": round(target.stat().st_size / 1e6, 2),
    })
