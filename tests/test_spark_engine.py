"""The Spark engine (DATAMART_ENGINE=spark): the same refresh publishes the same datamart as DuckDB.

The end-to-end comparison is marked `spark` (`make test-spark`: it needs the `spark` extra and
Java); the engine switch, the lake's inputs and the mirror's types are tested without Spark.
"""

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.engines import ENGINE_ENV, dbt_steps, engine

from .conftest import DatamartEnv

# small enough for a test, big enough that every mart has rows
CUSTOMERS, DAYS = 150, 90
START = dt.date(2025, 1, 1)
AS_OF = START + dt.timedelta(days=DAYS - 1)


def test_the_engine_defaults_to_duckdb(monkeypatch):
    monkeypatch.delenv(ENGINE_ENV, raising=False)
    assert engine() == "duckdb"
    monkeypatch.setenv(ENGINE_ENV, " Spark ")
    assert engine() == "spark"


def test_an_unknown_engine_is_refused(monkeypatch):
    monkeypatch.setenv(ENGINE_ENV, "bogus")
    with pytest.raises(ValueError, match="DATAMART_ENGINE must be one of duckdb, spark, got 'bogus'"):
        engine()


def test_each_layer_reads_from_the_lake_what_it_does_not_build():
    from orchestration.resources import dbt_project

    manifest = dbt_steps.load_manifest(dbt_project.manifest_path)
    staging = dbt_steps.layer_inputs(manifest, "layer_staging")
    assert staging and all(t.startswith("raw.") for t in staging)
    marts = set(dbt_steps.layer_inputs(manifest, "layer_marts"))
    # the identity and privacy steps' outputs, and the staging layer as the privacy step left it
    assert {"identity.record_clusters", "identity.match_evidence", "privacy.erased_customers",
            "staging.stg_crm__customers", "reference.channels"} <= marts
    assert not any(t.startswith(("raw.", "marts.")) for t in marts)


def test_the_mirror_gives_the_duckdb_build_types(tmp_path):
    """Spark's timestamps (instants on a UTC clock) come back as naive UTC TIMESTAMPs, whatever
    the connection's time zone; an enforced contract's types win."""
    folder = tmp_path / "staging.db" / "t"
    folder.mkdir(parents=True)
    writer = duckdb.connect()
    writer.execute("SET TimeZone = 'UTC'")
    writer.execute(f"""COPY (SELECT TIMESTAMPTZ '2025-03-30 01:30:00+00' AS tz, TIMESTAMP_NS '2025-01-02 03:04:05' AS ns,
                             1::BIGINT AS n, 'a' AS s) TO '{folder / 'part-00000.parquet'}' (FORMAT parquet)""")
    (folder / "_SUCCESS").write_text("")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Europe/Paris'")  # as orchestration.warehouse.connect
    counts = dbt_steps.mirror_tables(con, {"staging.t": folder}, {"staging.t": {"n": "integer"}})
    assert counts == {"staging.t": 1}
    types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                             "WHERE table_name = 't'").fetchall())
    assert types == {"tz": "TIMESTAMP", "ns": "TIMESTAMP", "n": "INTEGER", "s": "VARCHAR"}
    assert con.execute("SELECT tz::VARCHAR FROM staging.t").fetchone()[0] == "2025-03-30 01:30:00"


def test_the_mirror_reads_partitioned_tables_in_the_contract_order(tmp_path):
    """Spark stores a partitioned table's partition column in folder names, and last in its
    schema; the mirror reads it back where the contract (the DuckDB build) has it."""
    folder = tmp_path / "marts.db" / "h"
    folder.parent.mkdir()
    writer = duckdb.connect()
    writer.execute(f"""COPY (SELECT 'c' || i AS customer_id, DATE '2025-03-30' + (i % 2)::INTEGER AS snapshot_date, i AS n
                             FROM range(4) t(i))
                       TO '{folder}' (FORMAT parquet, PARTITION_BY (snapshot_date))""")
    (folder / "_temporary").mkdir()  # a Spark job's leftovers are not data
    (folder / "_temporary" / "x.parquet").write_text("not parquet")
    con = duckdb.connect()
    contract = {"marts.h": {"customer_id": "varchar", "snapshot_date": "date", "n": "integer"}}
    assert dbt_steps.mirror_tables(con, {"marts.h": folder}, contract) == {"marts.h": 4}
    assert con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'h' "
                       "ORDER BY ordinal_position").fetchall() == [
        ("customer_id", "VARCHAR"), ("snapshot_date", "DATE"), ("n", "INTEGER")]
    assert con.execute("SELECT count(DISTINCT snapshot_date) FROM marts.h").fetchone()[0] == 2


def test_the_mirror_reads_where_the_spark_process_says(tmp_path):
    report = {"model.p.a": {"relation": "marts.a", "location": "file:/lake/marts/a"},
              "seed.p.b": {"relation": "reference.b", "location": "file:///w/reference.db/b"}}
    (tmp_path / "spark_tables.json").write_text(json.dumps(report))
    tables = dbt_steps.built_tables(["model.p.a", "seed.p.b"], tmp_path)
    assert {k: str(v) for k, v in tables.items()} == {"marts.a": "/lake/marts/a", "reference.b": "/w/reference.db/b"}
    with pytest.raises(LookupError):
        dbt_steps.built_tables(["model.p.missing"], tmp_path)


def test_the_comparison_tolerates_float_noise_not_differences(tmp_path):
    from orchestration.engines.compare import compare_datamarts

    def datamart(name, share, extra_rows=0):
        path = tmp_path / f"{name}.duckdb"
        con = duckdb.connect(str(path))
        con.execute("CREATE SCHEMA marts")
        con.execute(f"CREATE TABLE marts.t AS SELECT 'k' || i AS k, {share}::DOUBLE * (i + 1) AS share, "
                    f"now()::TIMESTAMP AS loaded_at FROM range({3 + extra_rows}) t(i)")
        con.close()
        return path

    # 1.3e-10 apart, on either side of the 9th significant digit's rounding boundary
    base = datamart("base", 0.258954161466532)
    assert compare_datamarts(base, datamart("noise", 0.2589541615)).same
    assert not compare_datamarts(base, datamart("off", 0.2589542)).same
    more = compare_datamarts(base, datamart("more", 0.258954161466532, extra_rows=1))
    assert more.differences == ["marts.t: 0 of 3 rows only in the first, 1 of 4 only in the second"]


def test_duckdb_sql_is_bound_and_translated_for_spark():
    """The identity and feature SQL, written for DuckDB, as Spark runs it (SparkSql)."""
    from orchestration.engines.spark_sql import to_spark

    sql = ("SELECT count(*) FILTER (WHERE d > $cutoff - INTERVAL 90 DAY) AS n, arg_min(k, r) AS k "
           "FROM t SEMI JOIN u USING (id) QUALIFY row_number() OVER (PARTITION BY k ORDER BY r) = 1")
    spark = to_spark(sql, {"cutoff": dt.date(2025, 3, 31)})
    assert "d > CAST('2025-03-31' AS DATE) - INTERVAL '90' DAY" in spark
    assert "MIN_BY(k, r)" in spark and "SEMI JOIN u" in spark and "WHERE _w = 1" in spark
    # positional parameters, a quote in a value kept a value
    assert to_spark("SELECT * FROM t WHERE s = ? AND n > ?", ["it's", 2]).endswith("WHERE s = 'it\\'s' AND n > 2")


def test_the_splink_model_is_given_to_spark_in_its_dialect():
    """On Spark, Splink reads a model's SQL in Spark's dialect: the shipped model's conditions
    translated, DuckDB's similarity functions named as in Splink's jar."""
    from orchestration.identity import on_spark, probabilistic

    model = on_spark.spark_model(probabilistic.load_model(None))
    conditions = [lv["sql_condition"] for c in model["comparisons"] for lv in c["comparison_levels"]]
    assert "`first_name_l` = `first_name_r`" in conditions  # Splink finds the exact level for tf
    assert any("JARO_WINKLER(`first_name_l`, `first_name_r`) >= 0.92" == c for c in conditions)
    assert not any('"' in c or "jaro_winkler_similarity" in c.lower() for c in conditions)
    assert {r["sql_dialect"] for r in model["blocking_rules_to_generate_predictions"]} == {"spark"}
    assert model["comparisons"][0]["comparison_levels"][1]["m_probability"] == \
        probabilistic.load_model(None)["comparisons"][0]["comparison_levels"][1]["m_probability"]


@pytest.mark.spark
def test_great_expectations_loads_where_pyspark_is_installed():
    """A Dagster step worker's `__main__` has no file, like `python -c`: there pyspark's Spark
    Connect module, which GX imports, used to end the process with exit code 0."""
    pytest.importorskip("pyspark", reason="the spark extra is not installed (make test-spark)")
    script = ("import data_quality.runner as r, great_expectations, pandas as pd; "
              "print(r.validate('marts.segment_profiles', "
              "pd.DataFrame({'segment': ['a'], 'share': [1.0], 'customers': [3]})).success)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0 and done.stdout.strip().endswith("True"), done.stderr[-2000:]


@pytest.fixture(scope="module")
def small_landing(tmp_path_factory):
    from orchestration.sample_silos import generate

    root = tmp_path_factory.mktemp("engines")
    generate(root / "landing", customers=CUSTOMERS, days=DAYS, start=START, seed=7, truth_out=root / "truth")
    return root / "landing"


@pytest.mark.spark
def test_spark_publishes_the_datamart_duckdb_publishes(tmp_path_factory, small_landing, monkeypatch):
    pytest.importorskip("pyspark", reason="the spark extra is not installed (make test-spark)")
    pytest.importorskip("dbt.adapters.spark", reason="the spark extra is not installed (make test-spark)")
    if shutil.which("java") is None:
        pytest.skip("no `java` on PATH: the Spark engine needs a Java 17+ runtime")
    from orchestration.cli import run_refresh
    from orchestration.engines.compare import compare_datamarts

    published = {}
    for name in ("duckdb", "spark"):
        monkeypatch.setenv(ENGINE_ENV, name)
        with DatamartEnv(tmp_path_factory.mktemp(f"home_{name}"), small_landing, AS_OF):
            ok, settings, problems = run_refresh(quiet=True)
        assert ok, f"the refresh on {name} failed: {problems}"
        published[name] = settings.published_path
    home = published["spark"].parent
    # raw rows (erased people's included) do not outlive the staging step in the lake
    assert not (home / "lake" / "raw").exists()
    # identity was resolved by Spark (Splink's Spark backend, stitching and components there)...
    night = json.loads((home / "spark" / "identity_out" / "night.json").read_text())
    assert night["match"]["mode"] == "full" and night["match"]["links"] > 0 and night["stats"]["customers"] > 0
    # ...the fit samples were drawn there, for tonight and every cutoff the fits read...
    scored = home / "spark" / "models_out" / "scored_customers"
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        cutoffs = con.execute("SELECT count(DISTINCT cutoff), max(cutoff) FROM ml.customer_features").fetchone()
        customers = con.execute("SELECT count(*) FROM marts.dim_customer").fetchone()[0]
        on_spark = con.execute(f"SELECT count(*), count(DISTINCT customer_id) FROM read_parquet('{scored}/*.parquet')"
                               ).fetchone()
    assert cutoffs == (5, AS_OF)
    # ...and every customer was scored there (the pandas UDF's output)
    assert on_spark == (customers, customers) and customers > 0

    # every table of both files; the columns a run stamps with its own clock or id (load and
    # build times, run ids, a model's version) are left out by name: compare.RUN_STAMPED
    result = compare_datamarts(published["duckdb"], published["spark"], schemas=("marts", "audit"))
    # names and counts only: the tables hold personal data
    assert result.same, "the engines' datamarts differ:\n" + "\n".join(result.differences)
    assert result.tables >= 25  # every mart and the load log were compared
