"""The identity step's SQL, written once in DuckDB's dialect, run on Spark.

The stitching, clustering and id assignment build their steps as SQL text and run them on a
connection (``execute``, ``sql``, ``register``). ``SparkSql`` is that connection on a Spark session:
each statement is translated by sqlglot (DuckDB → Spark SQL), so one copy of the logic runs on
both engines. Only what the identity code uses is supported, and anything else is refused by
name rather than half-done:

- ``CREATE [OR REPLACE] TEMP TABLE t AS <query>``: the query's result, materialised (a local
  checkpoint: what a later step reads is computed once, and a long chain of steps does not make
  one ever-growing plan), as the temp view ``t``;
- ``CREATE [OR REPLACE] TEMP VIEW t AS <query>``: a temp view, not materialised;
- ``INSERT INTO t <query>`` on such a temp table: the union (by position), materialised again;
- any query: its rows (``fetchall``), its Arrow table or pandas frame.

Parameters (``?``, ``$1``, ``$name``) are bound as SQL literals before translation.
Persistent tables are not written through here: the caller writes its outputs itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import sqlglot
from sqlglot import exp

_CREATE = re.compile(r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?TEMP(?:ORARY)?\s+(TABLE|VIEW)\s+(\w+)\s+AS\s+(.*)$",
                     re.IGNORECASE | re.DOTALL)
_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)\s+(.*)$", re.IGNORECASE | re.DOTALL)
_NO_OP = re.compile(r"^\s*(BEGIN(\s+TRANSACTION)?|COMMIT|ROLLBACK)\s*;?\s*$", re.IGNORECASE)


def bind(sql: str, params: Sequence[Any] | Mapping[str, Any] | None) -> exp.Expression:
    """The statement parsed in DuckDB's dialect, its parameters replaced by literals."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    if not params:
        return tree
    position = iter(range(len(params))) if not isinstance(params, Mapping) else None

    def literal(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder):
            if isinstance(params, Mapping):
                return exp.convert(params[node.name])
            key = node.name
            value = params[int(key) - 1] if key and key.isdigit() else params[next(position)]
            return exp.convert(value)
        if isinstance(node, exp.Parameter):  # $name / $1
            key = node.name
            return exp.convert(params[int(key) - 1] if key.isdigit() else params[key])
        return node

    return tree.transform(literal)


def to_spark(sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> str:
    """A DuckDB statement as Spark SQL."""
    return bind(sql, params).sql(dialect="spark")


class _Relation:
    def __init__(self, frame):
        self.frame = frame

    def to_arrow_table(self):
        return self.frame.toArrow()

    def df(self):
        return self.frame.toPandas()

    def fetchall(self) -> list[tuple]:
        return [tuple(row) for row in self.frame.collect()]


class SparkSql:
    """A DuckDB-like connection (the subset the identity code calls) on a Spark session."""

    def __init__(self, spark):
        self.spark = spark
        self.temp: dict[str, Any] = {}  # temp table name -> its materialised DataFrame
        self._rows: list[tuple] = []

    # -- DuckDB's connection API, as far as the identity code uses it ---------------------------
    def execute(self, sql: str, params=None) -> SparkSql:
        self._rows = []
        if _NO_OP.match(sql):
            return self
        if m := _CREATE.match(sql):
            kind, name, query = m.groups()
            frame = self.spark.sql(to_spark(query, params))
            if kind.upper() == "TABLE":
                self._store(name, frame)
            else:
                self.temp.pop(name.lower(), None)
                frame.createOrReplaceTempView(name)
            return self
        if (m := _INSERT.match(sql)) and m.group(1).lower() in self.temp:
            name, query = m.groups()
            old = self.temp[name.lower()]
            # by position, as SQL's INSERT
            self._store(name, old.union(self.spark.sql(to_spark(query, params)).toDF(*old.columns)))
            return self
        tree = bind(sql, params)
        if not isinstance(tree, exp.Query):
            raise NotImplementedError(f"SparkSql runs queries and temp tables only, not {tree.key.upper()} statements")
        self._rows = [tuple(row) for row in self.spark.sql(tree.sql(dialect="spark")).collect()]
        return self

    def fetchall(self) -> list[tuple]:
        return self._rows

    def fetchone(self) -> tuple | None:
        return self._rows[0] if self._rows else None

    def sql(self, query: str) -> _Relation:
        return _Relation(self.spark.sql(to_spark(query)))

    def register(self, name: str, data) -> None:
        """An Arrow table, a pandas frame or a Spark DataFrame as the temp table `name`."""
        frame = data if hasattr(data, "createOrReplaceTempView") else self.spark.createDataFrame(data)
        self._store(name, frame)

    def unregister(self, name: str) -> None:
        self.temp.pop(name.lower(), None)
        self.spark.catalog.dropTempView(name)

    # -- the catalog questions orchestration.warehouse and models_ml ask ------------------------
    def table_exists(self, qualified: str) -> bool:
        return self.spark.catalog.tableExists(qualified)

    def has_column(self, qualified: str, column: str) -> bool:
        return self.table_exists(qualified) and column in self.spark.table(qualified).columns

    # -- Spark side -----------------------------------------------------------------------------
    def frame(self, name: str):
        return self.spark.table(name)

    def query(self, sql: str, params=None):
        """A DuckDB query as a Spark DataFrame (not run: written or joined by the caller)."""
        return self.spark.sql(to_spark(sql, params))

    def _store(self, name: str, frame) -> None:
        frame = frame.localCheckpoint(eager=True)
        self.temp[name.lower()] = frame
        frame.createOrReplaceTempView(name)
