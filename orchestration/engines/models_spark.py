"""The ML step on the Spark engine: samples drawn and every customer scored where the marts are.

On DuckDB the scoring step draws its fit samples and applies the night's models itself
(models_ml/scoring.py). On Spark it asks ``datamart-models-spark`` twice:

1. ``features``: the fit samples (features.sample_sql, the same customers DuckDB would draw),
   computed with the same SQL (through SparkSql) on the tables dbt built in Spark's catalog, for
   every cutoff the night reads: tonight's, the latest labelled one (the deployed model's guard,
   the decision rules, the segments' purchase rate) and the training snapshots; and the value
   model's sample. They come back as Parquet into ``ml.customer_features`` (one row per sampled
   customer and cutoff) and ``ml.customer_value_inputs``, where ``fit_night`` reads them.
2. ``score``: the fitted ``NightModels`` (a pickle) applied to every customer of dim_customer as
   a pandas UDF (``mapInPandas``) on the executors, the rows back as Parquet into the scoring's
   work table. The driver never holds every customer's features.
"""

from __future__ import annotations

import argparse
import datetime as dt
import pickle
import shutil
import sys
from pathlib import Path

import duckdb

from .jobs import run_job


def out_dir(home: Path) -> Path:
    return home / "spark" / "models_out"


# -- the orchestrator's side ---------------------------------------------------------------------

def run(con: duckdb.DuckDBPyConnection, home: Path, as_of: dt.date, seed: int) -> dict[str, float]:
    """Draw tonight's fit samples on Spark and load them; returns counts and seconds."""
    from models_ml.features import ENGINE_FEATURES, FIT_SAMPLE_ROWS, features_sql, sample_sql
    from models_ml.propensity import engine_cutoffs  # scikit-learn: imported when a night runs
    from models_ml.scoring import value_sample_sql
    from models_ml.value import ENGINE_VALUE_INPUTS

    out = out_dir(home)
    shutil.rmtree(out, ignore_errors=True)
    cutoffs = ",".join(c.isoformat() for c in engine_cutoffs(as_of))
    spark_s = run_job("datamart-models-spark", ["features", "--as-of", as_of.isoformat(), "--cutoffs", cutoffs,
                                                "--seed", str(seed), "--out", str(out)], home, "the fit samples")
    con.execute("CREATE SCHEMA IF NOT EXISTS ml")
    _load(con, ENGINE_FEATURES, out / "customer_features", "cutoff",
          sample_sql(features_sql(con), FIT_SAMPLE_ROWS, seed), {"cutoff": as_of})
    _load(con, ENGINE_VALUE_INPUTS, out / "customer_value_inputs", "as_of", value_sample_sql(seed), {"as_of": as_of})
    rows = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in (ENGINE_FEATURES, ENGINE_VALUE_INPUTS)}
    return {"samples_spark_s": round(spark_s, 2), **{f"{t}_rows": n for t, n in rows.items()}}


def apply_on_spark(con: duckdb.DuckDBPyConnection, home: Path, night, timings: dict) -> None:
    """Score every customer with `night` (a NightModels) on Spark, into the scoring's work table."""
    from models_ml.scoring import create_scored

    out = out_dir(home)
    out.mkdir(parents=True, exist_ok=True)
    models = out / "night.pkl"
    with models.open("wb") as fh:
        pickle.dump(night, fh)
    scored = out / "scored_customers"
    timings["scoring_spark_s"] = round(run_job(
        "datamart-models-spark", ["score", "--as-of", night.as_of.isoformat(), "--models", str(models),
                                  "--out", str(scored)], home, "the scoring"), 2)
    files = sorted(scored.glob("*.parquet"))
    create_scored(con, f"SELECT * FROM read_parquet('{scored}/*.parquet')" if files else None)


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
    parser = argparse.ArgumentParser(prog="datamart-models-spark", description=__doc__.splitlines()[0])
    steps = parser.add_subparsers(dest="step", required=True)
    features = steps.add_parser("features", help="the night's fit samples")
    features.add_argument("--as-of", type=dt.date.fromisoformat, required=True)
    features.add_argument("--cutoffs", required=True, help="comma-separated dates")
    features.add_argument("--seed", type=int, required=True)
    features.add_argument("--out", type=Path, required=True)
    score = steps.add_parser("score", help="every customer scored with the night's models")
    score.add_argument("--as-of", type=dt.date.fromisoformat, required=True)
    score.add_argument("--models", type=Path, required=True, help="a pickled NightModels")
    score.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    from ..settings import Settings
    from .spark import get_session
    from .spark_sql import SparkSql

    # the catalog the dbt steps built the marts in
    con = SparkSql(get_session(Settings.from_env().home))
    try:
        (_samples if args.step == "features" else _score)(con, args)
    finally:
        con.spark.stop()
    return 0


def _samples(con, args) -> None:
    from pyspark.sql import functions as F

    from models_ml.features import FIT_SAMPLE_ROWS, features_sql, sample_sql
    from models_ml.scoring import value_sample_sql

    sql = sample_sql(features_sql(con), FIT_SAMPLE_ROWS, args.seed)
    frames = [con.query(sql, {"cutoff": dt.date.fromisoformat(c)}).withColumn("cutoff", F.lit(c))
              for c in args.cutoffs.split(",")]
    union = frames[0]
    for frame in frames[1:]:
        union = union.unionByName(frame)
    union.write.mode("overwrite").partitionBy("cutoff").parquet(str(args.out / "customer_features"))
    con.query(value_sample_sql(args.seed), {"as_of": args.as_of}).withColumn("as_of", F.lit(args.as_of.isoformat())) \
        .write.mode("overwrite").partitionBy("as_of").parquet(str(args.out / "customer_value_inputs"))


def _score(con, args) -> None:
    from models_ml.scoring import SCORED_COLUMNS, apply_night, scoring_input_sql

    with args.models.open("rb") as fh:
        night = pickle.load(fh)
    if night.as_of != args.as_of:
        raise ValueError(f"the models are for {night.as_of}, the night is {args.as_of}")
    schema = ", ".join(f"{c} {_SPARK_TYPES[t]}" for c, t in SCORED_COLUMNS.items())

    def score(chunks):  # on the executors: `night` travels with the function
        for rows in chunks:
            yield apply_night(night, rows)

    rows = con.query(scoring_input_sql(con), {"cutoff": args.as_of, "as_of": args.as_of})
    rows.mapInPandas(score, schema).write.mode("overwrite").parquet(str(args.out))


_SPARK_TYPES = {"VARCHAR": "string", "DATE": "date", "DOUBLE": "double"}


if __name__ == "__main__":
    sys.exit(main())
