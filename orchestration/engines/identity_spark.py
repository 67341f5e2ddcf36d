"""The identity step on the Spark engine (orchestration/identity/on_spark.py), in a process of its own.

The Dagster step (orchestration/defs/identity.py) calls ``run``: the step's inputs go from the
warehouse to the lake (the identity inputs as the privacy step left them, yesterday's clusters
and id history), ``datamart-identity-spark`` resolves them on a Spark session and writes its
outputs as Parquet with a JSON of counts, and ``run`` loads them into the warehouse in one
transaction. Like the dbt steps, the orchestrator's process never starts a JVM.

The session keeps its catalog in memory: the Derby catalog of the dbt steps allows one JVM at a time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.abc
import importlib.util
import json
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path

import duckdb

from ..warehouse import table_exists
from .jobs import run_job
from .lake import export_tables, lake_dir

INPUTS = ("intermediate.int_identity__records", "intermediate.int_identity__record_keys")
PREVIOUS = ("identity.record_clusters", "identity.customer_id_history")
OUTPUTS = ("record_clusters", "match_evidence")
NIGHT_FILE = "night.json"
EVIDENCE_COLUMNS = ("customer_id VARCHAR, source_l VARCHAR, source_record_id_l VARCHAR, source_r VARCHAR, "
                    "source_record_id_r VARCHAR, match_probability DOUBLE, match_weight DOUBLE, evidence VARCHAR, "
                    "scored_on DATE")


def out_dir(home: Path) -> Path:
    return home / "spark" / "identity_out"


# -- the orchestrator's side ---------------------------------------------------------------------

def run(con: duckdb.DuckDBPyConnection, home: Path, model_path: Path, as_of: dt.date,
        household_guards: bool = True, threshold: float | None = None):
    """Tonight's identity resolution on Spark, as the DuckDB step reports it (incremental.Night).
    `model_path`: the retrained model beside the warehouse, used when it exists (load_model)."""
    from ..identity import clusters as C
    from ..identity.incremental import Night
    from ..identity.matching import MatchStats
    from ..identity.stitching import StitchStats

    con.execute(C.DDL)
    lake = lake_dir(home)
    present = [t for t in PREVIOUS if table_exists(con, t)]
    export_tables(con, lake, [*INPUTS, *present])
    out = out_dir(home)
    shutil.rmtree(out, ignore_errors=True)
    args = ["--model", str(model_path), "--as-of", as_of.isoformat(), "--out", str(out)]
    if not household_guards:
        args.append("--no-household-guards")
    if threshold is not None:
        args += ["--threshold", str(threshold)]
    if "identity.record_clusters" in present:
        args.append("--has-previous")
    spark_s = run_job("datamart-identity-spark", args, home, "identity resolution")
    night = json.loads((out / NIGHT_FILE).read_text())
    t0 = time.perf_counter()
    load_outputs(con, out, night["history"], as_of)
    stats = night["stats"]
    return Night(mode="full", why_full="the Spark engine re-resolves every record", stitch=StitchStats(**night["stitch"]),
                 match=MatchStats(**night["match"]), stats=stats, scope_records=int(stats.pop("placed_records")),
                 timings={"spark_s": spark_s, "load_s": time.perf_counter() - t0},
                 changes_from="every record (Spark engine)")


def load_outputs(con: duckdb.DuckDBPyConnection, out: Path, history: list[list[str]], as_of: dt.date) -> None:
    """Tonight's clusters and evidence replace the warehouse's, and the id history grows, in one
    transaction. The incremental state of the DuckDB engine is dropped: it describes a night Spark
    did not run, so a DuckDB night after a Spark one re-resolves every record."""
    from ..identity import clusters as C
    from ..identity.incremental import drop_state

    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE OR REPLACE TABLE {C.CLUSTERS_TABLE} AS SELECT source, source_record_id, customer_id, "
                    f"match_rule, CAST(match_confidence AS DOUBLE) AS match_confidence "
                    f"FROM read_parquet('{out / 'record_clusters'}/*.parquet') ORDER BY source, source_record_id")
        con.execute(f"CREATE OR REPLACE TABLE {C.EVIDENCE_TABLE} ({EVIDENCE_COLUMNS})")
        con.execute(f"INSERT INTO {C.EVIDENCE_TABLE} SELECT * FROM read_parquet('{out / 'match_evidence'}/*.parquet')")
        if history:
            con.executemany(f"INSERT INTO {C.HISTORY_TABLE} VALUES (?, ?, ?, ?)",
                            [(old, new, as_of, why) for old, new, why in history])
        drop_state(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


# -- the Spark process ---------------------------------------------------------------------------

class _SqlglotSources(importlib.abc.MetaPathFinder):
    """Imports sqlglot from its Python sources, not from the compiled modules the `sqlglotc`
    wheel puts beside them (dagster-dbt asks for sqlglot[rs]). Splink's Spark dialect subclasses
    sqlglot's Spark generator, and a compiled class refuses interpreted subclasses ("interpreted
    classes cannot inherit from compiled"). Same version, same behaviour, only slower to parse."""

    def find_spec(self, name, path, target=None):
        if name != "sqlglot" and not name.startswith("sqlglot."):
            return None
        leaf = name.rpartition(".")[2]
        for folder in map(Path, path if path is not None else sys.path):
            if (folder / leaf / "__init__.py").is_file():
                return importlib.util.spec_from_file_location(
                    name, folder / leaf / "__init__.py", submodule_search_locations=[str(folder / leaf)])
            if (folder / f"{leaf}.py").is_file():
                return importlib.util.spec_from_file_location(name, folder / f"{leaf}.py")
        return None


def _use_sqlglot_sources() -> None:
    if any(m == "sqlglot" or m.startswith("sqlglot.") for m in sys.modules):
        raise RuntimeError("sqlglot was imported before its sources could be chosen")
    sys.meta_path.insert(0, _SqlglotSources())


def main(argv: list[str] | None = None) -> int:
    _use_sqlglot_sources()
    from ..identity import clusters as C
    from ..identity import on_spark
    from ..identity import probabilistic as P
    from ..settings import Settings
    from .lake import register_tables
    from .spark import get_session
    from .spark_sql import SparkSql

    parser = argparse.ArgumentParser(prog="datamart-identity-spark", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="the Splink model (JSON) to score with")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--out", type=Path, required=True, help="folder for the outputs")
    parser.add_argument("--threshold", type=float, default=P.MATCH_PROBABILITY)
    parser.add_argument("--no-household-guards", action="store_true")
    parser.add_argument("--has-previous", action="store_true", help="map ids onto yesterday's clusters")
    args = parser.parse_args(argv)

    home = Settings.from_env().home
    spark = get_session(home, catalog=False)
    register_tables(spark, lake_dir(home), [*INPUTS, *PREVIOUS])
    con = SparkSql(spark)
    model = P.load_model(args.model)
    night = on_spark.resolve(con, model, args.as_of, args.has_previous,
                             household_guards=not args.no_household_guards, threshold=args.threshold)
    args.out.mkdir(parents=True, exist_ok=True)
    con.frame("id_placed_final").select("source", "source_record_id", "customer_id", "match_rule",
                                        "match_confidence").write.mode("overwrite").parquet(
        str(args.out / "record_clusters"))
    con.sql(C.evidence_rows_sql()).frame.write.mode("overwrite").parquet(str(args.out / "match_evidence"))
    (args.out / NIGHT_FILE).write_text(json.dumps({
        "stats": night.stats, "match": asdict(night.match), "stitch": asdict(night.stitch),
        "history": [list(h) for h in night.history], "component_rounds": night.component_rounds}, default=str))
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
