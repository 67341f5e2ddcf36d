"""A Spark session configured for the datamart, with the project's functions registered.

Local by default (``local[2]``, a Hive catalog on Derby and a warehouse folder under
``DATAMART_HOME/spark``), so tests need nothing but Java; ``DATAMART_SPARK_MASTER`` and
``DATAMART_SPARK_CONF`` (``key=value;key=value``) point it at a cluster. dbt-spark's ``session``
method takes the process's active session, so dbt runs in this process
(``orchestration.engines.dbt_spark``) and sees the functions registered here.

Timestamps: the warehouse's timestamps are naive (DuckDB ``TIMESTAMP``). Spark reads them as
instants, so the session clock is UTC: a naive 10:00 stays 10:00 in every cast and truncation.
"""

from __future__ import annotations

import os
import sys
import unicodedata
from pathlib import Path

import pandas as pd

from ..normalization import to_e164
from ..settings import PROJECT_ROOT

MASTER_ENV = "DATAMART_SPARK_MASTER"
CONF_ENV = "DATAMART_SPARK_CONF"


def spark_dir(home: Path) -> Path:
    return home / "spark"


def _extra_conf() -> dict[str, str]:
    raw = os.environ.get(CONF_ENV, "").strip()
    conf: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in raw.split(";"))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{CONF_ENV} takes key=value pairs separated by ';', got {item!r}")
        conf[key.strip()] = value.strip()
    return conf


def _splink_jar() -> str:
    """Splink's Scala similarity functions (jaro_winkler, damerau_levenshtein: the model's levels)."""
    from splink.backends.spark import similarity_jar_location

    return similarity_jar_location()


def session_conf(home: Path, catalog: bool = True) -> dict[str, str]:
    """The session's configuration: local defaults, then DATAMART_SPARK_CONF on top. `catalog`:
    the Hive catalog on Derby the dbt steps share (one JVM at a time may open it); without it
    the session keeps its catalog in memory, under a scratch warehouse of its own."""
    base = spark_dir(home)
    conf = {
        "spark.sql.warehouse.dir": str(base / ("warehouse" if catalog else "scratch")),
        **({"spark.hadoop.javax.jdo.option.ConnectionURL":
            f"jdbc:derby:;databaseName={base / 'metastore_db'};create=true",
            "spark.driver.extraJavaOptions": f"-Dderby.system.home={base}"} if catalog else {}),
        "spark.jars": _splink_jar(),
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.parquet.inferTimestampNTZ.enabled": "false",
        # a night's tables are small next to a cluster's defaults (200 partitions per shuffle)
        "spark.sql.shuffle.partitions": "4",
        "spark.sql.adaptive.enabled": "true",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        "spark.sql.legacy.createHiveTableByDefault": "false",
        "spark.driver.memory": "2g",
    }
    conf.update(_extra_conf())
    return conf


def get_session(home: Path, catalog: bool = True):
    """The process's Spark session (created once), with the project's SQL functions; `catalog`:
    session_conf."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Python workers run this interpreter with the project importable (the UDFs' code); on a
    # cluster the project's wheel is installed on the executors instead
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")) if p)
    spark_dir(home).mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.appName("customer-datamart").master(
        os.environ.get(MASTER_ENV, "").strip() or "local[2]")
    for key, value in session_conf(home, catalog).items():
        builder = builder.config(key, value)
    spark = (builder.enableHiveSupport() if catalog else builder).getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    register_functions(spark)
    return spark


def _strip_accents(text: str | None) -> str | None:
    if text is None:
        return None
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def register_functions(spark) -> None:
    """The functions DuckDB gets from orchestration.dbt_plugin (and its own strip_accents),
    under the same names, as vectorised (Arrow) UDFs."""
    from pyspark.sql.functions import pandas_udf

    # results as object Series: pandas 3 maps strings into an Arrow-backed (chunked) array,
    # which Spark's Arrow writer does not take
    @pandas_udf("string")
    def normalize_phone(values: pd.Series) -> pd.Series:
        return pd.Series(values.map(to_e164, na_action="ignore"), dtype=object)

    @pandas_udf("string")
    def strip_accents(values: pd.Series) -> pd.Series:
        return pd.Series(values.map(_strip_accents, na_action="ignore"), dtype=object)

    spark.udf.register("normalize_phone", normalize_phone)
    spark.udf.register("strip_accents", strip_accents)
