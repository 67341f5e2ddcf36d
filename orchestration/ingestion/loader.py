"""One loader for every landing entity: DuckDB reads the files, SQL types and judges the rows.

For each entity the loader
1. lists the landing files dated on or before the night (``as_of``),
2. skips files already loaded with the same content (size+mtime, then a content hash),
3. reads the new/changed files in batches with DuckDB's own CSV reader (or line by line for
   jsonl), keeping the physical line number of every row,
4. types the values per the entity spec; rows that break a rule go to
   ``quarantine.rejected_rows`` with file, line and reason, the others to ``raw.<entity>``,
5. replaces what a changed file delivered before, and writes one ``audit.load_log`` row per
   file, all in one transaction per batch (a crash leaves the warehouse as before the batch).

No Python loop touches rows: Python only lists files and builds SQL.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
import mmap
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .specs import EntitySpec
from .typing_sql import (
    SQL_TYPES,
    blank_to_null,
    items_expr,
    judged_fields,
    quote_ident,
    quote_literal,
    reason_expr,
    typed_expr,
)

log = logging.getLogger(__name__)

FILE_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})\.(csv|jsonl)$")
BATCH_FILES = 2000  # a year of daily files in one batch: fewer, larger scans
BATCH_BYTES = 512 * 1024 * 1024
_BLOCK = 512  # records per block when a record looks up the line shift of its segment
_LINE_DELIM = "\x01"  # a byte that never appears in text exports: read a file as whole lines
# a line holds something besides spaces and CR; trim() walks the whole (long) line, so only
# lines that start with a space or CR are trimmed
_NOT_BLANK = ("CASE WHEN line IS NULL THEN false WHEN left(line, 1) NOT IN (' ', chr(13)) THEN true "
              "ELSE nullif(trim(line, chr(13) || ' '), '') IS NOT NULL END")
META_COLUMNS = {
    "_file_path": "VARCHAR", "_file_date": "DATE", "_line": "BIGINT",
    "_load_id": "VARCHAR", "_loaded_at": "TIMESTAMP",
}

DDL = """
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS audit;
CREATE SCHEMA IF NOT EXISTS quarantine;
CREATE TABLE IF NOT EXISTS audit.load_log (
    load_id VARCHAR, source VARCHAR, entity VARCHAR, file_path VARCHAR, file_date DATE,
    file_hash VARCHAR, file_size BIGINT, file_mtime DOUBLE,
    rows_read BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT,
    status VARCHAR, message VARCHAR, loaded_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS quarantine.rejected_rows (
    source VARCHAR, entity VARCHAR, file_path VARCHAR, line BIGINT, reason VARCHAR,
    record VARCHAR, load_id VARCHAR, quarantined_at TIMESTAMP
);
"""


@dataclass
class LandingFile:
    path: Path
    rel: str  # <source>/<entity>/<YYYY-MM-DD>.<ext>, as in audit.load_log
    file_date: dt.date
    size: int
    mtime: float
    hash: str = ""
    reload: bool = False
    has_blank_line: bool = False
    first_line: bytes = b""


@dataclass
class EntityLoad:
    """What one night did to one entity; no personal data, safe for Dagster metadata."""

    entity: str
    files_seen: int = 0
    files_loaded: int = 0
    files_reloaded: int = 0
    files_skipped: int = 0
    files_refused: int = 0
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    refused: list[str] = field(default_factory=list)  # "<file>: <reason>"
    warnings: list[str] = field(default_factory=list)  # "<file>: <what looks wrong>" (loaded or waiting)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def discover(landing_dir: Path, spec: EntitySpec, as_of: dt.date,
             later: list[str] | None = None) -> tuple[list[LandingFile], list[str]]:
    """Files of one entity dated on or before `as_of`; names that break the contract are returned apart,
    and the names of files dated after today (a wrong export date) are appended to `later`."""
    folder = landing_dir / spec.source / spec.entity
    if not folder.is_dir():
        return [], []  # a silo that delivered nothing is normal
    files, misnamed = [], []
    for p in sorted(folder.iterdir()):
        if not p.is_file() or p.name.startswith("."):
            continue
        m = FILE_NAME.match(p.name)
        if not m or m.group(2) != spec.ext:
            misnamed.append(p.name)
            continue
        try:
            day = dt.date.fromisoformat(m.group(1))
        except ValueError:
            misnamed.append(p.name)
            continue
        if day > as_of:  # belongs to a later night (history replay with DATAMART_AS_OF)
            if later is not None and day > dt.date.today():
                later.append(p.name)
            continue
        st = p.stat()
        files.append(LandingFile(p, f"{spec.source}/{spec.entity}/{p.name}", day, st.st_size, st.st_mtime))
    return files, misnamed


def _digest(data, legacy: bool = False) -> str:
    # SHA-256 runs at ~1.8 GB/s here with the CPU's SHA instructions, BLAKE2b at ~0.7 GB/s;
    # digests of 32 hex digits in audit.load_log are the BLAKE2b-128 of earlier versions
    return hashlib.blake2b(data, digest_size=16).hexdigest() if legacy else hashlib.sha256(data).hexdigest()


def _hash(path: Path, legacy: bool = False) -> tuple[str, bool, bytes]:
    """Content hash, whether the file holds a blank line (it shifts line numbers), and its first
    line (the CSV header), from one read of the file in C (mmap: no copy through Python)."""
    with path.open("rb") as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            return _digest(b"", legacy), False, b""
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            digest = _digest(mm, legacy)
            blank = (mm[:1] == b"\n" or mm[:2] == b"\r\n" or mm.find(b"\n\n") >= 0 or mm.find(b"\n\r\n") >= 0)
            nl = mm.find(b"\n")
            first = mm[: nl + 1] if nl >= 0 else mm[:]
    return digest, blank, first


def _previous_loads(con: duckdb.DuckDBPyConnection, spec: EntitySpec) -> dict[str, tuple]:
    rows = con.execute(
        """SELECT file_path, file_hash, file_size, file_mtime FROM audit.load_log
           WHERE source = ? AND entity = ?
           QUALIFY row_number() OVER (PARTITION BY file_path ORDER BY loaded_at DESC) = 1""",
        [spec.source, spec.entity],
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


def _to_load(con, spec: EntitySpec, files: list[LandingFile]) -> tuple[list[LandingFile], int]:
    """The files to load (new, or changed in content) and how many are unchanged."""
    previous = _previous_loads(con, spec)

    def same_stat(f: LandingFile) -> bool:
        prev = previous.get(f.rel)
        return bool(prev) and prev[1] == f.size and prev[2] == f.mtime

    changed = [f for f in files if not same_stat(f)]
    # hashlib releases the GIL: the files are hashed on every core (nothing else runs yet)
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 2)) as pool:
        for f, (digest, blank, first) in zip(changed, pool.map(lambda f: _hash(f.path), changed)):
            f.hash, f.has_blank_line, f.first_line = digest, blank, first
    todo = []
    for f in changed:
        prev = previous.get(f.rel)
        if prev and prev[0] == (_hash(f.path, legacy=True)[0] if len(prev[0] or "") == 32 else f.hash):
            continue  # touched, same content
        f.reload = prev is not None
        todo.append(f)
    return todo, len(files) - len(todo)


def _header(f: LandingFile, spec: EntitySpec) -> list[str] | None:
    """CSV header fields; None for an empty file."""
    first = io.TextIOWrapper(io.BytesIO(f.first_line), encoding="utf-8", errors="replace", newline="").readline()
    if not first.strip():
        return None
    return [c.strip().lstrip("\ufeff") for c in next(csv.reader([first], delimiter=spec.delimiter))]


def ensure_raw_table(con, spec: EntitySpec, extra_columns: list[str]) -> None:
    cols = [f"{quote_ident(f.name)} {SQL_TYPES[f.type]}" for f in spec.fields]
    cols += [f"{quote_ident(k)} {v}" for k, v in META_COLUMNS.items()]
    con.execute(f"CREATE TABLE IF NOT EXISTS {spec.raw_table} ({', '.join(cols)})")
    existing = {r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name='raw' AND table_name=?",
        [spec.name]).fetchall()}
    for f in spec.fields:  # a column the contract gained since the table was made (it only adds)
        if f.name not in existing:
            con.execute(f"ALTER TABLE {spec.raw_table} ADD COLUMN {quote_ident(f.name)} {SQL_TYPES[f.type]}")
    for extra in extra_columns:
        if extra not in existing:  # contract: extra columns are kept in raw, ignored downstream
            con.execute(f"ALTER TABLE {spec.raw_table} ADD COLUMN {quote_ident(extra)} VARCHAR")


def _file_list(files: list[LandingFile]) -> str:
    return "[" + ", ".join(quote_literal(str(f.path)) for f in files) + "]"


def _register_files(con, files: list[LandingFile]) -> None:
    """The batch's files as a small table: `_fi`, the scans' `file_index` (position in the batch),
    joined to the path and what load_log keeps (a join, not a CASE over every file evaluated on
    every row; rows carry an integer, not their file's path)."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _files AS
        SELECT unnest(range(?))::UBIGINT AS _fi, unnest(?::VARCHAR[]) AS filename, unnest(?::VARCHAR[]) AS file_path,
               unnest(?::DATE[]) AS file_date, unnest(?::VARCHAR[]) AS file_hash,
               unnest(?::BIGINT[]) AS file_size, unnest(?::DOUBLE[]) AS file_mtime""",
                [len(files), [str(f.path) for f in files], [f.rel for f in files], [f.file_date for f in files],
                 [f.hash for f in files], [f.size for f in files], [f.mtime for f in files]])


def _scan_lines(files: list[LandingFile], indexes: list[int] | None = None) -> str:
    """A scan of every physical line of the files, in file order, blank ones included (as NULL),
    with `_fi` the file's index in the batch (`indexes`: the batch index of each of `files`,
    when they are only some of the batch)."""
    # A table created from a scan keeps the scan's order (preserve_insertion_order) through
    # projections, so rowid order is file order; CSV readers expose no row number of their own.
    # The batch index is looked up in a list, not joined: a join may not keep that order.
    fi = "file_index" if indexes is None else f"list_extract({indexes}::UBIGINT[], file_index::BIGINT + 1)"
    return f"""(SELECT {fi} AS _fi, line FROM read_csv({_file_list(files)}, columns={{'line': 'VARCHAR'}},
            header=false, delim={quote_literal(_LINE_DELIM)}, quote='', escape='',
            auto_detect=false, strict_mode=false))"""


class ScanOrderError(RuntimeError):
    """A table built from a scan did not keep the scan's row order: line numbers would be wrong."""


def _ordinal(con, table: str) -> str:
    """`table` with `_rid` (its rowid) and `_ord`: the row's position in its file, from 1 (rowid
    order is file order). The first rowid of each file comes from one small aggregate and is
    looked up in a list by file index: no join, so the rows keep their order."""
    spans = con.execute(f"SELECT _fi, min(rowid), max(rowid) - min(rowid) + 1 = count(*) FROM {table} GROUP BY _fi").fetchall()
    if not all(contiguous for _, _, contiguous in spans):
        # DuckDB keeps a scan's order through projections, not through every join (an IN list
        # becomes one); better no load than rows with the wrong line
        raise ScanOrderError(f"{table}: the rows of a file are not contiguous in scan order")
    firsts = [0] * (max((fi for fi, _, _ in spans), default=-1) + 1)
    for fi, first, _ in spans:
        firsts[fi] = first
    return (f"(SELECT rowid AS _rid, *, rowid - list_extract({firsts}::BIGINT[], _fi::BIGINT + 1) + 1 AS _ord "
            f"FROM {table})")


def _stage_csv(con, spec: EntitySpec, files: list[LandingFile], header: list[str], judge) -> str:
    """Parse, type and judge a batch of CSV files with one header into temp table _typed, in one
    pass (`judge(relation, kept)` wraps the scan); parser rejects go to _rejects. Returns a
    relation of _typed's rows with their row id `_rid` and their physical line `_line`."""
    columns = "{" + ", ".join(f"{quote_literal(c)}: 'VARCHAR'" for c in header) + "}"
    # a column the contract calls optional that this export does not have: null on every row
    absent = "".join(f", NULL::VARCHAR AS {quote_ident(f.name)}" for f in spec.fields if f.name not in header)
    con.execute("DROP TABLE IF EXISTS _rej; DROP TABLE IF EXISTS _rej_scan")
    scan = f"""(SELECT file_index AS _fi, *{absent} FROM read_csv({_file_list(files)}, columns={columns}, header=true,
            delim={quote_literal(spec.delimiter)}, quote='"', escape='"', auto_detect=false,
            ignore_errors=true, store_rejects=true,
            rejects_table='_rej', rejects_scan='_rej_scan', strict_mode=true))"""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _typed AS {judge(scan, '_fi')}")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _rejects AS
        SELECT f._fi, r.line AS _line,
               'unparseable: ' || lower(r.error_type) AS reason, r.csv_line AS record,
               greatest(1, len(string_split(trim(r.csv_line, chr(10) || chr(13)), chr(10)))) AS span
        FROM _rej r JOIN _rej_scan s USING (scan_id, file_id) JOIN _files f ON f.filename = s.file_path
        -- the reader reports one error per faulty column: one quarantine row per record
        QUALIFY row_number() OVER (PARTITION BY r.scan_id, r.file_id, r.line ORDER BY r.column_idx) = 1
    """)
    parsed = _ordinal(con, "_typed")
    blank = [f for f in files if f.has_blank_line]
    has_rejects = con.execute("SELECT count(*) FROM _rejects").fetchall()[0][0] > 0
    if not has_rejects and not blank:
        # one record per physical line: the header is line 1
        return f"(SELECT *, _ord + 1 AS _line FROM {parsed})"
    # The n-th parsed record of a file sits on the n-th physical line that holds a record: not
    # the header, not blank, not a line a rejected record started on or spilled over.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _excluded AS
        SELECT DISTINCT _fi, _line + i AS _line FROM _rejects, range(span) t(i)""")
    # Files without blank lines: from the rejected lines alone, no second read. With the
    # excluded lines e_1 < e_2 < ... of a file, c_j = e_j - j - 1 records precede e_j, so record
    # n is on line n + 1 + k(n), k(n) = #{j : c_j < n}: constant between two c's. The segments
    # of records are listed once per block of _BLOCK records they overlap, so that a record finds
    # its segment by an equality join on (file, block): a small table, however many records
    # follow a reject (rows of files without rejects need nothing).
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _shift AS
        SELECT _fi, c, max(j) AS k FROM (
            SELECT _fi, j, _line - j - 1 AS c
            FROM (SELECT _fi, _line, row_number() OVER (PARTITION BY _fi ORDER BY _line) AS j FROM _excluded))
        GROUP BY _fi, c""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _segments AS
        SELECT _fi, unnest(range(_lo // {_BLOCK}, _hi // {_BLOCK} + 1)) AS _b, _lo, _hi, _k
        FROM (SELECT _fi, (c + 1)::BIGINT AS _lo, least(lead(c, 1, 9223372036854775806) OVER (PARTITION BY _fi ORDER BY c),
                                              _count)::BIGINT AS _hi, k AS _k
              FROM _shift JOIN (SELECT _fi, count(*) AS _count FROM _typed GROUP BY _fi) USING (_fi))
        WHERE _lo <= _hi""")
    by_lines = "NULL::BIGINT"
    if blank:
        # Files with blank lines (rare): number their physical lines in a second read.
        indexes = [i for i, f in enumerate(files) if f.has_blank_line]
        con.execute(f"CREATE OR REPLACE TEMP TABLE _lines AS {_scan_lines(blank, indexes)}")
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _linemap AS
            SELECT _fi, _ord + 0 AS _line,
                   row_number() OVER (PARTITION BY _fi ORDER BY _ord) AS _rec
            FROM {_ordinal(con, '_lines')} l
            WHERE _ord > 1 AND {_NOT_BLANK}
              AND (_fi, _ord) NOT IN (SELECT (_fi, _line) FROM _excluded)
        """)
        by_lines = "(SELECT m._line FROM _linemap m WHERE m._fi = p._fi AND m._rec = p._ord)"
    return f"""(SELECT p.*, coalesce({by_lines}, p._ord + 1 + coalesce(x._k, 0)) AS _line
               FROM {parsed} p LEFT JOIN _segments x
                 ON x._fi = p._fi AND x._b = p._ord // {_BLOCK} AND p._ord BETWEEN x._lo AND x._hi)"""


def _stage_jsonl(con, spec: EntitySpec, files: list[LandingFile], judge) -> str:
    """Read jsonl files line by line, parsing, typing and judging each line into temp table
    _typed in one pass (`judge` as for CSV); returns a relation of its non-blank lines with
    their row id `_rid` and physical line `_line`."""
    # valid JSON that starts with a brace is an object: no second parse to ask its type
    valid = "CASE WHEN json_valid(line) THEN ltrim(line, ' ' || chr(9) || chr(13)) LIKE '{%' ELSE false END"
    texts = [f for f in spec.fields if f.type != "json"]
    docs = [f for f in spec.fields if f.type == "json"]
    # one parse of the line per list of paths (not one per field)
    lists = []
    if texts:
        lists.append("CASE WHEN _valid THEN json_extract_string(line, ["
                     + ", ".join(quote_literal(f"$.{f.name}") for f in texts) + "]) END AS _texts")
    if docs:
        lists.append("CASE WHEN _valid THEN json_extract(line, ["
                     + ", ".join(quote_literal(f"$.{f.name}") for f in docs) + "]) END AS _docs")
    fields = ", ".join(
        [f"_texts[{i + 1}] AS {quote_ident(f.name)}" for i, f in enumerate(texts)]
        + [f"_docs[{i + 1}]::VARCHAR AS {quote_ident(f.name)}" for i, f in enumerate(docs)])
    # the JSON is parsed here only, not again for raw and for quarantine; blank lines stay in
    # (flagged) so that row order keeps counting physical lines
    extracted = f"""(SELECT _fi, _blank, _record, _valid, {fields}
        FROM (SELECT _fi, NOT ({_NOT_BLANK}) AS _blank, line AS _record, _valid, {', '.join(lists)}
              FROM (SELECT _fi, line, {valid} AS _valid FROM {_scan_lines(files)})))"""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _typed AS {judge(extracted, '_fi, _blank')}")
    return f"(SELECT *, _ord AS _line FROM {_ordinal(con, '_typed')} WHERE NOT _blank)"


def _load_batch(con, spec: EntitySpec, files: list[LandingFile], header: list[str] | None,
                load_id: str, loaded_at: dt.datetime) -> dict[str, tuple[int, int, int]]:
    """Load one batch inside the caller's transaction; returns per-file (read, loaded, quarantined).

    One pass over the files parses them, trims and types every value once and judges the row on
    those typed values (_typed: typed columns, the reason of a bad row and, for bad rows only,
    the record as read); the good rows go to raw and the bad ones to quarantine straight from it."""
    _register_files(con, files)
    if spec.fmt == "csv":
        extras = [c for c in header if c not in spec.column_names]
        record = "to_json(struct_pack(" + ", ".join(f"{quote_ident(c)} := {quote_ident(c)}" for c in header) + "))::VARCHAR"
    else:
        extras, record = [], "_record"
    ensure_raw_table(con, spec, extras)
    # each judged value is trimmed and typed once per row; every rule and the raw column read it
    field = {f.name: f for f in spec.fields}
    judged = judged_fields(spec)
    idx = {name: i for i, name in enumerate(judged)}
    blanks = ", ".join(f"{blank_to_null(quote_ident(n))} AS __b{idx[n]}" for n in judged)
    typed_j = ", ".join(f"{typed_expr(field[n], quote_ident(n), spec.decimal_comma, blank=f'__b{idx[n]}')} AS __t{idx[n]}"
                        for n in judged)
    lists = [n for n in judged if field[n].items]  # JSON arrays of objects: their objects parsed once
    items = "".join(f", {items_expr(field[n], f'__t{idx[n]}')} AS __i{idx[n]}" for n in lists)
    reason = reason_expr(spec, typed_col=lambda n: f"__t{idx[n]}" if n in idx else "NULL",  # unjudged: unused
                         blank_col=lambda n: f"__b{idx[n]}" if n in idx else "NULL",
                         items_col=lambda n: f"__i{idx[n]}")
    if spec.fmt != "csv":
        reason = f"CASE WHEN _valid THEN {reason} ELSE 'unparseable: invalid JSON object' END"
    typed = ", ".join((f"__t{idx[f.name]}" if f.name in idx else typed_expr(f, quote_ident(f.name), spec.decimal_comma))
                      + f" AS {quote_ident(f.name)}" for f in spec.fields)
    extra_sel = "".join(f", {quote_ident(c)}" for c in extras)

    def judge(relation: str, kept: str) -> str:
        return f"""
        SELECT {kept}, {typed}{extra_sel}, _reason, CASE WHEN _reason IS NOT NULL THEN {record} END AS _record
        FROM (SELECT *, {reason} AS _reason
              FROM (SELECT *{items} FROM (SELECT *, {typed_j} FROM (SELECT *, {blanks} FROM {relation}))))"""

    if spec.fmt == "csv":
        rows = _stage_csv(con, spec, files, header, judge)
    else:
        rows = _stage_jsonl(con, spec, files, judge)

    reloads = [f.rel for f in files if f.reload]
    if reloads:  # a changed file replaces everything it delivered before
        rel_list = ", ".join(quote_literal(r) for r in reloads)
        con.execute(f"DELETE FROM {spec.raw_table} WHERE _file_path IN ({rel_list})")
        con.execute(f"DELETE FROM quarantine.rejected_rows WHERE file_path IN ({rel_list})")

    # The file's path and date are looked up by file index, not joined. No sort: the rows come
    # in scan order, files in order and lines in order within a file, near enough for zone maps
    # on _file_date (a sort back into exact file order cost a third of the statement, measured);
    # `_line` says where each row was read.
    columns = ", ".join(quote_ident(c) for c in [*spec.column_names, *extras])
    file_of = "list_extract(?::VARCHAR[], _fi::BIGINT + 1)"
    date_of = "list_extract(?::DATE[], _fi::BIGINT + 1)"
    con.execute(f"""
        INSERT INTO {spec.raw_table} BY NAME
        SELECT {columns}, {file_of} AS _file_path, {date_of} AS _file_date,
               _line, ? AS _load_id, ?::TIMESTAMP AS _loaded_at
        FROM {rows} WHERE _reason IS NULL
    """, [[f.rel for f in files], [f.file_date for f in files], load_id, loaded_at])
    rejects = ("" if spec.fmt != "csv" else """
            UNION ALL
            SELECT ?, ?, f.file_path, r._line, r.reason, r.record, ?, ?::TIMESTAMP
            FROM _rejects r JOIN _files f USING (_fi)""")
    con.execute(f"""
        INSERT INTO quarantine.rejected_rows
        SELECT * FROM (
            SELECT ?, ?, f.file_path, t._line, t._reason, t._record, ?, ?::TIMESTAMP
            FROM {rows} t JOIN _files f USING (_fi) WHERE t._reason IS NOT NULL
            {rejects})
        ORDER BY 3, 4
    """, [spec.source, spec.entity, load_id, loaded_at] * (2 if spec.fmt == "csv" else 1))
    rejected = ("SELECT _fi, count(*) AS n FROM _rejects GROUP BY _fi" if spec.fmt == "csv"
                else "SELECT NULL::UBIGINT AS _fi, 0::BIGINT AS n WHERE false")
    counts = con.execute(f"""
        SELECT f.filename, coalesce(t.n, 0) + coalesce(r.n, 0), coalesce(t.bad, 0) + coalesce(r.n, 0)
        FROM _files f
        LEFT JOIN (SELECT _fi, count(*) AS n, count(_reason) AS bad FROM _typed
                   {'' if spec.fmt == 'csv' else 'WHERE NOT _blank'} GROUP BY _fi) t USING (_fi)
        LEFT JOIN ({rejected}) r USING (_fi)
    """).fetchall()
    con.execute("; ".join(f"DROP TABLE IF EXISTS {t}" for t in (  # one round trip
        "_typed", "_rejects", "_lines", "_excluded", "_shift", "_segments", "_linemap", "_rej", "_rej_scan")))
    return {filename: (read, read - bad, bad) for filename, read, bad in counts}


def _log(con, spec, f: LandingFile, load_id, loaded_at, read, ok, bad, status, message=None) -> None:
    con.execute(
        "INSERT INTO audit.load_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [load_id, spec.source, spec.entity, f.rel, f.file_date, f.hash, f.size, f.mtime,
         read, ok, bad, status, message, loaded_at],
    )


def _log_batch(con, spec, files: list[LandingFile], counts, load_id, loaded_at) -> None:
    """One load_log row per file of a loaded batch, in one statement."""
    order = [str(f.path) for f in files]
    con.execute("""
        INSERT INTO audit.load_log
        SELECT ?, ?, ?, f.file_path, f.file_date, f.file_hash, f.file_size, f.file_mtime,
               c.r, c.o, c.b, 'loaded', NULL, ?::TIMESTAMP
        FROM (SELECT unnest(?::VARCHAR[]) AS filename, unnest(?::BIGINT[]) AS r,
                     unnest(?::BIGINT[]) AS o, unnest(?::BIGINT[]) AS b) c
        JOIN _files f USING (filename)
    """, [load_id, spec.source, spec.entity, loaded_at, order,
          [counts[p][0] for p in order], [counts[p][1] for p in order], [counts[p][2] for p in order]])


def _safe_error(exc: Exception) -> str:
    """A reason for a refused file that never echoes file content (it may hold personal data)."""
    text = str(exc)
    if "UTF" in text or "unicode" in text.lower():
        return "not valid UTF-8"
    if "Expected Number of Columns" in text or "columns" in text.lower():
        return "rows do not match the header"
    return f"unreadable {type(exc).__name__}"


def _batches(files: list[LandingFile]):
    batch, size = [], 0
    for f in files:
        if batch and (len(batch) >= BATCH_FILES or size + f.size > BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(f)
        size += f.size
    if batch:
        yield batch


def load_entity(con: duckdb.DuckDBPyConnection, landing_dir: Path, spec: EntitySpec, as_of: dt.date,
                load_id: str) -> EntityLoad:
    ensure_schema(con)
    ensure_raw_table(con, spec, [])  # a silo that never delivered still has its (empty) table
    result = EntityLoad(spec.name)
    future: list[str] = []
    files, misnamed = discover(landing_dir, spec, as_of, later=future)
    result.files_seen = len(files)
    for name in misnamed:
        result.refused.append(f"{spec.source}/{spec.entity}/{name}: name is not <YYYY-MM-DD>.{spec.ext}")
    for name in future:
        result.warnings.append(f"{spec.source}/{spec.entity}/{name}: dated after today; not loaded until its night")
    todo, result.files_skipped = _to_load(con, spec, files)
    loaded_at = dt.datetime.now().replace(microsecond=0)

    groups: dict[tuple, list[LandingFile]] = {}
    for f in todo:
        if f.size == 0 and spec.fmt == "csv":
            con.execute("BEGIN")
            _log(con, spec, f, load_id, loaded_at, 0, 0, 0, "refused", "empty file: no header row")
            con.execute("COMMIT")
            result.files_refused += 1
            result.refused.append(f"{f.rel}: empty file: no header row")
            continue
        header = _header(f, spec) if spec.fmt == "csv" else None
        if header is not None:
            missing = [f.name for f in spec.fields if f.name not in header and not f.may_be_absent]
            if missing or len(set(header)) != len(header):
                why = (f"header lacks columns {', '.join(missing)}" if missing
                       else "header repeats a column name")
                con.execute("BEGIN")
                _log(con, spec, f, load_id, loaded_at, 0, 0, 0, "refused", why)
                con.execute("COMMIT")
                result.files_refused += 1
                result.refused.append(f"{f.rel}: {why}")
                continue
        groups.setdefault(tuple(header or ()), []).append(f)

    for header, group in groups.items():
        for batch in _batches(group):
            for part in _attempt(con, spec, batch, list(header) or None, load_id, loaded_at, result):
                # a batch failed as a whole: load its files one by one to isolate the bad one
                try:
                    _run_batch(con, spec, [part], list(header) or None, load_id, loaded_at, result)
                except duckdb.Error as exc:
                    con.execute("ROLLBACK")
                    why = _safe_error(exc)
                    con.execute("BEGIN")
                    _log(con, spec, part, load_id, loaded_at, 0, 0, 0, "refused", why)
                    con.execute("COMMIT")
                    result.files_refused += 1
                    result.refused.append(f"{part.rel}: {why}")
    result.warnings += _unusual_volumes(con, spec, load_id)
    return result


VOLUME_FACTOR = 10  # a file this many times the usual size of its entity is worth a look
VOLUME_HISTORY = 5  # files needed before "usual" means something


def _unusual_volumes(con, spec: EntitySpec, load_id: str) -> list[str]:
    """Files loaded now with VOLUME_FACTOR times the median rows of the files loaded on earlier
    nights (a duplicated export, a full extract instead of a delta): loaded, but flagged. The
    first night is not judged: an initial full extract is expected then."""
    rows = con.execute(f"""
        WITH latest AS (
            SELECT * FROM audit.load_log WHERE source = ? AND entity = ? AND status = 'loaded'
            QUALIFY row_number() OVER (PARTITION BY file_path ORDER BY loaded_at DESC) = 1),
        usual AS (
            SELECT median(rows_read) AS median_rows, count(*) AS files FROM latest WHERE load_id <> ?)
        SELECT l.file_path, l.rows_read, u.median_rows
        FROM latest l, usual u
        WHERE l.load_id = ? AND u.files >= {VOLUME_HISTORY} AND u.median_rows > 0
          AND l.rows_read >= {VOLUME_FACTOR} * u.median_rows
        ORDER BY l.file_path""", [spec.source, spec.entity, load_id, load_id]).fetchall()
    return [f"{path}: {read:,} rows, {read / median:.0f}x the usual {median:,.0f} of this entity; loaded, check the export"
            for path, read, median in rows]


def _attempt(con, spec, batch, header, load_id, loaded_at, result) -> list[LandingFile]:
    """Load a batch; on failure return its files to be retried one by one."""
    try:
        _run_batch(con, spec, batch, header, load_id, loaded_at, result)
        return []
    except duckdb.Error:
        con.execute("ROLLBACK")
        log.warning("%s: a batch of %d files failed; loading them one by one", spec.name, len(batch))
        return batch


def _run_batch(con, spec, batch, header, load_id, loaded_at, result: EntityLoad) -> None:
    con.execute("BEGIN")
    counts = _load_batch(con, spec, batch, header, load_id, loaded_at)
    _log_batch(con, spec, batch, counts, load_id, loaded_at)
    con.execute("DROP TABLE IF EXISTS _files")
    con.execute("COMMIT")
    for f in batch:
        read, ok, bad = counts[str(f.path)]
        result.files_loaded += 1
        result.files_reloaded += int(f.reload)
        result.rows_read += read
        result.rows_loaded += ok
        result.rows_quarantined += bad
