"""The probabilistic stage, night after night: which records to compare, which pairs to keep.

State kept in the warehouse (schema `identity`), so that a night only scores what changed:
- `match_input_state`: every named record's key and a fingerprint of its compared values;
- `match_pairs`: every scored pair above `KEEP_PROBABILITY` (keys, levels, weights; no values);
- `match_model_state`: the fingerprint of the model that scored them;
- `match_block_keys`: per named record, a hash of each blocking rule's key (no value), so that a
  night finds the unchanged records a changed one can pair with without recomputing every input.

A night is *incremental* when yesterday's state exists, the model is the same and fewer than
`FULL_ABOVE_CHANGED_SHARE` of the records are new or changed: the new/changed records are scored
against the unchanged ones and among themselves; pairs between unchanged records are carried
over, pairs touching a changed or vanished record are dropped. Otherwise (or on request) every
candidate pair is scored again (*full* re-resolution).

The result is the temp view `id_prob_edges` (the rows of `match_pairs` that passed the threshold
and the guards) that the clustering step adds to the deterministic graph, and (an incremental night)
`id_prob_edges_new`, those of them scored tonight.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

import duckdb

from ..warehouse import table_exists
from . import probabilistic as P

STATE = "identity.match_input_state"
PAIRS = "identity.match_pairs"
MODEL_STATE = "identity.match_model_state"
BLOCK_KEYS = "identity.match_block_keys"
FULL_ABOVE_CHANGED_SHARE = 0.5

# The household guard on a probabilistic link: twins. Two records with the same last name, birth
# date and address but different first names are never joined on the model alone: no weight tells
# twins from one person whose first name was replaced. Every other disagreement (a birth date a
# generation apart, another last name, a first name only similar) lowers the match weight, which
# each warehouse's own records estimate (a full refresh retrains the model on them): a veto there
# cost FEBRL4 12 % of its true pairs.
_g = P.gamma
GUARD_SQL = (
    f"NOT (gamma_first_name = {_g('first_name', 'different')} "
    f"AND gamma_last_name = {_g('last_name', 'exact')} "
    f"AND gamma_birth_date = {_g('birth_date', 'exact')} "
    f"AND gamma_address >= {_g('address', 'similar street, same number and town')})")


@dataclass
class MatchStats:
    mode: str                 # full | incremental
    named_records: int
    compared_records: int     # records scored this night (all on a full night)
    scored_pairs: int         # pairs above KEEP_PROBABILITY kept (all, after carry-over)
    new_pairs: int            # pairs scored this night
    links: int                # pairs above the match threshold that passed the guards
    rejected_by_guards: int   # pairs above the threshold that a guard vetoed

    def as_metadata(self) -> dict:
        return {f"match_{k}": v for k, v in asdict(self).items()}


# What a named record's Splink input is computed from (int_identity__records columns): a night
# hashes these for every record (cheap), and computes the Splink input (street keys, nicknames)
# only for the records it loads.
RAW_COLUMNS = ("first_name_key", "last_name_key", "birth_date", "address_line", "postcode", "city")
# Bumped when what the state holds changes: an older state is not used (a full night rebuilds it).
STATE_VERSION = "3"


def _named(relation: str = P.RECORDS) -> str:
    return f"{relation} WHERE first_name_key IS NOT NULL OR last_name_key IS NOT NULL"


def run(con: duckdb.DuckDBPyConnection, model: dict, full: bool = False, as_of: dt.date | None = None,
        household_guards: bool = True, threshold: float = P.MATCH_PROBABILITY,
        changed: str | None = None) -> MatchStats:
    """Score this night's candidate pairs, persist the state, leave `id_prob_edges` behind.

    `household_guards=False` trusts the model alone: only for benchmarks on data without
    households (FEBRL replaces first names while keeping surname, birth date and address, which
    is exactly what twins look like), as is another `threshold`.

    `changed`: a relation of (source, source_record_id) holding every record whose row may have
    changed since the state was written (the identity inputs' change log, incremental.py): only
    those are hashed and compared with the state. None: every record is."""
    con.execute("CREATE SCHEMA IF NOT EXISTS identity")
    model_fp = P.model_fingerprint(model) + "/state-v" + STATE_VERSION
    has_state = all(table_exists(con, t) for t in (STATE, PAIRS, MODEL_STATE, BLOCK_KEYS))
    same_model = has_state and con.execute(f"SELECT any_value(fingerprint) FROM {MODEL_STATE}").fetchall()[0][0] == model_fp
    by_log = bool(changed) and same_model and not full
    # the named records compared with the state (every one, or those the change log names): key
    # and a hash of the columns its Splink input comes from
    _hash_named(con, changed if by_log else None)
    n_named = con.execute(f"SELECT count(*) FROM {_named()}" if by_log
                          else "SELECT count(*) FROM id_match_records").fetchall()[0][0]
    if same_model:
        # new or changed records, and records gone since yesterday, in one pass
        state = (f"(SELECT * FROM {STATE} WHERE rh IN (SELECT hash(source, source_record_id) FROM {changed}))"
                 if by_log else STATE)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE id_match_diff AS
            SELECT coalesce(n.rec_key, s.rec_key) AS rec_key, n.rec_key IS NULL AS gone, s.rec_key IS NOT NULL AS had_state
            FROM id_match_records n FULL JOIN {state} s ON s.rh = n.rh
            WHERE n.fingerprint IS DISTINCT FROM s.fingerprint
        """)
        con.execute("CREATE OR REPLACE TEMP TABLE id_match_changed AS SELECT rec_key FROM id_match_diff WHERE NOT gone")
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE id_match_changed AS SELECT rec_key FROM id_match_records")
    n_changed = con.execute("SELECT count(*) FROM id_match_changed").fetchall()[0][0]
    incremental = (not full and same_model and n_named > 0 and n_changed <= FULL_ABOVE_CHANGED_SHARE * n_named)
    if by_log and not incremental:  # a full night scores and stores every record
        _hash_named(con, None)
        con.execute("CREATE OR REPLACE TEMP TABLE id_match_changed AS SELECT rec_key FROM id_match_records")
        n_changed = n_named

    columns = ", ".join(("rec_key",) + P.COMPARED_COLUMNS)
    if incremental:
        # the Splink input of the changed records, then of the unchanged ones sharing a blocking
        # key with one of them (found through the state's blocking-key hashes); term frequencies
        # still come from every record
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE id_match_input AS
            SELECT * FROM ({P.input_sql(_changed_records('id_match_changed'))})
        """)
        con.execute(f"CREATE OR REPLACE TEMP TABLE id_match_block_changed AS {P.block_keys_sql('id_match_input')}")
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE id_match_candidates AS
            SELECT rec_key FROM ({P.candidates_by_hash_sql('id_match_block_changed', BLOCK_KEYS)})
            ANTI JOIN id_match_changed USING (rec_key)
        """)
        con.execute(f"INSERT INTO id_match_input SELECT * FROM ({P.input_sql(_changed_records('id_match_candidates'))})")
        inputs = con.sql(f"SELECT {columns} FROM id_match_input").to_arrow_table()
        tf = {c: con.sql(P.term_frequencies_from_records_sql(c, "id_match_input")).to_arrow_table()
              for c in P.TF_COLUMNS}
    else:
        con.execute(f"CREATE OR REPLACE TEMP TABLE id_match_input AS SELECT * FROM ({P.input_sql()})")
        inputs = con.sql(f"SELECT {columns} FROM id_match_input").to_arrow_table()
        tf = None
    session = P.open_session(inputs, model, tf) if n_named else None
    try:
        if session is None:
            scored = None
        elif incremental:
            scored = P.predict_changed(session, con.sql("SELECT rec_key FROM id_match_changed").to_arrow_table())
        else:
            scored = P.predict_all(session)
    finally:
        if session is not None:
            session.close()

    cols = "rec_key_l, rec_key_r, match_weight, match_probability, blocking_rule, " + ", ".join(
        f"gamma_{c}, mw_{c}" for c in P.gamma_columns())
    if scored is not None:
        con.register("_scored", scored)
        con.execute(f"CREATE OR REPLACE TEMP TABLE id_new_pairs AS SELECT {cols}, ?::DATE AS scored_on FROM _scored",
                    [as_of])
        con.unregister("_scored")
    else:
        con.execute(_empty_pairs_sql())
    n_new = con.execute("SELECT count(*) FROM id_new_pairs").fetchall()[0][0]

    if incremental:
        # carry over pairs whose two records are unchanged and still there: drop the others
        con.execute("CREATE OR REPLACE TEMP TABLE id_match_gone AS SELECT rec_key FROM id_match_diff")
        # only records the state held have rows to drop (a night of new records only has none)
        if con.execute("SELECT count(*) FROM id_match_diff WHERE had_state").fetchall()[0][0]:
            con.execute(f"DELETE FROM {PAIRS} WHERE rec_key_l IN (SELECT rec_key FROM id_match_gone) "
                        f"OR rec_key_r IN (SELECT rec_key FROM id_match_gone)")
            for table in (STATE, BLOCK_KEYS):
                con.execute(f"DELETE FROM {table} WHERE rec_key IN (SELECT rec_key FROM id_match_gone)")
        con.execute(f"INSERT INTO {PAIRS} SELECT * FROM id_new_pairs")
        con.execute(f"INSERT INTO {STATE} SELECT rec_key, rh, fingerprint FROM id_match_records "
                    f"SEMI JOIN id_match_changed USING (rec_key)")
        con.execute(f"INSERT INTO {BLOCK_KEYS} SELECT * FROM id_match_block_changed")
    else:
        con.execute(f"CREATE OR REPLACE TABLE {PAIRS} AS SELECT * FROM id_new_pairs")
        con.execute(f"CREATE OR REPLACE TABLE {STATE} AS SELECT rec_key, rh, fingerprint FROM id_match_records")
        con.execute(f"CREATE OR REPLACE TABLE {BLOCK_KEYS} AS {P.block_keys_sql('id_match_input')}")
    con.execute(f"CREATE OR REPLACE TABLE {MODEL_STATE} AS SELECT ? AS fingerprint, ?::DATE AS scored_on",
                [model_fp, as_of])
    guard = GUARD_SQL if household_guards else "true"
    # a view (nothing copied): the clustering step reads the links of the records it places
    con.execute(links_view_sql(PAIRS, threshold, household_guards))
    if incremental:
        # tonight's links scored tonight: a link carried over joins two records that sat in one
        # component yesterday (incremental.py closes over those), so a night's closure needs only these
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE id_prob_edges_new AS
            SELECT rec_key_l, rec_key_r FROM id_new_pairs WHERE match_probability >= {threshold} AND {guard}
        """)
    links, vetoed, kept = con.execute(link_counts_sql(PAIRS, threshold, household_guards)).fetchall()[0]
    return MatchStats(mode="incremental" if incremental else "full", named_records=int(n_named),
                      compared_records=int(n_changed if incremental else n_named), scored_pairs=int(kept),
                      new_pairs=int(n_new), links=int(links), rejected_by_guards=int(vetoed))


def links_view_sql(pairs: str, threshold: float, household_guards: bool) -> str:
    """The temp view `id_prob_edges`: the pairs of `pairs` that link (threshold, then guards)."""
    guard = GUARD_SQL if household_guards else "true"
    return (f"CREATE OR REPLACE TEMP VIEW id_prob_edges AS "
            f"SELECT * FROM {pairs} WHERE match_probability >= {threshold} AND {guard}")


def link_counts_sql(pairs: str, threshold: float, household_guards: bool) -> str:
    """(links, pairs above the threshold a guard vetoed, pairs kept) of `pairs`."""
    guard = GUARD_SQL if household_guards else "true"
    return f"""
        SELECT count(*) FILTER (WHERE {guard}), count(*) FILTER (WHERE NOT ({guard})),
               (SELECT count(*) FROM {pairs})
        FROM {pairs} WHERE match_probability >= {threshold}
    """


def _hash_named(con: duckdb.DuckDBPyConnection, changed: str | None) -> None:
    within = f"SEMI JOIN {changed} c USING (source, source_record_id)" if changed else ""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE id_match_records AS
        SELECT source, source_record_id, source || ':' || source_record_id AS rec_key,
               hash(source, source_record_id) AS rh, hash({", ".join(RAW_COLUMNS)}) AS fingerprint
        FROM (SELECT * FROM {P.RECORDS} {within}) WHERE first_name_key IS NOT NULL OR last_name_key IS NOT NULL
    """)


def _changed_records(keys: str) -> str:
    """The int_identity__records rows of a relation of record keys (`source:id`)."""
    return (f"(SELECT r.* FROM {P.RECORDS} r SEMI JOIN (SELECT split_part(rec_key, ':', 1) AS source, "
            f"substr(rec_key, strpos(rec_key, ':') + 1) AS source_record_id FROM {keys}) c "
            f"USING (source, source_record_id))")


def _empty_pairs_sql() -> str:
    cols = ", ".join(f"NULL::INTEGER AS gamma_{c}, NULL::DOUBLE AS mw_{c}" for c in P.gamma_columns())
    return (f"CREATE OR REPLACE TEMP TABLE id_new_pairs AS SELECT NULL::VARCHAR AS rec_key_l, NULL::VARCHAR AS rec_key_r, "
            f"NULL::DOUBLE AS match_weight, NULL::DOUBLE AS match_probability, NULL::INTEGER AS blocking_rule, "
            f"{cols}, NULL::DATE AS scored_on WHERE false")


def evidence_sql() -> str:
    """A readable line per pair: each comparison's level and its weight, e.g.
    `first_name: nickname (+4.1); birth_date: exact (+11.5); ...`."""
    parts = []
    for comp in P.gamma_columns():
        cases = " ".join(f"WHEN {g} THEN '{label}'" for c, g, label in P.level_labels() if c == comp)
        parts.append(f"'{comp}: ' || (CASE gamma_{comp} {cases} END) || ' (' || printf('%+.1f', mw_{comp}) || ')'")
    return "concat_ws('; ', " + ", ".join(parts) + ")"
