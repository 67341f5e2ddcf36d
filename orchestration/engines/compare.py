"""Two published datamarts compared table by table: the proof that both engines give one datamart.

Used by the engine comparison test (tests/test_spark_engine.py) and bench/bench_engines.py. Both
files are attached to one in-memory DuckDB and compared in SQL (EXCEPT ALL both ways), never row
by row in Python. Rows are compared exactly first; where a table has floating-point columns, the
rows left over are matched once more with floats within a relative tolerance (REL_TOLERANCE):
the engines sum and divide in different orders. What a refresh stamps with its own clock
(load and build times, a model's artefact path and version) is left out by name.

The report names tables, columns and counts only: never a value (they hold personal data).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

# Columns whose value is the run's own clock or artefact, different in every refresh on any engine
RUN_STAMPED = frozenset({
    "loaded_at", "built_at", "changed_at", "published_at", "refreshed_at", "trained_at", "validated_at",
    "checked_at", "load_id", "run_id", "started_at", "finished_at", "model_version", "artefact_path", "artefact",
    "duration_s",
})
# Rows that differ exactly still match a row of the other side whose other columns are
# equal and whose floats are this close (relative)
REL_TOLERANCE = 1e-9
FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL")


@dataclass
class Comparison:
    tables: int = 0
    differences: list[str] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return not self.differences


def _tables(con: duckdb.DuckDBPyConnection, db: str, schemas: tuple[str, ...]) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute(
        "SELECT schema_name || '.' || table_name, column_name, data_type FROM duckdb_columns() "
        f"WHERE database_name = ? AND schema_name IN ({', '.join('?' for _ in schemas)}) "
        "ORDER BY schema_name, table_name, column_index", [db, *schemas]).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in rows:
        out.setdefault(table, []).append((column, dtype))
    return out


def _unmatched(con: duckdb.DuckDBPyConnection, name: str, cols: list[tuple[str, str]], a: str, b: str) -> int:
    """Rows of `a`.name without a row of `b`.name equal on every non-float column and within
    REL_TOLERANCE on every float column, among the rows that differ exactly (one-to-many: a
    near-match may serve twice; the exact EXCEPT ALL before it counted duplicates)."""
    select = ", ".join(f'"{c}"' for c, _ in cols) or "1"
    conditions = []
    for c, t in cols:
        x, y = f'x."{c}"', f'y."{c}"'
        if t in FLOAT_TYPES:
            conditions.append(f"({x} IS NOT DISTINCT FROM {y} OR abs({x} - {y}) <= "
                              f"{REL_TOLERANCE} * greatest(abs({x}), abs({y})))")
        else:
            conditions.append(f"{x} IS NOT DISTINCT FROM {y}")
    return con.execute(f"""
        WITH x AS (SELECT {select} FROM {a}.{name} EXCEPT ALL SELECT {select} FROM {b}.{name}),
             y AS (SELECT {select} FROM {b}.{name} EXCEPT ALL SELECT {select} FROM {a}.{name})
        SELECT count(*) FROM x WHERE NOT EXISTS (SELECT 1 FROM y WHERE {' AND '.join(conditions) or 'true'})
    """).fetchone()[0]


def compare_datamarts(left: Path, right: Path, schemas: tuple[str, ...] = ("marts", "audit"),
                      ignore_tables: frozenset[str] = frozenset()) -> Comparison:
    """Every table of `schemas` in both files: same tables, same columns and types, same rows."""
    result = Comparison()
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{left}' AS l (READ_ONLY)")
        con.execute(f"ATTACH '{right}' AS r (READ_ONLY)")
        lt, rt = _tables(con, "l", schemas), _tables(con, "r", schemas)
        for name in sorted(set(lt) ^ set(rt)):
            result.differences.append(f"{name}: only in {'the first' if name in lt else 'the second'} datamart")
        for name in sorted(set(lt) & set(rt)):
            if name in ignore_tables:
                continue
            result.tables += 1
            if lt[name] != rt[name]:
                mismatched = [c for c, _ in lt[name] if (c, dict(lt[name])[c]) not in rt[name]]
                extra = [c for c, _ in rt[name] if c not in dict(lt[name])]
                result.differences.append(f"{name}: columns or types differ ({', '.join(mismatched + extra)})")
                continue
            cols = [(c, t) for c, t in lt[name] if c not in RUN_STAMPED]
            select = ", ".join(f'"{c}"' for c, _ in cols) or "1"
            counts = con.execute(
                f"SELECT (SELECT count(*) FROM (SELECT {select} FROM l.{name} EXCEPT ALL SELECT {select} FROM r.{name})),"
                f"       (SELECT count(*) FROM (SELECT {select} FROM r.{name} EXCEPT ALL SELECT {select} FROM l.{name})),"
                f"       (SELECT count(*) FROM l.{name}), (SELECT count(*) FROM r.{name})").fetchone()
            only_left, only_right, n_left, n_right = counts
            if (only_left or only_right) and any(t in FLOAT_TYPES for _, t in cols):
                only_left, only_right = _unmatched(con, name, cols, "l", "r"), _unmatched(con, name, cols, "r", "l")
            if only_left or only_right:
                result.differences.append(f"{name}: {only_left} of {n_left} rows only in the first, "
                                          f"{only_right} of {n_right} only in the second")
    finally:
        con.close()
    return result
