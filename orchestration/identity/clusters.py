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

from .stitching import KEY_CONFIDENCE

CLUSTERS_TABLE = "identity.record_clusters"
HISTORY_TABLE = "identity.customer_id_history"

DDL = f"""
CREATE SCHEMA IF NOT EXISTS identity;
CREATE TABLE IF NOT EXISTS {HISTORY_TABLE} (
    old_customer_id VARCHAR, new_customer_id VARCHAR, changed_on DATE, reason VARCHAR
);
"""


def components(con: duckdb.DuckDBPyConnection) -> np.ndarray:
    """Component label per record index (records + trusted values form a bipartite graph)."""
    n_rec = con.execute("SELECT count(*) FROM id_records").fetchall()[0][0]
    n_val = con.execute("SELECT coalesce(max(val_ix) + 1, 0) FROM id_values_trusted").fetchall()[0][0]
    edges = con.sql("SELECT rec_ix, val_ix FROM id_edges").to_arrow_table()
    rec = edges.column("rec_ix").to_numpy()
    val = edges.column("val_ix").to_numpy() + n_rec
    n = n_rec + n_val
    graph = coo_matrix((np.ones(len(rec), dtype=np.int8), (rec, val)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels[:n_rec]


def new_id(seed_key: str, salt: int = 0) -> str:
    digest = hashlib.sha1(f"{seed_key}#{salt}".encode()).hexdigest()[:12].upper()
    return f"C{digest}"


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
    used = set(taken) | set(chosen.values)
    for comp in ids.index[ids.isna()]:  # new people and split-off parts: few per night
        salt, candidate = 0, new_id(seeds.loc[comp])
        while candidate in used:
            salt += 1
            candidate = new_id(seeds.loc[comp], salt)
        used.add(candidate)
        ids.loc[comp] = candidate
    # parts of yesterday's customer that did not keep its id: a split
    kept_elsewhere = votes["customer_id"].isin(chosen.values) & (votes["comp"].map(ids) != votes["customer_id"])
    for old, comp in votes.loc[kept_elsewhere, ["customer_id", "comp"]].drop_duplicates().itertuples(index=False):
        history.append((old, ids.loc[comp], "split"))
    return ids, history


def resolve(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dict:
    """Write identity.record_clusters from the temp tables built by stitching; return stats."""
    con.execute(DDL)
    labels = components(con)
    records = con.execute("""
        SELECT r.rec_ix, r.source, r.source_record_id, r.source || ':' || r.source_record_id AS record_key,
               u.why AS unresolved_why
        FROM id_records r LEFT JOIN id_unresolved u USING (rec_ix) ORDER BY r.rec_ix
    """).df()
    records["comp"] = labels[records["rec_ix"].to_numpy()]
    comp_size = records.groupby("comp")["rec_ix"].transform("size")
    anonymous = (records["source"] == "web") & (comp_size == 1)
    unresolved = records["unresolved_why"].notna() & (comp_size == 1)
    resolvable = records.loc[~anonymous & ~unresolved, ["comp", "record_key"]]

    has_prev = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema='identity' AND table_name='record_clusters'"
    ).fetchall()[0][0] > 0
    previous = (con.execute(f"SELECT source || ':' || source_record_id AS record_key, customer_id "
                            f"FROM {CLUSTERS_TABLE} WHERE customer_id IS NOT NULL").df()
                if has_prev else pd.DataFrame(columns=["record_key", "customer_id"]))
    taken = set(con.execute(f"SELECT old_customer_id FROM {HISTORY_TABLE}").df()["old_customer_id"])
    ids, history = assign_ids(resolvable, previous, taken)

    records["customer_id"] = records["comp"].map(ids)
    records.loc[anonymous | unresolved, "customer_id"] = None
    # the rule that placed each record: its most certain identifier shared within its cluster
    rules = con.execute("""
        SELECT e.rec_ix, arg_max(e.key_type, c.conf) AS key_type, max(c.conf) AS conf
        FROM id_edges e
        JOIN (SELECT unnest(?) AS key_type, unnest(?) AS conf) c USING (key_type)
        GROUP BY e.rec_ix
    """, [list(KEY_CONFIDENCE), list(KEY_CONFIDENCE.values())]).df().set_index("rec_ix")
    records = records.join(rules, on="rec_ix")
    records["match_rule"] = np.select(
        [anonymous, unresolved, records["key_type"].notna() & (comp_size > 1)],
        ["anonymous", records["unresolved_why"].fillna(""), "deterministic:" + records["key_type"].fillna("")],
        default="singleton",
    )
    records["match_confidence"] = np.where(anonymous | unresolved, np.nan,
                                           np.where(comp_size > 1, records["conf"], 1.0))
    out = records[["source", "source_record_id", "customer_id", "match_rule", "match_confidence"]]
    con.register("_clusters_df", out)
    con.execute(f"CREATE OR REPLACE TABLE {CLUSTERS_TABLE} AS SELECT * FROM _clusters_df")
    con.unregister("_clusters_df")
    if history:
        con.executemany(f"INSERT INTO {HISTORY_TABLE} VALUES (?, ?, ?, ?)",
                        [(old, new, as_of, why) for old, new, why in history])
    sizes = records.loc[records["customer_id"].notna()].groupby("customer_id").size()
    return {
        "records": int(len(records)),
        "customers": int(sizes.size),
        "multi_record_customers": int((sizes > 1).sum()),
        "anonymous_records": int(anonymous.sum()),
        "unresolved_records": int(unresolved.sum()),
        "largest_cluster": int(sizes.max()) if sizes.size else 0,
        "cluster_size_histogram": {str(k): int(v) for k, v in sizes.clip(upper=10).value_counts().sort_index().items()},
        "id_changes": {"merge": sum(h[2] == "merge" for h in history), "split": sum(h[2] == "split" for h in history)},
    }
