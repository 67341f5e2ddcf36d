"""dbt-duckdb plugin: registers the project's Python UDFs on every dbt connection.

``normalize_phone(text) -> text`` (E.164 or NULL). The Spark target registers the same
function name, so staging SQL calls one macro on both engines.
"""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from orchestration.normalization import to_e164_arrow


def register_udfs(conn: DuckDBPyConnection) -> None:
    conn.create_function("normalize_phone", to_e164_arrow, ["VARCHAR"], "VARCHAR", type="arrow",
                         null_handling="special", side_effects=False)


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        register_udfs(conn)
