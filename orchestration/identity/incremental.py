"""A night of identity resolution, incremental end to end.

Splink already scores only the new and changed records (matching.py). This module restricts
stitching, connected components and the stable-id mapping to the records tonight's changes can
reach, and leaves every other row of identity.record_clusters (and its id) as it is.

Which records (the *scope*), all in SQL against the state `resolve` keeps (clusters.STATE_*):
1. changed: records new, gone or whose fingerprint (name signature, birth date, identifier
   values) or compared values (matching) changed; records whose row in identity.record_clusters
   vanished or changed since we wrote it (an erasure deletes rows after this step), or that have
   no state; every record of a component that lost a row behind our back;
2. seeds: the changed records and every record carrying an identifier value a changed record
   carries or carried (its trust, n of records, signatures, may have changed);
3. closure: add, until nothing is added, yesterday's whole-graph component of every record in
   the scope (before the size guard), the records sharing a value trusted tonight with one, and
   their probabilistic links scored tonight (a link carried over joins two records of one of
   yesterday's components, which the first rule brings in whole).

The scope is then a union of tonight's components and of yesterday's, so every record outside
it sits in a component whose records, values, links and ids are the same as yesterday: a full
re-resolution would place it exactly as it is. Inside it, stitching measures the trust of each
value over every record carrying it, and new ids avoid every id still held outside it, so the
scope is placed exactly as a full re-resolution would. A full re-resolution runs instead when
asked (`full`), when Splink re-scored everything, when the rules or the model changed, when
there is no state yet, or when the scope holds more than half of the records.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from dataclasses import dataclass, field

import duckdb

from ..warehouse import table_exists
from . import clusters as C
from . import matching
from . import probabilistic as P
from . import stitching as S
from .stitching import KEYS, RECORDS

FULL_ABOVE_SCOPE_SHARE = 0.5
SCOPE = "id_scope"
VALUE_STATS = "id_value_stats"


@dataclass
class Night:
    mode: str                   # incremental | full
    why_full: str               # why the clustering re-placed everything ('' when incremental)
    stitch: S.StitchStats
    match: matching.MatchStats
    stats: dict
    changed_records: int = 0
    scope_records: int = 0
    closure_rounds: int = 0
    timings: dict = field(default_factory=dict)
    changes_from: str = ""      # change log | every record (why)

    def as_metadata(self) -> dict:
        return {"identity_mode": self.mode, "identity_full_because": self.why_full or "-",
                "changed_records": self.changed_records, "replaced_records": self.scope_records,
                "closure_rounds": self.closure_rounds, "identity_changes_from": self.changes_from}


def link_fingerprint(model: dict, household_guards: bool, threshold: float) -> str:
    """The rules that draw tonight's graph: a change re-places everything."""
    rules = {"model": P.model_fingerprint(model), "guards": matching.GUARD_SQL if household_guards else "",
             "threshold": threshold, "trusted": S.TRUSTED_SQL, "blocked": S.BLOCKED_VALUE_PATTERNS,
             "confidence": S.KEY_CONFIDENCE, "max_named": C.MAX_NAMED_RECORDS_PER_CUSTOMER,
             "state": matching.STATE_VERSION, "cluster_state": C.STATE_VERSION}
    return hashlib.sha256(json.dumps(rules, sort_keys=True, default=str).encode()).hexdigest()[:16]


CHANGE_LOG = "intermediate.int_identity__record_changes"
CHANGED = "id_log_changed"


def read_change_log(con: duckdb.DuckDBPyConnection) -> tuple[str, object]:
    """The records whose inputs changed since this step last read the change log that the dbt
    models int_identity__records / __record_keys (and the privacy step) write: temp table
    `id_log_changed` (source, source_record_id). Returns (why every record must be compared
    instead, or '' when the log can be used; the log's newest entry, to store as the next read).

    The log is used only when this step read it before (its read time is in the state), nothing
    newer than that read was pruned (the log still holds an entry at or before it), and no model
    was rebuilt whole since (a `full_build` marker)."""
    if not table_exists(con, CHANGE_LOG):
        return "no change log", None
    newest, oldest = con.execute(f"SELECT max(changed_at), min(changed_at) FROM {CHANGE_LOG}").fetchall()[0]
    last = None
    if table_exists(con, C.STATE_CONFIG):
        has = con.execute("SELECT count(*) FROM duckdb_columns() WHERE schema_name = 'identity' "
                          "AND table_name = 'cluster_config' AND column_name = 'log_read_at'").fetchall()[0][0]
        if has:
            last = con.execute(f"SELECT any_value(log_read_at) FROM {C.STATE_CONFIG}").fetchall()[0][0]
    if last is None:
        return "no earlier read of the change log", newest
    if oldest is None or oldest > last:
        return "change log pruned or rebuilt since the last read", newest
    whole = con.execute(f"SELECT count(*) FROM {CHANGE_LOG} WHERE change = 'full_build' AND changed_at > ?",
                        [last]).fetchall()[0][0]
    if whole:
        return "identity inputs rebuilt whole", newest
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {CHANGED} AS
        SELECT DISTINCT source, source_record_id FROM {CHANGE_LOG}
        WHERE changed_at > ? AND source IS NOT NULL AND source_record_id IS NOT NULL
    """, [last])
    return "", newest


def _store_log_read(con: duckdb.DuckDBPyConnection, read_at) -> None:
    """Remember the change log's newest entry this night read (cluster_config is rewritten every night)."""
    con.execute(f"ALTER TABLE {C.STATE_CONFIG} ADD COLUMN IF NOT EXISTS log_read_at TIMESTAMP")
    con.execute(f"UPDATE {C.STATE_CONFIG} SET log_read_at = ?", [read_at])


def drop_state(con: duckdb.DuckDBPyConnection) -> None:
    """Forget what the incremental nights compare against (Splink's and the clustering's state):
    the next night re-resolves every record. The Spark engine's nights do not keep it."""
    for table in (matching.STATE, matching.PAIRS, matching.MODEL_STATE, matching.BLOCK_KEYS, C.STATE_RECORDS,
                  C.STATE_KEYS, C.STATE_COMPS, C.STATE_CONFIG, C.STATE_CUSTOMERS):
        con.execute(f"DROP TABLE IF EXISTS {table}")


def _rec(key: str) -> str:
    """(source, source_record_id) of a `source:id` record key."""
    return f"split_part({key}, ':', 1) AS source, substr({key}, strpos({key}, ':') + 1) AS source_record_id"


def plan(con: duckdb.DuckDBPyConnection, link_fp: str, match: matching.MatchStats,
         changed: str | None = None) -> tuple[str, int, int]:
    """Build the temp table `id_scope`; return (why a full night is needed or '', changed, rounds).

    `changed`: the records the change log names (every other record's inputs are as the state
    saw them), or None to compare every record with the state."""
    if match.mode != "incremental":
        return "probabilistic stage re-scored everything", 0, 0
    state = (C.STATE_RECORDS, C.STATE_KEYS, C.STATE_COMPS, C.STATE_CONFIG, C.CLUSTERS_TABLE)
    if not all(table_exists(con, t) for t in state):
        return "no state from a previous night", 0, 0
    if con.execute(f"SELECT any_value(fingerprint) FROM {C.STATE_CONFIG}").fetchall()[0][0] != link_fp:
        return "rules or model changed", 0, 0
    n_records = con.execute(f"SELECT count(*) FROM {RECORDS}").fetchall()[0][0]
    # tonight's fingerprints: of every record, or of those the change log names
    now = "id_now_logged" if changed else "id_now"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {now} AS {C.fingerprints_sql(changed)}")
    state_records = (f"(SELECT * FROM {C.STATE_RECORDS} WHERE rh IN "
                     f"(SELECT hash(source, source_record_id) FROM {changed}))" if changed else C.STATE_RECORDS)
    # rows of identity.record_clusters changed since this step wrote them (an erasure): compared
    # one by one only when the table's checksum says so
    touched = con.execute(f"""
        SELECT (SELECT (written_rows, written_sum, state_rows) FROM {C.STATE_CONFIG})
               IS DISTINCT FROM (SELECT (written_rows, written_sum, state_rows) FROM ({C.CLUSTERS_CHECKSUM_SQL}))
    """).fetchall()[0][0]
    if touched:  # the per-customer counts no longer match the records: rebuilt by write_state
        con.execute(f"DROP TABLE IF EXISTS {C.STATE_CUSTOMERS}")
    behind_our_back = f"""
        UNION
        SELECT s.source, s.source_record_id FROM {C.STATE_RECORDS} s
        LEFT JOIN {C.CLUSTERS_TABLE} c ON c.source = s.source AND c.source_record_id = s.source_record_id
        WHERE c.source IS NULL OR c.customer_id IS DISTINCT FROM s.customer_id
        UNION
        SELECT source, source_record_id FROM {C.CLUSTERS_TABLE}
        ANTI JOIN {C.STATE_RECORDS} USING (source, source_record_id)
        UNION
        SELECT source, source_record_id FROM {C.STATE_RECORDS} WHERE whole_comp IN (
            SELECT c.whole_comp FROM {C.STATE_COMPS} c
            LEFT JOIN (SELECT whole_comp, count(*) AS n FROM {C.STATE_RECORDS} GROUP BY ALL) s USING (whole_comp)
            WHERE coalesce(s.n, 0) < c.n_records)
    """ if touched else ""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE id_changed AS
        SELECT coalesce(n.source, s.source) AS source, coalesce(n.source_record_id, s.source_record_id)
               AS source_record_id
        FROM {now} n
        FULL JOIN (SELECT source, source_record_id, rh, fingerprint FROM {state_records}) s ON s.rh = n.rh
        WHERE n.fingerprint IS DISTINCT FROM s.fingerprint
        UNION
        SELECT {_rec('rec_key')} FROM id_match_gone
        {behind_our_back}
    """)
    n_changed = con.execute("SELECT count(*) FROM id_changed").fetchall()[0][0]
    if n_changed > FULL_ABOVE_SCOPE_SHARE * max(1, n_records):
        return "more than half of the records changed", n_changed, 0
    # every value a changed record carries or carried, then every record carrying one of them
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE id_touched AS
        SELECT key_hash FROM {C.STATE_KEYS} WHERE rh IN (SELECT hash(source, source_record_id) FROM id_changed)
        UNION SELECT hash(key_type, key_value) FROM {KEYS} SEMI JOIN id_changed USING (source, source_record_id)
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {SCOPE} AS
        SELECT source, source_record_id FROM id_changed
        UNION SELECT source, source_record_id FROM {KEYS}
        WHERE hash(key_type, key_value) IN (SELECT key_hash FROM id_touched)
    """)
    con.execute(f"CREATE OR REPLACE TEMP TABLE id_frontier AS SELECT * FROM {SCOPE}")
    # the trust of every value a record of the scope carries, measured once (the round that first
    # meets it) over every record carrying it: stitching reads the same figures (VALUE_STATS)
    rounds = 0
    while True:
        rounds += 1
        met = f" ANTI JOIN {VALUE_STATS} USING (key_type, key_value)" if rounds > 1 else ""
        fresh = (f"(SELECT DISTINCT key_type, key_value FROM {KEYS} "
                 f"SEMI JOIN id_frontier USING (source, source_record_id){met})")
        into = f"INSERT INTO {VALUE_STATS}" if rounds > 1 else f"CREATE OR REPLACE TEMP TABLE {VALUE_STATS} AS"
        con.execute(f"{into} SELECT *, {rounds} AS round FROM ({S.value_stats_sql(fresh)})")
        # a value met in an earlier round brought its records then: only this round's are looked up
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE id_reach AS
            WITH front_keys AS (SELECT source || ':' || source_record_id AS rec_key FROM id_frontier),
            trusted AS (SELECT key_type, key_value FROM {VALUE_STATS} WHERE round = {rounds} AND {S.TRUSTED_SQL})
            -- yesterday's whole-graph components
            SELECT source, source_record_id FROM {C.STATE_RECORDS} WHERE whole_comp IN (
                SELECT whole_comp FROM {C.STATE_RECORDS}
                WHERE rh IN (SELECT hash(source, source_record_id) FROM id_frontier))
            -- tonight's trusted values
            UNION SELECT source, source_record_id FROM {KEYS} SEMI JOIN trusted USING (key_type, key_value)
            -- tonight's new probabilistic links (a link carried over lies within yesterday's
            -- component: the night that scored it placed both its records, and any later night
            -- that placed one of them placed that whole component, so the other one too)
            UNION SELECT {_rec('rec_key_r')} FROM id_prob_edges_new WHERE rec_key_l IN (SELECT rec_key FROM front_keys)
            UNION SELECT {_rec('rec_key_l')} FROM id_prob_edges_new WHERE rec_key_r IN (SELECT rec_key FROM front_keys)
        """)
        con.execute(f"CREATE OR REPLACE TEMP TABLE id_frontier AS "
                    f"SELECT * FROM id_reach ANTI JOIN {SCOPE} USING (source, source_record_id)")
        added = con.execute("SELECT count(*) FROM id_frontier").fetchall()[0][0]
        if not added:
            break
        con.execute(f"INSERT INTO {SCOPE} SELECT * FROM id_frontier")
        if con.execute(f"SELECT count(*) FROM {SCOPE}").fetchall()[0][0] > FULL_ABOVE_SCOPE_SHARE * n_records:
            return "the changes reach more than half of the records", n_changed, rounds
    if changed:
        # tonight's fingerprint of every record of the scope, for the state: a record the log does
        # not name kept its row, so its fingerprint is the state's (none: compared again next time
        # the full comparison runs)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE id_now AS
            SELECT s.source, s.source_record_id, coalesce(n.fingerprint, st.fingerprint) AS fingerprint
            FROM {SCOPE} s LEFT JOIN id_now_logged n USING (source, source_record_id)
            LEFT JOIN {C.STATE_RECORDS} st ON st.rh = hash(s.source, s.source_record_id)
        """)
    return "", n_changed, rounds


def resolve_night(con: duckdb.DuckDBPyConnection, model: dict, full: bool = False, as_of: dt.date | None = None,
                  household_guards: bool = True, threshold: float = P.MATCH_PROBABILITY) -> Night:
    """Tonight's identity resolution: Splink on what changed, then stitching, components and ids
    on the records those changes reach (everything when `full`).

    One transaction: a night that fails or is killed half-way leaves yesterday's clusters, ids,
    pairs and state exactly as they were (a state half written would tell the next night that
    records were placed when they were not), and the night's ~25 writes to identity tables commit
    once."""
    con.execute("BEGIN TRANSACTION")
    try:
        night = _resolve(con, model, full, as_of, household_guards, threshold)
    except BaseException:
        con.execute("ROLLBACK")
        raise
    t0 = time.perf_counter()
    con.execute("COMMIT")
    night.timings["commit_s"] = time.perf_counter() - t0
    return night


def _resolve(con: duckdb.DuckDBPyConnection, model: dict, full: bool, as_of: dt.date | None,
             household_guards: bool, threshold: float) -> Night:
    as_of = as_of or dt.date.today()
    timings = {}
    t0 = time.perf_counter()
    why_no_log, log_read = read_change_log(con)
    changed = None if (full or why_no_log) else CHANGED
    timings["change_log_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    match = matching.run(con, model, full=full, as_of=as_of, household_guards=household_guards, threshold=threshold,
                         changed=changed)
    timings["probabilistic_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    link_fp = link_fingerprint(model, household_guards, threshold)
    why, n_changed, rounds = ("full re-resolution requested", 0, 0) if full else plan(con, link_fp, match, changed)
    scope = None if why else SCOPE
    timings["scope_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    stitch = S.build_edges(con, scope, value_stats=VALUE_STATS if scope else None)
    S.unresolvable_records(con)
    timings["deterministic_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    stats = C.resolve(con, as_of, scope=scope, link_fingerprint=link_fp)
    if log_read is not None:
        _store_log_read(con, log_read)
    timings["clustering_s"] = time.perf_counter() - t0
    return Night(mode="incremental" if scope else "full", why_full=why, stitch=stitch, match=match, stats=stats,
                 changed_records=int(n_changed), scope_records=int(stats.pop("placed_records")),
                 closure_rounds=rounds, timings=timings,
                 changes_from="change log" if changed else f"every record ({why_no_log or 'full re-resolution'})")
