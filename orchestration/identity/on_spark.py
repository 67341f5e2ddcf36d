"""Identity resolution on the Spark engine: a full night, every record re-resolved.

The same steps as a full night on DuckDB (incremental.py), on a Spark session:
- Splink's Spark backend scores every candidate pair with the same saved model (its blocking
  rules and levels, written in DuckDB's dialect, are translated by Splink; jaro_winkler and
  damerau_levenshtein come from Splink's Scala jar, which the session loads);
- stitching (stitching.py), the links' guards (matching.py), the connected components
  (clusters.sql_components) and the stable ids (clusters.place) are the DuckDB step's own SQL,
  run through SparkSql (orchestration/engines/spark_sql.py).

A Spark night is always a full re-resolution: the incremental state (hashes of what each record
was compared on) is DuckDB's, and the dbt models of a Spark night are rebuilt whole anyway.
Nothing here reads or logs a compared value: only counts leave the session.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from . import clusters as C
from . import matching as M
from . import probabilistic as P
from . import stitching as S


@dataclass
class SparkNight:
    stats: dict
    match: M.MatchStats
    stitch: S.StitchStats
    history: list[tuple]
    component_rounds: int


# DuckDB's string-similarity functions and their names in Splink's Scala jar
SPLINK_SPARK_FUNCTIONS = {"jarowinkler_similarity": "jaro_winkler", "damerau_levenshtein": "damerau_levenshtein"}


def spark_model(model: dict) -> dict:
    """The model with its SQL in Spark's dialect. Splink reads a model's conditions in its
    backend's dialect: in Spark's, DuckDB's `"first_name_l"` is a string, not a column. The
    conditions are translated by sqlglot, the similarity functions renamed to the jar's."""
    import copy

    import sqlglot
    from sqlglot import exp

    def to_spark(sql: str) -> str:
        def rename(node):
            if isinstance(node, exp.Func):
                name = SPLINK_SPARK_FUNCTIONS.get(node.sql_name().lower())
                if name:
                    return exp.Anonymous(this=name, expressions=[node.this, node.expression])
            return node
        return sqlglot.parse_one(sql, read="duckdb").transform(rename).sql(dialect="spark")

    out = copy.deepcopy(model)
    out["sql_dialect"] = "spark"
    for comparison in out["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level["sql_condition"] != "ELSE":
                level["sql_condition"] = to_spark(level["sql_condition"])
    out["blocking_rules_to_generate_predictions"] = [
        {**rule, "blocking_rule": to_spark(rule["blocking_rule"]), "sql_dialect": "spark"}
        for rule in out["blocking_rules_to_generate_predictions"]]
    return out


def predict(spark, inputs, model: dict):
    """Splink's predictions above KEEP_PROBABILITY for every candidate pair of `inputs` (a Spark
    DataFrame of Splink inputs), as a Spark DataFrame of `scored_sql` rows."""
    from splink import Linker, SparkAPI

    P._quiet_splink()
    # intermediate tables are cached in the session, not written under a checkpoint folder
    db_api = SparkAPI(spark_session=spark, break_lineage_method="persist")
    records = db_api.register(inputs, table_name="match_input")
    linker = Linker(records, spark_model(model), log_level=None)
    for col in P.TF_COLUMNS:
        linker.table_management.compute_tf_table(col)
    pairs = linker.inference.predict_within(records, threshold_match_probability=P.KEEP_PROBABILITY,
                                            warning_mode="never")
    return spark.sql(P.scored_sql(pairs.physical_name)).localCheckpoint(eager=True)


def resolve(con, model: dict, as_of: dt.date, has_previous: bool, household_guards: bool = True,
            threshold: float = P.MATCH_PROBABILITY) -> SparkNight:
    """Leaves, on `con` (a SparkSql), the temp tables `id_placed_final` (every record's customer,
    rule and confidence) and what evidence_rows_sql reads. `has_previous`: yesterday's
    identity.record_clusters and identity.customer_id_history are readable, and ids are mapped
    onto them."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE id_match_input AS {P.input_sql()}")
    n_named = con.execute("SELECT count(*) FROM id_match_input").fetchall()[0][0]
    cols = "rec_key_l, rec_key_r, match_weight, match_probability, blocking_rule, " + ", ".join(
        f"gamma_{c}, mw_{c}" for c in P.gamma_columns())
    if n_named:
        inputs = con.frame("id_match_input").select("rec_key", *P.COMPARED_COLUMNS)
        con.register("id_scored", predict(con.spark, inputs, model))
        con.execute(f"CREATE OR REPLACE TEMP TABLE id_new_pairs AS SELECT {cols}, DATE '{as_of.isoformat()}' "
                    f"AS scored_on FROM id_scored")
    else:
        con.execute(M._empty_pairs_sql())
    con.execute(M.links_view_sql("id_new_pairs", threshold, household_guards))
    links, vetoed, kept = con.execute(M.link_counts_sql("id_new_pairs", threshold, household_guards)).fetchall()[0]
    match = M.MatchStats(mode="full", named_records=int(n_named), compared_records=int(n_named),
                         scored_pairs=int(kept), new_pairs=int(kept), links=int(links),
                         rejected_by_guards=int(vetoed))

    stitch = S.build_edges(con)
    S.unresolvable_records(con)
    split, rounds = C.cluster_in_sql(con, has_links=True)
    history = C.place(con, has_previous)

    # tonight's counts per customer, grouped on the id itself (Spark's hash has 32 bits)
    con.execute("CREATE OR REPLACE TEMP TABLE id_customer_counts AS " + C._customer_counts_sql(
        f"SELECT {C._CUSTOMER_COUNTS.format(sign='1', key='customer_id')} FROM id_placed_final"))
    used = con.execute("SELECT count(*) FROM _prob_used").fetchall()[0][0]
    records = con.execute("SELECT count(*) FROM id_placed_final").fetchall()[0][0]
    stats = {**C._stats(con, "id_customer_counts"), "probabilistic_links_used": int(used),
             "oversized_clusters_split": split, "placed_records": int(records),
             "id_changes": {"merge": sum(h[2] == "merge" for h in history),
                            "split": sum(h[2] == "split" for h in history)}}
    return SparkNight(stats, match, stitch, history, rounds)
