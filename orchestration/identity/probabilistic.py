"""Probabilistic matching of person records with Splink (DuckDB backend).

Records that carry a name (CRM members, web accounts, form signups) are compared on first
name, last name, birth date, the address (street, number, postcode, city), the building or
locality after a comma in the address line, and whether they come from two silos or one, with
term-frequency adjustments on names and postcodes (two "Martin" agree less than two
"Kowalczyk"), swapped first/last names, a name typed in the other's field, typos, and nicknames
(a nickname table plus "one first name starts the other": Seb/Sébastien).

The model (m and u probabilities, the prior) is trained once and saved as JSON: the default
ships with the project (``splink_model.json`` beside this file), a retrained one lives in
``$DATAMART_HOME/identity/splink_model.json`` and wins when present. Prediction runs every night:
- full: every candidate pair of the current records (Splink ``predict_within``);
- incremental: only new or changed records, against the unchanged ones (``predict_between``)
  and among themselves (``predict_within``); pairs of unchanged records are carried over.

Splink runs on its own in-memory DuckDB connection: the input goes in through Arrow, scored
pairs come back the same way, and no Splink scratch table ever lands in the warehouse. Pairs
carry record keys, comparison levels and match weights only, never the compared values.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from ..warehouse import duckdb_config

RECORDS = "intermediate.int_identity__records"
DEFAULT_MODEL_PATH = Path(__file__).with_name("splink_model.json")

# A probabilistic link needs at least this match probability (match weight ≈ 8.0)...
MATCH_PROBABILITY = 0.996
# ...and pairs above this one are kept for evidence and for the next incremental night.
KEEP_PROBABILITY = 0.5
# Training samples this many records at most (u estimation and EM cost grow with it).
TRAIN_MAX_RECORDS = 300_000

# Nicknames whose key does not start the full name's key (prefix nicknames need no entry).
NICKNAMES = {
    "cathy": "catherine", "kathy": "catherine", "babeth": "elisabeth", "zabeth": "elisabeth",
    "guigui": "guillaume", "patou": "patricia", "mathou": "mathilde", "tom": "thomas", "jb": "jeanbaptiste",
    "jp": "jeanpierre", "jm": "jeanmarc", "jl": "jeanluc", "manu": "emmanuel", "bob": "robert",
    "bobby": "robert", "dom": "dominique", "domi": "dominique", "flo": "florence", "fanfan": "francoise",
    "francky": "franck", "gigi": "ginette", "jo": "josephine", "juju": "julien", "lolo": "laurent",
    "mimi": "michelle", "nath": "nathalie", "pepe": "pierre", "pierrot": "pierre", "sandy": "sandrine",
    "toto": "thomas", "vivi": "virginie", "xav": "xavier", "zaza": "isabelle", "isa": "isabelle",
    "bill": "william", "will": "william", "liz": "elizabeth", "beth": "elizabeth", "betty": "elizabeth",
    "peggy": "margaret", "maggie": "margaret", "meg": "margaret", "dick": "richard", "rick": "richard",
    "jim": "james", "jimmy": "james", "tony": "anthony", "kate": "katherine",
}
STREET_ABBREVIATIONS = {
    "av": "avenue", "ave": "avenue", "bd": "boulevard", "bld": "boulevard", "blvd": "boulevard", "r": "rue",
    "pl": "place", "ch": "chemin", "che": "chemin", "all": "allee", "imp": "impasse", "rte": "route",
    "st": "saint", "ste": "sainte", "fbg": "faubourg", "sq": "square", "qu": "quai",
}

COMPARED_COLUMNS = ("silo", "first_name", "first_name_canon", "last_name", "birth_date", "postcode", "city", "street",
                    "street_number", "address_extra")


def _lookup(col: str, mapping: dict[str, str]) -> str:
    """A constant lookup as a CASE (vectorised; a MAP literal would be built for every row)."""
    whens = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in mapping.items())
    return f"(CASE {col} {whens} ELSE {col} END)"


def _canon_case(col: str) -> str:
    return _lookup(col, NICKNAMES)


def _street_key(col: str) -> str:
    """Accent-folded, lower-case street without its number, abbreviations expanded."""
    words = f"string_split(trim(regexp_replace(lower(strip_accents({col})), '[^a-z0-9]+', ' ', 'g')), ' ')"
    expanded = f"list_transform({words}, lambda w: {_lookup('w', STREET_ABBREVIATIONS)})"
    no_number = f"list_filter({expanded}, lambda w: NOT regexp_matches(w, '^[0-9]+[a-z]?$') AND w <> '')"
    return f"nullif(array_to_string({no_number}, ''), '')"


def _street_part(col: str) -> str:
    """The number-and-street part of an address line: of its comma-separated parts, the first one
    that starts with a number, else the first (`12 rue des Lilas, Résidence les Pins`)."""
    parts = f"list_transform(string_split({col}, ','), lambda p: trim(p))"
    return f"coalesce(list_filter({parts}, lambda p: regexp_matches(p, '^[0-9]'))[1], {parts}[1])"


def _extra_key(col: str) -> str:
    """The rest of an address line (building, residence, locality), folded: its other parts."""
    parts = f"list_transform(string_split({col}, ','), lambda p: trim(p))"
    rest = f"list_filter({parts}, lambda p: p <> {_street_part(col)})"
    return f"nullif(regexp_replace(lower(strip_accents(array_to_string({rest}, ' '))), '[^a-z0-9]+', '', 'g'), '')"


POSTCODE_SQL = "nullif(regexp_replace(upper({c}), '[^0-9A-Z]', '', 'g'), '')"


def input_sql(records: str = RECORDS) -> str:
    """The Splink input: one row per named record, compared columns only (no contact data)."""
    return f"""
        SELECT source || ':' || source_record_id AS rec_key, source AS silo,
               first_name_key AS first_name,
               {_canon_case('first_name_key')} AS first_name_canon,
               last_name_key AS last_name,
               strftime(birth_date, '%Y-%m-%d') AS birth_date,
               {POSTCODE_SQL.format(c='postcode')} AS postcode,
               nullif(regexp_replace(lower(strip_accents(city)), '[^a-z]', '', 'g'), '') AS city,
               {_street_key(_street_part('address_line'))} AS street,
               nullif(regexp_extract({_street_part('address_line')}, '^\\s*([0-9]+)', 1), '') AS street_number,
               {_extra_key('address_line')} AS address_extra
        FROM {records}
        WHERE first_name_key IS NOT NULL OR last_name_key IS NOT NULL
    """


# -- the model ---------------------------------------------------------------------------------

def _null(col: str) -> dict:
    return {"sql_condition": f'"{col}_l" IS NULL OR "{col}_r" IS NULL', "label_for_charts": "null",
            "is_null_level": True}


def _level(sql: str, label: str, tf: str | None = None) -> dict:
    level = {"sql_condition": sql, "label_for_charts": label}
    if tf:
        level |= {"tf_adjustment_column": tf, "tf_adjustment_weight": 1.0}
    return level


ELSE = {"sql_condition": "ELSE", "label_for_charts": "different"}
# First and last name in each other's place, each exact or with a typo (a swap is often typed
# in a hurry: Meaney Jard for Jared Meaney)
SWAPPED = ('jaro_winkler_similarity("first_name_l", "last_name_r") >= 0.92 '
           'AND jaro_winkler_similarity("last_name_l", "first_name_r") >= 0.92')
# Two typos (or one in a short name): at most two edits and still alike (Jaro-Winkler >= 0.8)
TWO_TYPOS = ('damerau_levenshtein("{c}_l", "{c}_r") <= 2 '
             'AND jaro_winkler_similarity("{c}_l", "{c}_r") >= 0.8')
# One name typed in the other's field and the other name lost or mistyped (Smith John for John
# Smith is SWAPPED; Smith Jhonatan, or Smith with no last name, is this): one record's first name
# is the other's last name, or the reverse, and the last names do not agree
HALF_SWAPPED = ('(jaro_winkler_similarity("first_name_l", "last_name_r") >= 0.92 '
                'OR jaro_winkler_similarity("last_name_l", "first_name_r") >= 0.92) '
                'AND coalesce(jaro_winkler_similarity("last_name_l", "last_name_r"), 0) < 0.92')

COMPARISONS = [
    {"output_column_name": "first_name", "comparison_description": "first name (nicknames, swaps, typos)",
     "comparison_levels": [
         _null("first_name"),
         _level('"first_name_l" = "first_name_r"', "exact", tf="first_name"),
         _level('"first_name_canon_l" = "first_name_canon_r" OR (least(length("first_name_l"), '
                'length("first_name_r")) >= 3 AND (starts_with("first_name_l", "first_name_r") '
                'OR starts_with("first_name_r", "first_name_l")))', "nickname"),
         _level('jaro_winkler_similarity("first_name_l", "first_name_r") >= 0.92', "typo"),
         _level(TWO_TYPOS.format(c="first_name"), "two typos"),
         _level(SWAPPED, "swapped with last name"),
         _level(HALF_SWAPPED, "moved to the other name"),
         ELSE]},
    {"output_column_name": "last_name", "comparison_description": "last name (swaps, typos)",
     "comparison_levels": [
         _null("last_name"),
         _level('"last_name_l" = "last_name_r"', "exact", tf="last_name"),
         _level(SWAPPED, "swapped with first name"),
         _level('jaro_winkler_similarity("last_name_l", "last_name_r") >= 0.92', "typo"),
         _level(TWO_TYPOS.format(c="last_name"), "two typos"),
         ELSE]},
    {"output_column_name": "birth_date", "comparison_description": "birth date",
     "comparison_levels": [
         _null("birth_date"),
         _level('"birth_date_l" = "birth_date_r"', "exact"),
         _level('damerau_levenshtein("birth_date_l", "birth_date_r") <= 1 OR (substr("birth_date_l", 1, 4) = '
                'substr("birth_date_r", 1, 4) AND substr("birth_date_l", 6, 2) = substr("birth_date_r", 9, 2) '
                'AND substr("birth_date_l", 9, 2) = substr("birth_date_r", 6, 2))', "one typo or day/month swap"),
         _level('substr("birth_date_l", 1, 4) = substr("birth_date_r", 1, 4)', "same year"),
         _level('abs(substr("birth_date_l", 1, 4)::INT - substr("birth_date_r", 1, 4)::INT) < 12',
                "less than 12 years apart"),
         {"sql_condition": "ELSE", "label_for_charts": "a generation apart"}]},
    # One address comparison, not three: postcode, city and street of one address are not
    # independent evidence (household members share all three).
    {"output_column_name": "address", "comparison_description": "street, number, postcode and city",
     "comparison_levels": [
         {"sql_condition": '("postcode_l" IS NULL AND "city_l" IS NULL) OR ("postcode_r" IS NULL AND "city_r" IS NULL)',
          "label_for_charts": "null", "is_null_level": True},
         _level('"street_l" = "street_r" AND "street_number_l" = "street_number_r" AND "postcode_l" = "postcode_r"',
                "same street, number and postcode"),
         # a typo in the street, the postcode or the town of one address
         _level('"street_number_l" = "street_number_r" AND jaro_winkler_similarity("street_l", "street_r") >= 0.9 '
                'AND ("postcode_l" = "postcode_r" OR "city_l" = "city_r" '
                'OR damerau_levenshtein("postcode_l", "postcode_r") <= 1)', "similar street, same number and town"),
         # the number mistyped or left out (or a neighbour: EM weighs it)
         _level('jaro_winkler_similarity("street_l", "street_r") >= 0.9 AND ("postcode_l" = "postcode_r" OR "city_l" = "city_r")',
                "same street and town, another or no number"),
         # the street mistyped beyond a typo (or a neighbour round the corner: EM weighs it)
         _level('"street_number_l" = "street_number_r" AND "postcode_l" = "postcode_r"', "same number and postcode"),
         _level('"postcode_l" = "postcode_r"', "same postcode", tf="postcode"),
         _level('"city_l" = "city_r" OR damerau_levenshtein("postcode_l", "postcode_r") <= 1', "same town"),
         _level('substr("postcode_l", 1, 2) = substr("postcode_r", 1, 2)', "same area"),
         ELSE]},
    # The silo is evidence too: one person usually has one CRM membership but also a web account
    # and a form signup, so a pair across two silos is likelier one person than a pair inside one
    # (EM learns how much likelier; a single-silo data set only ever sees the one level)
    # The rest of the address line after a comma (a building, a residence, a locality): shared by
    # one building's households like the street, and the guards keep households apart
    {"output_column_name": "address_extra", "comparison_description": "building or locality of the address line",
     "comparison_levels": [
         _null("address_extra"),
         _level('"address_extra_l" = "address_extra_r"', "exact"),
         _level('jaro_winkler_similarity("address_extra_l", "address_extra_r") >= 0.9', "typo"),
         ELSE]},
    {"output_column_name": "silo", "comparison_description": "two silos or one",
     "comparison_levels": [
         _null("silo"),
         _level('"silo_l" <> "silo_r"', "two silos"),
         {"sql_condition": "ELSE", "label_for_charts": "one silo"}]},
]

BLOCKING_RULES = [
    "l.first_name = r.first_name AND l.last_name = r.last_name",
    "l.last_name = r.last_name AND l.postcode = r.postcode",
    "l.first_name = r.last_name AND l.last_name = r.first_name",
    "l.birth_date = r.birth_date AND l.postcode = r.postcode",
    "l.birth_date = r.birth_date AND l.first_name_canon = r.first_name_canon",
    "l.birth_date = r.birth_date AND substr(l.last_name, 1, 3) = substr(r.last_name, 1, 3)",
    "l.street = r.street AND l.postcode = r.postcode",
    "l.street = r.street AND l.city = r.city",
    "l.postcode = r.postcode AND l.street_number = r.street_number AND substr(l.first_name, 1, 1) = substr(r.first_name, 1, 1)",
    "l.birth_date = r.birth_date AND l.city = r.city",
    # one name exact and the town: a typo in the other name and in the postcode
    "l.first_name = r.first_name AND l.city = r.city",
    "l.last_name = r.last_name AND l.city = r.city",
    # both names and the town mistyped: the birth date and the street, or the number
    "l.birth_date = r.birth_date AND l.street = r.street",
    "l.birth_date = r.birth_date AND l.street_number = r.street_number",
    # names swapped, each with a typo, in one postcode area (without the area, this rule alone
    # would compare more pairs than all the others at a million records)
    ("substr(l.first_name, 1, 2) = substr(r.last_name, 1, 2) AND substr(l.last_name, 1, 2) = substr(r.first_name, 1, 2) "
     "AND substr(l.postcode, 1, 2) = substr(r.postcode, 1, 2)"),
]
TF_COLUMNS = ("first_name", "last_name", "postcode")


def settings() -> dict:
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "rec_key",
        "comparisons": COMPARISONS,
        "blocking_rules_to_generate_predictions": BLOCKING_RULES,
        # the compared values only ever sit in Splink's in-memory session: `_scored` keeps
        # record keys, comparison levels (gamma) and weights
        "retain_matching_columns": True,
        "retain_intermediate_calculation_columns": True,
        "probability_two_random_records_match": 1e-4,
        "max_iterations": 25,
    }


def model_fingerprint(model: dict) -> str:
    return hashlib.sha256(json.dumps(model, sort_keys=True, default=str).encode()).hexdigest()[:16]


def load_model(home_model: Path | None) -> dict:
    """The retrained model beside the warehouse when there is one, else the shipped one.
    Blocking rules are not learnt: the code's rules always apply. A retrained model whose
    comparisons are not the code's (trained before an upgrade changed them) cannot score the
    code's inputs: the shipped model is used until the next `retrain`, with a warning."""
    path = home_model if home_model is not None and home_model.exists() else DEFAULT_MODEL_PATH
    model = json.loads(path.read_text())
    if path != DEFAULT_MODEL_PATH and _comparison_shape(model) != _comparison_shape({"comparisons": COMPARISONS}):
        logging.getLogger(__name__).warning(
            "the retrained Splink model's comparisons differ from the code's (trained by an earlier "
            "version): using the shipped model until the next retrain")
        model = json.loads(DEFAULT_MODEL_PATH.read_text())
    model["blocking_rules_to_generate_predictions"] = [{"blocking_rule": r, "sql_dialect": "duckdb"}
                                                       for r in BLOCKING_RULES]
    return model


def _comparison_shape(model: dict) -> list:
    return [(c["output_column_name"], [lv["sql_condition"] for lv in c["comparison_levels"]])
            for c in model["comparisons"]]


# -- running Splink ------------------------------------------------------------------------------

@dataclass
class Session:
    """An in-memory DuckDB connection holding the Splink input and a linker on it."""

    con: duckdb.DuckDBPyConnection
    db_api: object
    linker: object
    records: object  # SplinkDataFrame of all current records

    def close(self) -> None:
        self.con.close()


def _quiet_splink() -> None:
    # Splink's INFO messages are progress chatter; warnings still show. Never record values.
    logging.getLogger("splink").setLevel(logging.WARNING)


def _splink_connection() -> duckdb.DuckDBPyConnection:
    """Splink's own in-memory DuckDB, under the same memory limit as the warehouse."""
    return duckdb.connect(":memory:", config=duckdb_config())


def term_frequencies_sql(source: str, col: str) -> str:
    """Splink's term-frequency table of one column (value, share of the non-null values)."""
    return (f"SELECT {col}, count(*)::DOUBLE / (SELECT count({col}) FROM {source}) AS tf_{col} "
            f"FROM {source} WHERE {col} IS NOT NULL GROUP BY {col}")


def open_session(inputs: pa.Table, model: dict, term_frequencies: dict[str, pa.Table] | None = None) -> Session:
    """Splink on its own in-memory DuckDB. Term frequencies come from every current record:
    computed on `inputs` when they are all of them, else given (an incremental night loads only
    the records that can pair with a changed one)."""
    from splink import DuckDBAPI, Linker

    _quiet_splink()
    con = _splink_connection()
    con.register("_inputs", inputs)
    con.execute("CREATE TABLE match_input AS SELECT * FROM _inputs")
    con.unregister("_inputs")
    db_api = DuckDBAPI(connection=con)
    records = db_api.register("match_input")
    # Splink's settings validation (~0.1 s: the model's columns against the input's) runs on full
    # runs; a night's input comes from the same SQL, and a missing column fails the SQL anyway
    linker = Linker(records, model, log_level=None, validate_settings=term_frequencies is None)
    for col in TF_COLUMNS:
        if term_frequencies is None:
            linker.table_management.compute_tf_table(col)
        else:
            con.register(f"_tf_{col}", term_frequencies[col])
            con.execute(f"CREATE TABLE tf_lookup_{col} AS SELECT * FROM _tf_{col}")
            con.unregister(f"_tf_{col}")
            linker.table_management.register_term_frequency_lookup(
                db_api.register(f"tf_lookup_{col}"), col)
    return Session(con, db_api, linker, records)


def term_frequencies_from_records_sql(col: str, wanted: str) -> str:
    """The same term frequencies computed from int_identity__records (every named record, no
    Splink input needed), only for the values of `wanted` (a relation of Splink inputs)."""
    source, expr = {"first_name": ("first_name_key", "{c}"), "last_name": ("last_name_key", "{c}"),
                    "postcode": ("postcode", POSTCODE_SQL)}[col]
    return f"""
        WITH raw AS (SELECT {source} AS v, count(*) AS n FROM {RECORDS}
                     WHERE (first_name_key IS NOT NULL OR last_name_key IS NOT NULL) AND {source} IS NOT NULL
                     GROUP BY ALL),
             norm AS (SELECT {expr.format(c='v')} AS {col}, sum(n) AS n FROM raw GROUP BY ALL)
        SELECT {col}, n::DOUBLE / (SELECT sum(n) FROM norm WHERE {col} IS NOT NULL)::DOUBLE AS tf_{col}
        FROM norm WHERE {col} IS NOT NULL AND {col} IN (SELECT {col} FROM {wanted})
    """


def _rule_sides(rule: str) -> tuple[list[str], list[str]]:
    """The l-side and r-side expressions of a blocking rule (`l.a = r.b AND ...`), unprefixed."""
    import re

    left, right = [], []
    for term in rule.split(" AND "):
        lhs, rhs = (t.strip() for t in term.split(" = "))
        if "r." in lhs:
            lhs, rhs = rhs, lhs
        left.append(re.sub(r"\bl\.", "", lhs))
        right.append(re.sub(r"\br\.", "", rhs))
    return left, right


def _key(exprs: list[str]) -> str:
    return f"CASE WHEN {' AND '.join(f'({e}) IS NOT NULL' for e in exprs)} THEN hash({', '.join(exprs)}) END"


def block_keys_sql(inputs: str) -> str:
    """Per Splink input record, a hash of each blocking rule's key, for both sides of a rule that
    is not symmetric (first name = the other's last name): hashes only, never a value."""
    cols = []
    for i, rule in enumerate(BLOCKING_RULES):
        left, right = _rule_sides(rule)
        cols.append(f"{_key(left)} AS k{i}_l")
        if left != right:
            cols.append(f"{_key(right)} AS k{i}_r")
    return f"SELECT rec_key, {', '.join(cols)} FROM {inputs}"


def candidates_by_hash_sql(changed: str, state: str) -> str:
    """Records of `state` (block_keys_sql rows) sharing a blocking key with one of `changed`."""
    parts = []
    for i, rule in enumerate(BLOCKING_RULES):
        left, right = _rule_sides(rule)
        joins = [("l", "l")] if left == right else [("l", "r"), ("r", "l")]
        for a, b in joins:
            parts.append(f"SELECT s.rec_key FROM {state} s SEMI JOIN {changed} c ON s.k{i}_{a} = c.k{i}_{b}")
    return " UNION ".join(parts)


def candidates_sql(changed: str, unchanged: str) -> str:
    """Unchanged records that share a blocking key with a changed one: the only ones an
    incremental night needs to load (`changed` and `unchanged` are relations of match inputs)."""
    import re

    parts = []
    for rule in BLOCKING_RULES:
        on = re.sub(r"\br\.", "c.", re.sub(r"\bl\.", "u.", rule))
        parts.append(f"SELECT u.rec_key FROM {unchanged} u SEMI JOIN {changed} c ON {on}")
    return " UNION ".join(parts)


# Fewer named records than this and EM has too little to learn from: the shipped model scores them
MIN_RECORDS_TO_TRAIN = 2_000


def enough_to_train(con) -> bool:
    n = con.execute(f"SELECT count(*) FROM {RECORDS} WHERE first_name_key IS NOT NULL "
                    f"OR last_name_key IS NOT NULL").fetchall()[0][0]
    return n >= MIN_RECORDS_TO_TRAIN


def train(inputs: pa.Table, seed: int = 42) -> dict:
    """Estimate the model on the current records; return its JSON-able dict."""
    from splink import DuckDBAPI, Linker

    _quiet_splink()
    con = _splink_connection()
    try:
        con.register("_inputs", inputs)
        n = inputs.num_rows
        sample = f"USING SAMPLE {TRAIN_MAX_RECORDS} ROWS (reservoir, {seed})" if n > TRAIN_MAX_RECORDS else ""
        con.execute(f"CREATE TABLE match_input AS SELECT * FROM _inputs {sample}")
        con.unregister("_inputs")
        db_api = DuckDBAPI(connection=con)
        linker = Linker(db_api.register("match_input"), settings(), log_level=None)
        linker.training.estimate_probability_two_random_records_match(
            ["l.first_name = r.first_name AND l.last_name = r.last_name AND l.birth_date = r.birth_date",
             ("l.first_name = r.first_name AND l.last_name = r.last_name AND l.postcode = r.postcode "
              "AND l.street = r.street")],
            recall=0.7)
        linker.training.estimate_u_using_random_sampling(max_pairs=2_000_000, seed=seed)
        # EM twice, each time blocking on what the other session estimates. The first prior assumes
        # the two rules above find 70 % of the matches: on noisier records they find fewer, and the
        # prior comes out too low (FEBRL3: 2.4e-4 for a true 5.2e-4). So the prior is then taken
        # from the EM sessions instead (Splink: each session's share of matches among its blocked
        # pairs, divided by the Bayes factor of the levels its blocking rule fixes; the median)
        linker.training.estimate_parameters_using_expectation_maximisation(
            "l.first_name = r.first_name AND l.last_name = r.last_name", estimate_without_term_frequencies=True)
        linker.training.estimate_parameters_using_expectation_maximisation(
            "l.birth_date = r.birth_date AND l.postcode = r.postcode", estimate_without_term_frequencies=True,
            populate_probability_two_random_records_match_from_trained_values=True)
        return _with_floors(linker.misc.save_model_to_json())
    finally:
        con.close()


# EM learns from one data set that what never happened there never happens (no birth-date typo,
# nobody moving town): an m of 0 or 1e-50 would make that level an absolute veto elsewhere.
M_FLOOR = 1e-3
M_UNOBSERVED = {"typo": 0.02, "one typo or day/month swap": 0.01, "same year": 0.002,
                "less than 12 years apart": 0.002,
                "similar street, same number and town": 0.02}


def _with_floors(model: dict) -> dict:
    for comp in model["comparisons"]:
        for level in comp["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            m = level.get("m_probability")
            if m is None:
                m = M_UNOBSERVED.get(level["label_for_charts"], M_FLOOR)
            level["m_probability"] = max(float(m), M_FLOOR)
    return model


def gamma_columns() -> list[str]:
    return [c["output_column_name"] for c in COMPARISONS]


def scored_sql(predictions: str, where: str = "true") -> str:
    """What is kept of Splink's predictions: the pair's keys in order, levels and weights (the
    term-frequency adjustments folded into their comparison's weight), never a compared value."""
    cols = ", ".join(f"gamma_{c}, mw_{c}" + (f" + mw_tf_adj_{c}" if c in TF_COLUMNS else "") + f" AS mw_{c}"
                     for c in gamma_columns())
    return f"""
        SELECT least(rec_key_l, rec_key_r) AS rec_key_l, greatest(rec_key_l, rec_key_r) AS rec_key_r,
               match_weight, match_probability, CAST(match_key AS INTEGER) AS blocking_rule, {cols}
        FROM {predictions} WHERE {where}
    """


def _scored(splink_df, con: duckdb.DuckDBPyConnection, where: str = "true") -> pa.Table:
    table = con.sql(scored_sql(splink_df.physical_name, where)).to_arrow_table()
    splink_df.drop_table_from_database_and_remove_from_cache()
    return table


def predict_all(session: Session) -> pa.Table:
    pairs = session.linker.inference.predict_within(
        session.records, threshold_match_probability=KEEP_PROBABILITY, warning_mode="never")
    return _scored(pairs, session.con)


def predict_changed(session: Session, changed_keys: pa.Table) -> pa.Table:
    """Pairs involving at least one changed record: changed × unchanged and changed × changed.

    One Splink prediction, changed × every loaded record, instead of predict_between(changed,
    unchanged) and predict_within(changed): each call costs ~0.3 s of SQL generation whatever its
    size, a third of a night's matching at 1,000,000 records. A pair of two changed records comes
    out in both orientations (and each record with itself): the one kept is the orientation
    predict_within scores (Splink's dedupe compares l < r by unique id), so its blocking rule,
    levels and weights are those predict_within gives."""
    con = session.con
    con.register("_changed", changed_keys)
    con.execute("CREATE OR REPLACE TABLE match_changed AS "
                "SELECT m.* FROM match_input m SEMI JOIN _changed c USING (rec_key)")
    con.unregister("_changed")
    pairs = session.linker.inference.predict_between(
        session.db_api.register("match_changed"), session.records,
        threshold_match_probability=KEEP_PROBABILITY, warning_mode="never")
    return _scored(pairs, con, where="rec_key_l < rec_key_r OR (rec_key_l > rec_key_r AND rec_key_r NOT IN "
                                     "(SELECT rec_key FROM match_changed))")


def level_labels() -> list[tuple[str, int, str]]:
    """(comparison, gamma value, label) for every non-null level: gamma counts down to 0 = ELSE."""
    out = []
    for comp in COMPARISONS:
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        for i, lv in enumerate(levels):
            out.append((comp["output_column_name"], len(levels) - 1 - i, lv["label_for_charts"]))
        out.append((comp["output_column_name"], -1, "missing"))
    return out


def gamma(comparison: str, label: str) -> int:
    """The gamma value of a comparison level, by its label."""
    return next(g for c, g, lb in level_labels() if c == comparison and lb == label)
