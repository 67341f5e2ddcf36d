"""The engines a refresh can build on: DuckDB (embedded, the default) and Spark (a cluster).

``DATAMART_ENGINE=duckdb|spark`` picks one (docs/scale-out.md). The dbt project is the same for
both; what differs per engine lives in dispatched macros under ``dbt_project/macros/``. The
identity and feature SQL outside dbt is written once in DuckDB's dialect and run on Spark through
``spark_sql.SparkSql``.
"""

from __future__ import annotations

import os

ENGINE_ENV = "DATAMART_ENGINE"
ENGINES = ("duckdb", "spark")


def engine() -> str:
    """The engine of this process's refresh; an unknown name is refused, never guessed."""
    name = os.environ.get(ENGINE_ENV, "").strip().lower() or "duckdb"
    if name not in ENGINES:
        raise ValueError(f"{ENGINE_ENV} must be one of {', '.join(ENGINES)}, got {name!r}")
    return name
