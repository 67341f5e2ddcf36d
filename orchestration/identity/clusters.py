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
import hashlib

import duckdb
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ..warehouse import table_exists
from .stitching import KEY_CONFIDENCE

CLUSTERS_TABLE = "identity.record_clusters"
EVIDENCE_TABLE = "identity.match_evidence"
# More named records (CRM members, accounts, signups) than this in one customer is a chain of
# weak links, not a person.
MAX_NAMED_RECORDS_PER_CUSTOMER = 20
HISTORY_TABLE = "identity.customer_id_history"

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


def _probabilistic_edges(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """id_prob_edges (record keys) as record indexes, with their probability."""
    has = con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = 'id_prob_edges'"
                      ).fetchall()[0][0]
    if not has:
        return pd.DataFrame({"rec_l": pd.Series(dtype="int64"), "rec_r": pd.Series(dtype="int64"),
                             "match_probability": pd.Series(dtype="float64")})
    return con.execute("""
        SELECT l.rec_ix AS rec_l, r.rec_ix AS rec_r, e.match_probability
        FROM id_prob_edges e
        JOIN id_records l ON l.source || ':' || l.source_record_id = e.rec_key_l
        JOIN id_records r ON r.source || ':' || r.source_record_id = e.rec_key_r
    """).df()


def cluster(con: duckdb.DuckDBPyConnection) -> tuple[np.ndarray, np.ndarray, pd.DataFrame, int]:
    """Both stages in one graph, with the size guard.

    Returns (final labels, deterministic-only labels, probabilistic edges used, clusters split).
    A cluster holding more named records than one person plausibly has is a chain of weak links:
    its probabilistic edges are dropped (it falls back to its deterministic parts).
    """
    det = components(con)
    prob = _probabilistic_edges(con)
    labels = components(con, prob[["rec_l", "rec_r"]].to_numpy())
    named = con.execute("SELECT rec_ix FROM id_records WHERE name_signature IS NOT NULL").df()["rec_ix"].to_numpy()
    named_per_comp = np.bincount(labels[named], minlength=int(labels.max()) + 1 if len(labels) else 0)
    oversized = np.flatnonzero(named_per_comp > MAX_NAMED_RECORDS_PER_CUSTOMER)
    in_oversized = np.isin(labels[prob["rec_l"].to_numpy()], oversized)
    split = int(len(np.unique(labels[prob["rec_l"].to_numpy()[in_oversized]])))
    if split:
        prob = prob.loc[~in_oversized].reset_index(drop=True)
        labels = components(con, prob[["rec_l", "rec_r"]].to_numpy())
    return labels, det, prob, split


def new_id(seed_key: str, salt: int = 0) -> str:
    digest = hashlib.sha1(f"{seed_key}#{salt}".encode()).hexdigest()[:12].upper()
    return f"C{digest}"


def _mint(seeds: pd.Series, used: set[str]) -> pd.Series:
    """New ids for new people and split-off parts, from their smallest record key (vectorised:
    a first night mints one per person); a collision takes the next salt."""
    out = pd.Series(index=seeds.index, dtype=object)
    todo, salt = seeds, 0
    while len(todo):
        candidates = _sha1_ids(todo, salt)
        clash = candidates.isin(used) | candidates.duplicated()
        out.loc[candidates.index[~clash]] = candidates[~clash]
        used |= set(candidates[~clash])
        todo, salt = todo[clash.to_numpy()], salt + 1
    return out


def _sha1_ids(seeds: pd.Series, salt: int) -> pd.Series:
    """Same ids as `new_id`, computed in DuckDB."""
    con = duckdb.connect()
    try:
        con.register("s", pd.DataFrame({"seed": seeds.to_numpy()}))
        ids = con.execute("SELECT 'C' || upper(left(sha1(seed || ?), 12)) FROM s", [f"#{salt}"]).fetchnumpy()
    finally:
        con.close()
    return pd.Series(next(iter(ids.values())), index=seeds.index)


def assign_ids(members: pd.DataFrame, previous: pd.DataFrame, taken: set[str]) -> tuple[pd.Series, list[tuple]]:
    """Stable id per component.

    members: columns comp, record_key (one row per resolvable record);
    previous: columns record_key, customer_id (yesterday's placement).
    Returns (customer_id indexed by comp, history rows (old, new, reason)).
    """
    sizes = members.groupby("comp").size().rename("size")
    seeds = members.groupby("comp")["record_key"].min().rename("seed")
    votes = (members.merge(previous, on="record_key", how="inner")
             .groupby(["comp", "customer_id"]).size().rename("votes").reset_index())
    votes = votes.join(sizes, on="comp").join(seeds, on="comp")
    # each old id goes to the component holding most of its records (then the larger, then seed)
    owners = (votes.sort_values(["customer_id", "votes", "size", "seed"], ascending=[True, False, False, True])
              .drop_duplicates("customer_id"))
    # a component owning several old ids keeps the one with most votes (a merge)
    chosen = (owners.sort_values(["comp", "votes", "customer_id"], ascending=[True, False, True])
              .drop_duplicates("comp").set_index("comp")["customer_id"])
    ids = pd.Series(index=sizes.index, dtype=object)
    ids.loc[chosen.index] = chosen.values
    history: list[tuple] = []
    for old, comp in owners.loc[~owners["customer_id"].isin(chosen.values), ["customer_id", "comp"]].itertuples(
            index=False):
        history.append((old, chosen.loc[comp], "merge"))
    ids.loc[ids.isna()] = _mint(seeds.loc[ids.index[ids.isna()]], set(taken) | set(chosen.values))
    # parts of yesterday's customer that did not keep its id: a split
    kept_elsewhere = votes["customer_id"].isin(chosen.values) & (votes["comp"].map(ids) != votes["customer_id"])
    for old, comp in votes.loc[kept_elsewhere, ["customer_id", "comp"]].drop_duplicates().itertuples(index=False):
        history.append((old, ids.loc[comp], "split"))
    return ids, history


def resolve(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dict:
    """Write identity.record_clusters and identity.match_evidence from the temp tables built by
    stitching (and matching, when it ran); return counts and rates only."""
    con.execute(DDL)
    labels, det_labels, prob, split_clusters = cluster(con)
    records = con.execute("""
        SELECT r.rec_ix, r.source, r.source_record_id, r.source || ':' || r.source_record_id AS record_key,
               u.why AS unresolved_why
        FROM id_records r LEFT JOIN id_unresolved u USING (rec_ix) ORDER BY r.rec_ix
    """).df()
    rec_ix = records["rec_ix"].to_numpy()
    records["comp"] = labels[rec_ix]
    comp_size = records.groupby("comp")["rec_ix"].transform("size")
    anonymous = (records["source"] == "web") & (comp_size == 1)
    unresolved = records["unresolved_why"].notna() & (comp_size == 1)
    resolvable = records.loc[~anonymous & ~unresolved, ["comp", "record_key"]]

    previous = (con.execute(f"SELECT source || ':' || source_record_id AS record_key, customer_id "
                            f"FROM {CLUSTERS_TABLE} WHERE customer_id IS NOT NULL").df()
                if table_exists(con, CLUSTERS_TABLE) else pd.DataFrame(columns=["record_key", "customer_id"]))
    taken = set(con.execute(f"SELECT old_customer_id FROM {HISTORY_TABLE}").df()["old_customer_id"])
    ids, history = assign_ids(resolvable, previous, taken)
    records["customer_id"] = records["comp"].map(ids)
    records.loc[anonymous | unresolved, "customer_id"] = None

    # The rule that placed each record: its most certain identifier shared within its cluster,
    # else the probabilistic model. A record whose deterministic part was joined to the rest of
    # its customer by the model is no surer than the weakest probabilistic link of that customer.
    rules = con.execute("""
        SELECT e.rec_ix, arg_max(e.key_type, c.conf) AS key_type, max(c.conf) AS conf
        FROM id_edges e
        JOIN (SELECT unnest(?) AS key_type, unnest(?) AS conf) c USING (key_type)
        GROUP BY e.rec_ix
    """, [list(KEY_CONFIDENCE), list(KEY_CONFIDENCE.values())]).df().set_index("rec_ix")
    records = records.join(rules, on="rec_ix")
    ends = pd.concat([prob[["rec_l", "match_probability"]].set_axis(["rec_ix", "p"], axis=1),
                      prob[["rec_r", "match_probability"]].set_axis(["rec_ix", "p"], axis=1)])
    records["prob_conf"] = records["rec_ix"].map(ends.groupby("rec_ix")["p"].max())
    weakest = pd.Series(prob["match_probability"].to_numpy(), index=labels[prob["rec_l"].to_numpy()]
                        ).groupby(level=0).min()
    records["weakest_link"] = records["comp"].map(weakest)
    det_size = pd.Series(det_labels[rec_ix]).groupby(det_labels[rec_ix]).transform("size").to_numpy()
    joined_by_model = det_size < comp_size.to_numpy()
    deterministic = records["key_type"].notna() & (comp_size > 1)
    probabilistic = records["key_type"].isna() & records["prob_conf"].notna()
    records["match_rule"] = np.select(
        [anonymous, unresolved, deterministic, probabilistic],
        ["anonymous", records["unresolved_why"].fillna(""), "deterministic:" + records["key_type"].fillna(""),
         "probabilistic:splink"],
        default="singleton",
    )
    det_conf = np.where(joined_by_model, np.fmin(records["conf"], records["weakest_link"]), records["conf"])
    records["match_confidence"] = np.select(
        [anonymous | unresolved, deterministic, probabilistic], [np.nan, det_conf, records["prob_conf"]], default=1.0)
    out = records[["source", "source_record_id", "customer_id", "match_rule", "match_confidence"]]
    con.register("_clusters_df", out)
    con.execute(f"CREATE OR REPLACE TABLE {CLUSTERS_TABLE} AS SELECT * FROM _clusters_df")
    con.unregister("_clusters_df")
    _write_evidence(con, prob)
    if history:
        con.executemany(f"INSERT INTO {HISTORY_TABLE} VALUES (?, ?, ?, ?)",
                        [(old, new, as_of, why) for old, new, why in history])

    placed = records["customer_id"].notna()
    sizes = records.loc[placed].groupby("customer_id").size()
    by_rule = records.loc[placed, "match_rule"].str.split(":").str[0].value_counts()
    n_placed = max(1, int(placed.sum()))
    return {
        "records": int(len(records)),
        "customers": int(sizes.size),
        "multi_record_customers": int((sizes > 1).sum()),
        "anonymous_records": int(anonymous.sum()),
        "unresolved_records": int(unresolved.sum()),
        "largest_cluster": int(sizes.max()) if sizes.size else 0,
        "mean_cluster_size": round(float(sizes.mean()), 3) if sizes.size else 0.0,
        "share_deterministic": round(int(by_rule.get("deterministic", 0)) / n_placed, 4),
        "share_probabilistic": round(int(by_rule.get("probabilistic", 0)) / n_placed, 4),
        "share_singleton": round(int(by_rule.get("singleton", 0)) / n_placed, 4),
        "customers_joined_by_model": int(records.loc[placed & joined_by_model, "customer_id"].nunique()),
        "probabilistic_links_used": int(len(prob)),
        "oversized_clusters_split": split_clusters,
        "cluster_size_histogram": {str(k): int(v) for k, v in sizes.clip(upper=10).value_counts().sort_index().items()},
        "id_changes": {"merge": sum(h[2] == "merge" for h in history), "split": sum(h[2] == "split" for h in history)},
    }


def _write_evidence(con: duckdb.DuckDBPyConnection, prob: pd.DataFrame) -> None:
    """identity.match_evidence: the scored pairs behind every probabilistic link kept."""
    from .matching import evidence_sql

    has_pairs = con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = 'id_prob_edges'"
                            ).fetchall()[0][0]
    if not has_pairs:
        con.execute(f"""CREATE OR REPLACE TABLE {EVIDENCE_TABLE} (
            customer_id VARCHAR, source_l VARCHAR, source_record_id_l VARCHAR, source_r VARCHAR,
            source_record_id_r VARCHAR, match_probability DOUBLE, match_weight DOUBLE, evidence VARCHAR,
            scored_on DATE)""")
        return
    con.register("_used", prob[["rec_l", "rec_r"]])
    con.execute(f"""
        CREATE OR REPLACE TABLE {EVIDENCE_TABLE} AS
        SELECT c.customer_id, l.source AS source_l, l.source_record_id AS source_record_id_l,
               r.source AS source_r, r.source_record_id AS source_record_id_r,
               e.match_probability, e.match_weight, {evidence_sql()} AS evidence, e.scored_on
        FROM _used u
        JOIN id_records l ON l.rec_ix = u.rec_l
        JOIN id_records r ON r.rec_ix = u.rec_r
        JOIN id_prob_edges e ON e.rec_key_l = l.source || ':' || l.source_record_id
                            AND e.rec_key_r = r.source || ':' || r.source_record_id
        JOIN {CLUSTERS_TABLE} c ON c.source = l.source AND c.source_record_id = l.source_record_id
    """)
    con.unregister("_used")
