"""Connected components of the stitching graph, and customer ids that survive refreshes.

Components come from scipy's sparse-graph routine on integer arrays fetched through Arrow.
Component numbers change every run, so each component is mapped onto yesterday's ids:
- a component keeps the previous id most of its records had (a merge: the id with most
  records survives, the other ids are recorded in the history as merged into it);
- when yesterday's customer is split, the part holding most of its records keeps the id and
  the other parts get new ids (recorded as splits);
- a new person gets a new id derived from its smallest record key (so two refreshes of the
  same landing zone give the same ids).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ..warehouse import table_exists
from .stitching import KEY_CONFIDENCE, KEYS, RECORDS

CLUSTERS_TABLE = "identity.record_clusters"
EVIDENCE_TABLE = "identity.match_evidence"
# More named records (CRM members, accounts, signups) than this in one customer is a chain of
# weak links, not a person.
MAX_NAMED_RECORDS_PER_CUSTOMER = 20
HISTORY_TABLE = "identity.customer_id_history"


def _key_ranks() -> list[int]:
    """Per key type of KEY_CONFIDENCE, its rank as the rule that placed a record: the most
    certain first, equally certain ones in their declared order."""
    order = sorted(KEY_CONFIDENCE, key=lambda k: -KEY_CONFIDENCE[k])  # stable: declared order on ties
    return [order.index(k) for k in KEY_CONFIDENCE]


# What an incremental night compares against (no personal value: hashes, component numbers, ids):
# per record its fingerprint (name signature, birth date and identifier values hashed), the
# component of the whole graph it sat in (before the size guard) and its placement; per record
# the hashes of its identifier values (to find who else carried a value a change touched); the
# size of every component (a row removed behind our back, e.g. by an erasure, reopens it); and
# the fingerprint of the rules that drew the links.
STATE_RECORDS = "identity.cluster_records"
STATE_KEYS = "identity.cluster_keys"
STATE_COMPS = "identity.cluster_comps"
STATE_CONFIG = "identity.cluster_config"
# per customer (hashed id; one row for the records without a customer): counts of its records by
# placing rule, for tonight's metrics. A night adds and subtracts the re-placed records' counts
# instead of grouping every record again
STATE_CUSTOMERS = "identity.cluster_customers"
# Bumped when what the state tables hold changes: an older state makes one full night. Version 2:
# cluster_records and cluster_keys carry `rh`, the record's key hashed, so that a night finds its
# few records among a million by one integer instead of two strings (4x faster per lookup)
STATE_VERSION = "2"
_CUSTOMER_COUNTS = """
    hash(customer_id) AS ck, customer_id IS NOT NULL AS is_customer, {sign} AS n,
    {sign} * (match_rule LIKE 'deterministic%')::INTEGER AS n_det,
    {sign} * (match_rule LIKE 'probabilistic%')::INTEGER AS n_prob,
    {sign} * (match_rule = 'singleton')::INTEGER AS n_single,
    {sign} * coalesce(joined_by_model, false)::INTEGER AS n_joined,
    {sign} * (match_rule = 'anonymous')::INTEGER AS n_anon
"""


def _customer_counts_sql(rows: str, having: str = "") -> str:
    """`rows` (of _CUSTOMER_COUNTS) summed per customer."""
    return (f"SELECT ck, bool_or(is_customer) AS is_customer, sum(n) AS n, sum(n_det) AS n_det, "
            f"sum(n_prob) AS n_prob, sum(n_single) AS n_single, sum(n_joined) AS n_joined, "
            f"sum(n_anon) AS n_anon FROM ({rows}) GROUP BY ck {having}")


CLUSTERS_CHECKSUM_SQL = (f"SELECT count(*) AS written_rows, coalesce(sum(hash(source, source_record_id, "
                         f"customer_id)::HUGEINT), 0) AS written_sum, (SELECT count(*) FROM {STATE_RECORDS}) "
                         f"AS state_rows FROM {CLUSTERS_TABLE}")

DDL = f"""
CREATE SCHEMA IF NOT EXISTS identity;
CREATE TABLE IF NOT EXISTS {HISTORY_TABLE} (
    old_customer_id VARCHAR, new_customer_id VARCHAR, changed_on DATE, reason VARCHAR
);
"""


def components(con: duckdb.DuckDBPyConnection, prob_edges: np.ndarray | None = None) -> np.ndarray:
    """Component label per record index. Records and trusted values form a bipartite graph
    (deterministic stage); `prob_edges` (k × 2 record indexes) adds record-to-record links."""
    n_rec = con.execute("SELECT count(*) FROM id_records").fetchall()[0][0]
    n_val = con.execute("SELECT coalesce(max(val_ix) + 1, 0) FROM id_values_trusted").fetchall()[0][0]
    edges = con.sql("SELECT rec_ix, val_ix FROM id_edges").to_arrow_table()
    rows = [edges.column("rec_ix").to_numpy()]
    cols = [edges.column("val_ix").to_numpy() + n_rec]
    if prob_edges is not None and len(prob_edges):
        rows.append(prob_edges[:, 0])
        cols.append(prob_edges[:, 1])
    rec, val = np.concatenate(rows), np.concatenate(cols)
    n = n_rec + n_val
    graph = coo_matrix((np.ones(len(rec), dtype=np.int8), (rec, val)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels[:n_rec]


# The model's links between placed records, as record indexes, less the links of an ambiguous hub:
# a record with no birth date of its own, linked to two records that are not linked to each other
# and whose birth dates differ in year, month and day, would close two people into one customer
# through itself (a form holding only "Thomas Clément" matched to two namesakes). Its links are
# dropped instead: the chain is cut, not closed. A hub with a birth date is not cut: FEBRL3's
# duplicates of one person can carry wholly different dates, and the hub's own date was weighed.
PROB_IX_SQL = """
    CREATE OR REPLACE TEMP TABLE id_prob_ix AS
    WITH keyed AS (SELECT rec_ix, source || ':' || source_record_id AS rec_key, birth_date FROM id_records),
    linked AS (
        SELECT l.rec_ix AS rec_l, r.rec_ix AS rec_r, e.*
        FROM id_prob_edges e
        JOIN keyed l ON l.rec_key = e.rec_key_l
        JOIN keyed r ON r.rec_key = e.rec_key_r
    ),
    ends AS (SELECT rec_l AS hub, rec_r AS other FROM linked UNION ALL SELECT rec_r AS hub, rec_l AS other FROM linked),
    hubs AS (
        SELECT DISTINCT a.hub
        FROM ends a
        JOIN ends b ON b.hub = a.hub AND b.other > a.other
        JOIN keyed x ON x.rec_ix = a.other
        JOIN keyed y ON y.rec_ix = b.other
        JOIN keyed h ON h.rec_ix = a.hub
        LEFT JOIN ends direct ON direct.hub = a.other AND direct.other = b.other
        WHERE direct.hub IS NULL AND h.birth_date IS NULL AND year(x.birth_date) <> year(y.birth_date)
          AND month(x.birth_date) <> month(y.birth_date) AND day(x.birth_date) <> day(y.birth_date)
    )
    SELECT linked.* FROM linked
    LEFT JOIN hubs hl ON hl.hub = linked.rec_l
    LEFT JOIN hubs hr ON hr.hub = linked.rec_r
    WHERE hl.hub IS NULL AND hr.hub IS NULL
"""


def _probabilistic_edges(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The links of id_prob_edges (record keys) between placed records, as record indexes."""
    has = con.execute("SELECT count(*) FROM duckdb_views() WHERE temporary AND view_name = 'id_prob_edges'"
                      ).fetchall()[0][0]
    if not has:
        return pd.DataFrame({"rec_l": pd.Series(dtype="int64"), "rec_r": pd.Series(dtype="int64"),
                             "match_probability": pd.Series(dtype="float64")})
    con.execute(PROB_IX_SQL)
    return con.execute("SELECT rec_l, rec_r, match_probability FROM id_prob_ix").df()


def cluster(con: duckdb.DuckDBPyConnection) -> tuple[np.ndarray, np.ndarray, pd.DataFrame, int, np.ndarray]:
    """Both stages in one graph, with the size guard.

    Returns (final labels, deterministic-only labels, probabilistic edges used, clusters split,
    labels of the whole graph before the size guard: what an incremental night closes over).
    A cluster holding more named records than one person plausibly has is a chain of weak links:
    its probabilistic edges are dropped (it falls back to its deterministic parts).
    """
    det = components(con)
    prob = _probabilistic_edges(con)
    labels = components(con, prob[["rec_l", "rec_r"]].to_numpy())
    whole = labels
    named = con.execute("SELECT rec_ix FROM id_records WHERE name_signature IS NOT NULL").df()["rec_ix"].to_numpy()
    named_per_comp = np.bincount(labels[named], minlength=int(labels.max()) + 1 if len(labels) else 0)
    oversized = np.flatnonzero(named_per_comp > MAX_NAMED_RECORDS_PER_CUSTOMER)
    in_oversized = np.isin(labels[prob["rec_l"].to_numpy()], oversized)
    split = len(np.unique(labels[prob["rec_l"].to_numpy()[in_oversized]]))
    if split:
        prob = prob.loc[~in_oversized].reset_index(drop=True)
        labels = components(con, prob[["rec_l", "rec_r"]].to_numpy())
    return labels, det, prob, split, whole


def sql_components(con, vertices: str, edges: str, into: str) -> int:
    """Connected components in plain SQL, for an engine without scipy's routine in reach (Spark):
    temp table `into` (v, comp), comp the smallest vertex of v's component. `vertices` is a
    relation of (v), `edges` of (a, b). Each round a vertex takes the smallest label among its
    own and its neighbours', then the label of its label (pointer jumping: a long chain
    converges in about log rounds instead of one round per link). Labels only ever fall to a
    vertex of the same component, and a round that changes none leaves every component on one
    label. Returns the rounds."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE cc_edges AS SELECT a, b FROM {edges} UNION ALL SELECT b, a FROM {edges}")
    current, spare = f"{into}_a", f"{into}_b"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {current} AS SELECT v, v AS comp FROM {vertices}")
    rounds = 0
    while True:  # one table and one count a round (on Spark, each is a job)
        rounds += 1
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE {spare} AS
            WITH step AS (
                SELECT l.v, l.comp AS was, least(l.comp, coalesce(min(n.comp), l.comp)) AS comp
                FROM {current} l LEFT JOIN cc_edges e ON e.a = l.v LEFT JOIN {current} n ON n.v = e.b
                GROUP BY l.v, l.comp
            )
            SELECT x.v, least(x.comp, p.comp) AS comp, x.was FROM step x JOIN step p ON p.v = x.comp
        """)
        current, spare = spare, current
        if not con.execute(f"SELECT count(*) FROM {current} WHERE comp <> was").fetchall()[0][0]:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {into} AS SELECT v, comp FROM {current}")
            return rounds


def cluster_in_sql(con, has_links: bool) -> tuple[int, int]:
    """`cluster` in plain SQL (the Spark engine): temp tables `_labels` (rec_ix, comp, det_comp,
    whole_comp) and `_prob_used` (rec_l, rec_r, match_probability), and `id_prob_ix` when
    `has_links` (the view id_prob_edges exists). Returns (clusters split by the size guard,
    rounds of the component searches)."""
    n_rec = con.execute("SELECT count(*) FROM id_records").fetchall()[0][0]
    vertices = (f"(SELECT rec_ix AS v FROM id_records UNION ALL "
                f"SELECT val_ix + {n_rec} AS v FROM id_values_trusted)")
    det_edges = f"(SELECT rec_ix AS a, val_ix + {n_rec} AS b FROM id_edges)"
    if has_links:
        con.execute(PROB_IX_SQL)
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE id_prob_ix AS SELECT CAST(NULL AS BIGINT) AS rec_l, "
                    "CAST(NULL AS BIGINT) AS rec_r, CAST(NULL AS DOUBLE) AS match_probability WHERE false")
    rounds = sql_components(con, vertices, det_edges, "cc_det")
    rounds += sql_components(con, vertices, f"({det_edges[1:-1]} UNION ALL SELECT rec_l, rec_r FROM id_prob_ix)",
                             "cc_whole")
    # the size guard: a component holding more named records than one person has loses its links
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE cc_oversized AS
        SELECT w.comp FROM cc_whole w JOIN id_records r ON r.rec_ix = w.v
        WHERE r.name_signature IS NOT NULL GROUP BY w.comp HAVING count(*) > {MAX_NAMED_RECORDS_PER_CUSTOMER}
    """)
    split = con.execute("SELECT count(DISTINCT w.comp) FROM id_prob_ix p JOIN cc_whole w ON w.v = p.rec_l "
                        "WHERE w.comp IN (SELECT comp FROM cc_oversized)").fetchall()[0][0]
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _prob_used AS
        SELECT p.rec_l, p.rec_r, p.match_probability FROM id_prob_ix p JOIN cc_whole w ON w.v = p.rec_l
        WHERE w.comp NOT IN (SELECT comp FROM cc_oversized)
    """)
    final = "cc_whole"
    if split:
        rounds += sql_components(con, vertices, f"({det_edges[1:-1]} UNION ALL SELECT rec_l, rec_r FROM _prob_used)",
                                 "cc_final")
        final = "cc_final"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _labels AS
        SELECT r.rec_ix, f.comp, d.comp AS det_comp, w.comp AS whole_comp
        FROM id_records r JOIN {final} f ON f.v = r.rec_ix JOIN cc_det d ON d.v = r.rec_ix
        JOIN cc_whole w ON w.v = r.rec_ix
    """)
    return int(split), rounds


def assign_ids(con: duckdb.DuckDBPyConnection, members: str, has_previous: bool,
               scope: str | None = None) -> list[tuple]:
    """Stable id per component, in DuckDB: leaves the temp table `id_assigned` (comp, customer_id).

    members: a relation with columns comp, record_key (one row per resolvable record);
    yesterday's placement is identity.record_clusters (when `has_previous`), retired ids are in
    the history table. Returns the history rows (old, new, reason).
    `scope` (an incremental night): the relation of (source, source_record_id) being re-placed;
    the ids of every customer outside it stay taken.
    """
    within = f"SEMI JOIN {scope} USING (source, source_record_id)" if scope else ""
    previous = (f"SELECT source || ':' || source_record_id AS record_key, customer_id FROM {CLUSTERS_TABLE} "
                f"{within} WHERE customer_id IS NOT NULL" if has_previous
                else "SELECT NULL::VARCHAR AS record_key, NULL::VARCHAR AS customer_id WHERE false")
    # ids held outside the scope (an incremental night): only candidates are looked up
    taken = (f"SELECT customer_id FROM {CLUSTERS_TABLE} ANTI JOIN {scope} USING (source, source_record_id) "
             f"WHERE customer_id IN (SELECT candidate FROM id_candidates)" if scope and has_previous
             else "SELECT NULL::VARCHAR AS customer_id WHERE false")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE id_comps AS
        SELECT comp, count(*) AS size, min(record_key) AS seed FROM {members} GROUP BY comp
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE id_votes AS
        SELECT m.comp, p.customer_id, count(*) AS votes, any_value(c.size) AS size, any_value(c.seed) AS seed
        FROM {members} m JOIN ({previous}) p USING (record_key) JOIN id_comps c USING (comp)
        GROUP BY m.comp, p.customer_id
    """)
    # each old id goes to the component holding most of its records (then the larger, then seed);
    # a component owning several old ids keeps the one with most votes (a merge)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE id_owners AS
        SELECT * FROM id_votes
        QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY votes DESC, size DESC, seed) = 1
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE id_assigned AS
        SELECT comp, customer_id FROM id_owners
        QUALIFY row_number() OVER (PARTITION BY comp ORDER BY votes DESC, customer_id) = 1
    """)
    # new people and split-off parts: an id from the smallest record key; a clash takes the next salt
    salt = 0
    while True:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE id_candidates AS
            SELECT c.comp, 'C' || upper(left(sha1(c.seed || '#{salt}'), 12)) AS candidate
            FROM id_comps c ANTI JOIN id_assigned a USING (comp)
        """)
        con.execute(f"CREATE OR REPLACE TEMP TABLE id_taken AS {taken}")
        con.execute(f"""
            INSERT INTO id_assigned
            SELECT comp, candidate FROM id_candidates n
            WHERE candidate NOT IN (SELECT customer_id FROM id_assigned)
              AND candidate NOT IN (SELECT old_customer_id FROM {HISTORY_TABLE})
              AND candidate NOT IN (SELECT customer_id FROM id_taken)
            QUALIFY count(*) OVER (PARTITION BY candidate) = 1
        """)
        missing = con.execute("SELECT count(*) FROM id_comps ANTI JOIN id_assigned USING (comp)").fetchall()[0][0]
        if not missing:
            break
        salt += 1
        if salt > 100:
            raise RuntimeError("could not mint unique customer ids")
    history = con.execute("""
        SELECT o.customer_id, a.customer_id, 'merge' FROM id_owners o JOIN id_assigned a USING (comp)
        WHERE o.customer_id <> a.customer_id
        UNION ALL
        -- parts of yesterday's customer that did not keep its id: a split
        SELECT DISTINCT v.customer_id, a.customer_id, 'split' FROM id_votes v JOIN id_assigned a USING (comp)
        WHERE v.customer_id <> a.customer_id AND v.customer_id IN (SELECT customer_id FROM id_assigned)
        ORDER BY 3, 1, 2
    """).fetchall()
    return [tuple(h) for h in history]


PLACED_SQL = """
    CREATE OR REPLACE TEMP TABLE id_placed AS
    WITH r AS (
        SELECT r.rec_ix, r.source, r.source_record_id, r.source || ':' || r.source_record_id AS record_key,
               u.why, l.comp,
               count(*) OVER (PARTITION BY l.comp) AS comp_size,
               count(*) OVER (PARTITION BY l.det_comp) AS det_size
        FROM id_records r JOIN _labels l USING (rec_ix) LEFT JOIN id_unresolved u USING (rec_ix)
    )
    SELECT *,
           source = 'web' AND comp_size = 1 AS anonymous,
           why IS NOT NULL AND comp_size = 1 AS unresolved,
           det_size < comp_size AS joined_by_model
    FROM r
"""


def _key_rules() -> str:
    """KEY_CONFIDENCE as a relation (key_type, conf, rank)."""
    rows = ", ".join(f"('{k}', CAST({float(c)} AS DOUBLE), {r})" for (k, c), r in zip(KEY_CONFIDENCE.items(), _key_ranks()))
    return f"(SELECT * FROM (VALUES {rows}) AS v(key_type, conf, rank))"


# The rule that placed each record: its most certain identifier shared within its cluster, else
# the probabilistic model. A record whose deterministic part was joined to the rest of its
# customer by the model is no surer than the weakest probabilistic link of that customer.
def placed_final_sql() -> str:
    return f"""
    CREATE OR REPLACE TEMP TABLE id_placed_final AS
    WITH rules AS (
        -- equally certain keys (a CRM id and an account id) are ranked by their declared
        -- order: arg_max on confidence alone picked either, run to run
        SELECT e.rec_ix, arg_min(e.key_type, c.rank) AS key_type, max(c.conf) AS conf
        FROM id_edges e JOIN {_key_rules()} c USING (key_type)
        GROUP BY e.rec_ix
    ),
    ends AS (
        SELECT rec_l AS rec_ix, match_probability AS p FROM _prob_used
        UNION ALL SELECT rec_r, match_probability FROM _prob_used
    ),
    prob_conf AS (SELECT rec_ix, max(p) AS p FROM ends GROUP BY rec_ix),
    weakest AS (
        SELECT l.comp, min(u.match_probability) AS p
        FROM _prob_used u JOIN _labels l ON l.rec_ix = u.rec_l GROUP BY l.comp
    )
    SELECT r.rec_ix, r.source, r.source_record_id, r.joined_by_model,
           CASE WHEN NOT (r.anonymous OR r.unresolved) THEN a.customer_id END AS customer_id,
           CASE WHEN r.anonymous THEN 'anonymous'
                WHEN r.unresolved THEN r.why
                WHEN k.key_type IS NOT NULL AND r.comp_size > 1 THEN 'deterministic:' || k.key_type
                WHEN pc.p IS NOT NULL THEN 'probabilistic:splink'
                ELSE 'singleton' END AS match_rule,
           CAST(CASE WHEN r.anonymous OR r.unresolved THEN NULL
                WHEN k.key_type IS NOT NULL AND r.comp_size > 1
                    THEN CASE WHEN r.joined_by_model THEN least(k.conf, coalesce(w.p, k.conf)) ELSE k.conf END
                WHEN pc.p IS NOT NULL THEN pc.p
                ELSE 1.0 END AS DOUBLE) AS match_confidence
    FROM id_placed r
    LEFT JOIN id_assigned a USING (comp)
    LEFT JOIN rules k USING (rec_ix)
    LEFT JOIN prob_conf pc USING (rec_ix)
    LEFT JOIN weakest w USING (comp)
    """


def place(con, has_previous: bool, scope: str | None = None) -> list[tuple]:
    """From the component labels (`_labels`), the links used (`_prob_used`) and stitching's
    tables: temp table `id_placed_final` (per record its customer, rule and confidence). Returns
    the id history rows (assign_ids). Plain SQL: runs on DuckDB and, through SparkSql, on Spark."""
    con.execute(PLACED_SQL)
    history = assign_ids(con, "(SELECT comp, record_key FROM id_placed WHERE NOT anonymous AND NOT unresolved)",
                         has_previous, scope)
    con.execute(placed_final_sql())
    return history


def resolve(con: duckdb.DuckDBPyConnection, as_of: dt.date, scope: str | None = None,
            link_fingerprint: str = "") -> dict:
    """Write identity.record_clusters and identity.match_evidence from the temp tables built by
    stitching (and matching, when it ran); return counts and rates only.

    `scope` (an incremental night, see incremental.py): the relation of (source, source_record_id)
    that stitching was restricted to, closed under tonight's links and yesterday's components:
    only their rows are rewritten, every other row and id stays as it is."""
    con.execute(DDL)
    has_previous = table_exists(con, CLUSTERS_TABLE)
    labels, det_labels, prob, split_clusters, whole = cluster(con)
    con.register("_labels", pa.table({"rec_ix": np.arange(len(labels), dtype=np.int64),
                                      "comp": labels.astype(np.int64), "det_comp": det_labels.astype(np.int64),
                                      "whole_comp": whole.astype(np.int64)}))
    con.register("_prob_used", prob)
    history = place(con, has_previous, scope)
    placed = ("SELECT source, source_record_id, customer_id, match_rule, match_confidence "
              "FROM id_placed_final ORDER BY rec_ix")
    if scope and has_previous:
        con.execute(f"DELETE FROM {CLUSTERS_TABLE} t USING {scope} s "
                    f"WHERE t.source = s.source AND t.source_record_id = s.source_record_id")
        con.execute(f"INSERT INTO {CLUSTERS_TABLE} {placed}")
    else:
        con.execute(f"CREATE OR REPLACE TABLE {CLUSTERS_TABLE} AS {placed}")
    _write_evidence(con, scope)
    write_state(con, scope, link_fingerprint, as_of)
    con.unregister("_labels")
    con.unregister("_prob_used")
    if history:
        con.executemany(f"INSERT INTO {HISTORY_TABLE} VALUES (?, ?, ?, ?)",
                        [(old, new, as_of, why) for old, new, why in history])
    links_used = (len(prob) if not scope else
                  con.execute(f"SELECT count(*) FROM {EVIDENCE_TABLE}").fetchall()[0][0])
    return {**_stats(con), "probabilistic_links_used": int(links_used),
            "oversized_clusters_split": split_clusters, "placed_records": len(labels),
            "id_changes": {"merge": sum(h[2] == "merge" for h in history),
                           "split": sum(h[2] == "split" for h in history)}}


def fingerprints_sql(scope: str | None = None) -> str:
    """(source, source_record_id, fingerprint) of the current records: what stitching reads of a
    record (name signature, birth date, identifier values), hashed order-independently."""
    within = f"SEMI JOIN {scope} USING (source, source_record_id)" if scope else ""
    return f"""
        WITH kh AS (SELECT hash(source, source_record_id) AS rh, bit_xor(hash(key_type, key_value)) AS h
                    FROM {KEYS} {within} GROUP BY ALL)
        SELECT r.source, r.source_record_id, hash(r.source, r.source_record_id) AS rh,
               xor(hash(r.name_signature, r.birth_date), coalesce(kh.h, 0::UBIGINT)) AS fingerprint
        FROM {RECORDS} r {within} LEFT JOIN kh ON kh.rh = hash(r.source, r.source_record_id)
    """


def key_hashes_sql(scope: str | None = None) -> str:
    within = f"SEMI JOIN {scope} USING (source, source_record_id)" if scope else ""
    return (f"SELECT source, source_record_id, hash(key_type, key_value) AS key_hash, "
            f"hash(source, source_record_id) AS rh FROM {KEYS} {within}")


def write_state(con: duckdb.DuckDBPyConnection, scope: str | None, link_fingerprint: str, as_of: dt.date) -> None:
    """Persist what the next night needs to re-place only what a change can reach."""
    incremental = bool(scope) and all(table_exists(con, t) for t in (STATE_RECORDS, STATE_KEYS, STATE_COMPS))
    offset = (con.execute(f"SELECT coalesce(max(whole_comp) + 1, 0) FROM {STATE_RECORDS}").fetchall()[0][0]
              if incremental else 0)
    # tonight's fingerprints of every record, when the night's plan computed them already
    has_now = incremental and con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = 'id_now'").fetchall()[0][0]
    fingerprints = ("SELECT source, source_record_id, fingerprint FROM id_now" if has_now
                    else fingerprints_sql('id_records'))
    rows = f"""
        SELECT f.source, f.source_record_id, fp.fingerprint, l.whole_comp + {int(offset)} AS whole_comp,
               f.customer_id, f.match_rule, f.joined_by_model, hash(f.source, f.source_record_id) AS rh
        FROM id_placed_final f JOIN _labels l USING (rec_ix)
        JOIN ({fingerprints}) fp USING (source, source_record_id)
    """
    comps = f"SELECT whole_comp, count(*) AS n_records FROM {STATE_RECORDS} "
    incremental_counts = incremental and table_exists(con, STATE_CUSTOMERS)
    if incremental:
        con.execute(f"CREATE OR REPLACE TEMP TABLE id_scope_rh AS SELECT hash(source, source_record_id) AS rh FROM {scope}")
    in_scope = "WHERE rh IN (SELECT rh FROM id_scope_rh)"
    if incremental_counts:  # the re-placed records' counts as they were, subtracted
        con.execute(f"CREATE OR REPLACE TEMP TABLE id_customer_delta AS SELECT "
                    f"{_CUSTOMER_COUNTS.format(sign='-1')} FROM {STATE_RECORDS} {in_scope}")
    if incremental:
        con.execute(f"DELETE FROM {STATE_COMPS} WHERE whole_comp IN (SELECT whole_comp FROM {STATE_RECORDS} {in_scope})")
        for table in (STATE_RECORDS, STATE_KEYS):
            con.execute(f"DELETE FROM {table} {in_scope}")
        con.execute(f"INSERT INTO {STATE_RECORDS} {rows}")
        con.execute(f"INSERT INTO {STATE_KEYS} {key_hashes_sql('id_records')}")
        con.execute(f"INSERT INTO {STATE_COMPS} {comps} WHERE whole_comp >= {int(offset)} GROUP BY whole_comp")
    else:
        con.execute(f"CREATE OR REPLACE TABLE {STATE_RECORDS} AS {rows}")
        con.execute(f"CREATE OR REPLACE TABLE {STATE_KEYS} AS {key_hashes_sql()}")
        con.execute(f"CREATE OR REPLACE TABLE {STATE_COMPS} AS {comps} GROUP BY whole_comp")
    if incremental_counts:  # and as they are now, added
        con.execute(f"INSERT INTO id_customer_delta SELECT {_CUSTOMER_COUNTS.format(sign='1')} "
                    f"FROM {STATE_RECORDS} {in_scope}")
        con.execute("CREATE OR REPLACE TEMP TABLE id_customer_now AS " + _customer_counts_sql(
            f"SELECT * FROM {STATE_CUSTOMERS} WHERE ck IN (SELECT ck FROM id_customer_delta) "
            f"UNION ALL SELECT * FROM id_customer_delta", having="HAVING sum(n) > 0"))
        con.execute(f"DELETE FROM {STATE_CUSTOMERS} WHERE ck IN (SELECT ck FROM id_customer_delta)")
        con.execute(f"INSERT INTO {STATE_CUSTOMERS} SELECT * FROM id_customer_now")
    else:
        con.execute(f"CREATE OR REPLACE TABLE {STATE_CUSTOMERS} AS " + _customer_counts_sql(
            f"SELECT {_CUSTOMER_COUNTS.format(sign='1')} FROM {STATE_RECORDS}"))
    # a checksum of what this step wrote: the next night compares every row only when another
    # step (the privacy step's erasures) changed the table since
    con.execute(f"CREATE OR REPLACE TABLE {STATE_CONFIG} AS SELECT ? AS fingerprint, ?::DATE AS resolved_on, "
                f"c.* FROM ({CLUSTERS_CHECKSUM_SQL}) c", [link_fingerprint, as_of])


def _stats(con: duckdb.DuckDBPyConnection, counts: str = STATE_CUSTOMERS) -> dict:
    """Counts and rates of tonight's placement (never a value), over every record: from the
    per-customer counts `write_state` keeps (identity.cluster_customers), or `counts`."""
    row = con.execute(f"""
        SELECT coalesce(sum(n), 0),
               count(*) FILTER (WHERE is_customer),
               count(*) FILTER (WHERE is_customer AND n > 1),
               coalesce(max(n) FILTER (WHERE is_customer), 0),
               coalesce(round(avg(n) FILTER (WHERE is_customer), 3), 0),
               count(*) FILTER (WHERE is_customer AND n_joined > 0),
               coalesce(sum(n_det) FILTER (WHERE is_customer), 0),
               coalesce(sum(n_prob) FILTER (WHERE is_customer), 0),
               coalesce(sum(n_single) FILTER (WHERE is_customer), 0),
               coalesce(sum(n_anon) FILTER (WHERE NOT is_customer), 0),
               coalesce(sum(n - n_anon) FILTER (WHERE NOT is_customer), 0)
        FROM {counts}
    """).fetchall()[0]
    histogram = con.execute(f"""
        SELECT least(n, 10) AS size, count(*) FROM {counts} WHERE is_customer
        GROUP BY ALL ORDER BY 1
    """).fetchall()
    by_stage = {"deterministic": int(row[6]), "probabilistic": int(row[7]), "singleton": int(row[8])}
    row = (row[0], row[1], row[2], row[9], row[10], row[3], row[4], row[5])
    placed = max(1, sum(by_stage.values()))
    return {
        "records": int(row[0]), "customers": int(row[1]), "multi_record_customers": int(row[2]),
        "anonymous_records": int(row[3]), "unresolved_records": int(row[4]), "largest_cluster": int(row[5]),
        "mean_cluster_size": float(row[6]),
        "share_deterministic": round(by_stage.get("deterministic", 0) / placed, 4),
        "share_probabilistic": round(by_stage.get("probabilistic", 0) / placed, 4),
        "share_singleton": round(by_stage.get("singleton", 0) / placed, 4),
        "customers_joined_by_model": int(row[7]),
        "cluster_size_histogram": {str(k): int(v) for k, v in histogram},
    }


def evidence_rows_sql() -> str:
    """identity.match_evidence's rows: the scored pairs of the links used, with a readable line."""
    from .matching import evidence_sql

    return f"""
        SELECT l.customer_id, l.source AS source_l, l.source_record_id AS source_record_id_l,
               r.source AS source_r, r.source_record_id AS source_record_id_r,
               e.match_probability, e.match_weight, {evidence_sql()} AS evidence, e.scored_on
        FROM id_prob_ix e
        SEMI JOIN _prob_used u ON u.rec_l = e.rec_l AND u.rec_r = e.rec_r
        JOIN id_placed_final l ON l.rec_ix = e.rec_l
        JOIN id_placed_final r ON r.rec_ix = e.rec_r
    """


def _write_evidence(con: duckdb.DuckDBPyConnection, scope: str | None = None) -> None:
    """identity.match_evidence: the scored pairs behind every probabilistic link kept (on an
    incremental night, those of the re-placed records replace theirs)."""
    has_pairs = con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = 'id_prob_ix'"
                            ).fetchall()[0][0]
    any_used = has_pairs and con.execute("SELECT count(*) FROM _prob_used").fetchall()[0][0]
    rows = evidence_rows_sql()
    if scope and table_exists(con, EVIDENCE_TABLE):
        con.execute(f"DELETE FROM {EVIDENCE_TABLE} t USING {scope} s "
                    f"WHERE t.source_l = s.source AND t.source_record_id_l = s.source_record_id")
        con.execute(f"DELETE FROM {EVIDENCE_TABLE} t USING {scope} s "
                    f"WHERE t.source_r = s.source AND t.source_record_id_r = s.source_record_id")
        if any_used:
            con.execute(f"INSERT INTO {EVIDENCE_TABLE} {rows}")
        return
    if not any_used:
        con.execute(f"""CREATE OR REPLACE TABLE {EVIDENCE_TABLE} (
            customer_id VARCHAR, source_l VARCHAR, source_record_id_l VARCHAR, source_r VARCHAR,
            source_record_id_r VARCHAR, match_probability DOUBLE, match_weight DOUBLE, evidence VARCHAR,
            scored_on DATE)""")
        return
    con.execute(f"CREATE OR REPLACE TABLE {EVIDENCE_TABLE} AS {rows}")
