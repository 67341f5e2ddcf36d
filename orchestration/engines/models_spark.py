"""The ML step's inputs on the Spark engine: feature tables computed where the marts are.

On DuckDB the scoring step computes its features itself (models_ml/features.py, value.py). On
Spark, ``run`` has ``datamart-models-spark`` compute them first, with the same SQL (through
SparkSql) on the tables dbt built in Spark's catalog, for every cutoff the night reads: tonight's
(scoring), the latest labelled one (the deployed model's guard, the segments' purchase rate) and
the training snapshots. They come back as Parquet and are loaded into the warehouse
(``ml.customer_features``, one row per customer and cutoff; ``ml.customer_value_inputs``), where
the scoring reads them instead of computing them: training samples, and scoring runs in chunks
(models_ml/propensity.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
from pathlib import Path

import duckdb

from .jobs import run_job


def out_dir(home: Path) -> Path:
    return home / "spark" / "models_out"


# -- the orchestrator's side ---------------------------------------------------------------------

def run(con: duckdb.DuckDBPyConnection, home: Path, as_of: dt.date) -> dict[str, float]:
    """Compute tonight's feature tables on Spark and load them; returns counts and seconds."""
    from models_ml.features import ENGINE_FEATURES, features_sql
    from models_ml.propensity import engine_cutoffs  # scikit-learn: imported when a night runs
    from models_ml.value import ENGINE_VALUE_INPUTS, VALUE_INPUTS_SQL

    out = out_dir(home)
    shutil.rmtree(out, ignore_errors=True)
    cutoffs = ",".join(c.isoformat() for c in engine_cutoffs(as_of))
    spark_s = run_job("datamart-models-spark", ["--as-of", as_of.isoformat(), "--cutoffs", cutoffs,
                                                "--out", str(out)], home, "the feature tables")
    con.execute("CREATE SCHEMA IF NOT EXISTS ml")
    _load(con, ENGINE_FEATURES, out / "customer_features", "cutoff", features_sql(con), {"cutoff": as_of})
    _load(con, ENGINE_VALUE_INPUTS, out / "customer_value_inputs", "as_of", VALUE_INPUTS_SQL, {"as_of": as_of})
    rows = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in (ENGINE_FEATURES, ENGINE_VALUE_INPUTS)}
    return {"features_spark_s": round(spark_s, 2), **{f"{t}_rows": n for t, n in rows.items()}}


def _load(con: duckdb.DuckDBPyConnection, table: str, folder: Path, partition: str, sql: str, params: dict) -> None:
    """Spark's Parquet partitions into `table`, the partition folder's value a DATE column. Spark
    writes no file for a partition without rows: with none at all, the table is the query's
    columns without rows (a zone too young for any customer)."""
    if any(folder.glob("*/*.parquet")):
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM read_parquet('{folder}/*/*.parquet', "
                    f"hive_partitioning = true, hive_types = {{'{partition}': DATE}})")
    else:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT *, CAST(NULL AS DATE) AS {partition} "
                    f"FROM ({sql}) WHERE false", params)


# -- the Spark process ---------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    from pyspark.sql import functions as F

    from models_ml.features import features_sql
    from models_ml.value import VALUE_INPUTS_SQL

    from ..settings import Settings
    from .spark import get_session
    from .spark_sql import SparkSql

    parser = argparse.ArgumentParser(prog="datamart-models-spark", description=__doc__.splitlines()[0])
    parser.add_argument("--as-of", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--cutoffs", required=True, help="comma-separated dates")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    # the catalog the dbt steps built the marts in
    con = SparkSql(get_session(Settings.from_env().home))
    sql = features_sql(con)
    frames = [con.query(sql, {"cutoff": dt.date.fromisoformat(c)}).withColumn("cutoff", F.lit(c))
              for c in args.cutoffs.split(",")]
    union = frames[0]
    for frame in frames[1:]:
        union = union.unionByName(frame)
    union.write.mode("overwrite").partitionBy("cutoff").parquet(str(args.out / "customer_features"))
    con.query(VALUE_INPUTS_SQL, {"as_of": args.as_of}).withColumn("as_of", F.lit(args.as_of.isoformat())) \
        .write.mode("overwrite").partitionBy("as_of").parquet(str(args.out / "customer_value_inputs"))
    con.spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
