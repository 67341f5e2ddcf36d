"""Deterministic stitching on hard identifiers, with guards against false merges.

Two source records are one person when they share a *trusted* identifier value (e-mail key,
E.164 phone, loyalty card, web account, CRM id). A value is not trusted when
- it is a known placeholder (``test@test.com``, ``noreply@…``; invalid phones never get here),
- records carrying it disagree on who they are: different name signatures (a household
  landline, a family e-mail) or different birth dates (parent and child),
- it is carried by more records than a person plausibly has (a store phone, a shared inbox).
A contact-only record (caller phone, recipient, card, cookie) whose trusted values point at
people with different name signatures is left unresolved rather than merging them.
Everything runs in DuckDB; Python only builds the SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

RECORDS = "intermediate.int_identity__records"
KEYS = "intermediate.int_identity__record_keys"

# Placeholders people type when a form insists (matched on the normalised value).
BLOCKED_VALUE_PATTERNS: dict[str, tuple[str, ...]] = {
    "email": (
        (r"^(test|tests|noreply|no-reply|nomail|no-mail|noemail|no-email|none|null|x+|a+|abc|aaa|"
         r"nobody|unknown|inconnu|pasdemail|pas-de-mail)@"),
        r"@(test|example|exemple|nomail|noemail|invalid)\.",
        # role inboxes of a business: whoever answers them, they identify nobody
        r"^(contact|info|infos|admin|bureau|accueil|compta|sav|service\.client)([._+-]|@)",
    ),
    # one digit repeated (RE2 has no back-references), and the textbook example numbers
    "phone": ("^\\+33(" + "|".join(str(d) * 9 for d in range(10)) + ")$", r"^\+33123456789$",
              r"^\+33612345678$"),
}
MAX_RECORDS_PER_VALUE = 50
# A value links its records when (columns of `id_values`):
TRUSTED_SQL = (f"n_records > 1 AND NOT blocked AND n_signatures <= 1 AND n_birth_dates <= 1 "
               f"AND n_records <= {MAX_RECORDS_PER_VALUE}")

# How sure a placement through each identifier is (used for match_confidence).
KEY_CONFIDENCE = {"crm_id": 1.0, "account_id": 1.0, "loyalty_card": 0.99, "email": 0.97, "phone": 0.95}


@dataclass
class StitchStats:
    values: int
    untrusted_values: dict[str, int]
    ambiguous_records: int


def _blocked_condition() -> str:
    parts = []
    for key_type, patterns in BLOCKED_VALUE_PATTERNS.items():
        for pattern in patterns:
            parts.append(f"(key_type = '{key_type}' AND regexp_matches(key_value, '{pattern}'))")
    return " OR ".join(parts)


def value_stats_sql(values: str | None = None, records: str = RECORDS) -> str:
    """What decides whether a value is trusted (the columns TRUSTED_SQL reads), per value, over
    every record carrying it: of the relation `values` (key_type, key_value), or of every value
    carried by `records` (None)."""
    carriers = (f"{KEYS} k SEMI JOIN {values} s USING (key_type, key_value) JOIN {RECORDS} r USING (source, source_record_id)"
                if values else f"{KEYS} k JOIN {records} r USING (source, source_record_id)")
    return f"""
        SELECT k.key_type, k.key_value,
               count(*) AS n_records,
               count(DISTINCT r.name_signature) AS n_signatures,
               count(DISTINCT r.birth_date) AS n_birth_dates,
               bool_or({_blocked_condition()}) AS blocked
        FROM {carriers}
        GROUP BY k.key_type, k.key_value
    """


def build_edges(con: duckdb.DuckDBPyConnection, scope: str | None = None,
                value_stats: str | None = None) -> StitchStats:
    """Create temp tables `id_records` (record index) and `id_edges` (record → trusted value).

    `scope`: a relation of (source, source_record_id) to stitch only those records (an
    incremental night: the records a change can reach, closed under tonight's links). The
    trust of their values is still measured over every record carrying them: `value_stats` (with
    a scope) is the table of value_stats_sql rows the closure measured for every value it carries."""
    if scope and not value_stats:
        raise ValueError("stitching a scope reads the closure's figures of its values (value_stats)")
    within = f"SEMI JOIN {scope} USING (source, source_record_id)" if scope else ""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE id_records AS
        SELECT (row_number() OVER (ORDER BY source, source_record_id) - 1)::BIGINT AS rec_ix,
               source, source_record_id, name_signature, birth_date
        FROM {RECORDS} {within}
    """)
    stats = (f"SELECT key_type, key_value, n_records, n_signatures, n_birth_dates, blocked FROM {value_stats}"
             if scope else value_stats_sql(records="id_records"))
    con.execute(f"CREATE OR REPLACE TEMP TABLE id_values AS {stats}")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE id_values_trusted AS
        SELECT key_type, key_value,
               (row_number() OVER (ORDER BY key_type, key_value) - 1)::BIGINT AS val_ix
        FROM id_values
        WHERE {TRUSTED_SQL}
    """)
    # Record → trusted value edges, then drop every edge of a contact-only record that would
    # bridge people with different name signatures.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE id_edges_all AS
        SELECT r.rec_ix, v.val_ix, k.key_type, r.name_signature IS NULL AS contact_only
        FROM {KEYS} k
        JOIN id_records r USING (source, source_record_id)
        JOIN id_values_trusted v USING (key_type, key_value)
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE id_ambiguous AS
        SELECT e.rec_ix
        FROM id_edges_all e
        JOIN id_edges_all o ON o.val_ix = e.val_ix AND o.rec_ix <> e.rec_ix
        JOIN id_records p ON p.rec_ix = o.rec_ix AND p.name_signature IS NOT NULL
        WHERE e.contact_only
        GROUP BY e.rec_ix
        HAVING count(DISTINCT p.name_signature) > 1
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE id_edges AS
        SELECT rec_ix, val_ix, key_type FROM id_edges_all
        WHERE rec_ix NOT IN (SELECT rec_ix FROM id_ambiguous)
    """)
    untrusted = dict(con.execute("""
        SELECT key_type, count(*) FROM id_values
        WHERE n_records > 1 AND (blocked OR n_signatures > 1 OR n_birth_dates > 1
                                 OR n_records > ?)
        GROUP BY key_type ORDER BY key_type
    """, [MAX_RECORDS_PER_VALUE]).fetchall())
    return StitchStats(
        values=con.execute("SELECT count(*) FROM id_values").fetchall()[0][0],
        untrusted_values={k: int(v) for k, v in untrusted.items()},
        ambiguous_records=con.execute("SELECT count(*) FROM id_ambiguous").fetchall()[0][0],
    )


def unresolvable_records(con: duckdb.DuckDBPyConnection) -> None:
    """Temp table `id_unresolved`: contact-only records that only carry shared or placeholder
    values (or bridge several people). They are kept apart, with no customer, rather than
    becoming a fake person (a household inbox is not a customer)."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE id_unresolved AS
        SELECT rec_ix, 'ambiguous_shared_identifier' AS why FROM id_ambiguous
        UNION ALL
        SELECT r.rec_ix, 'shared_identifier'
        FROM id_records r
        JOIN {KEYS} k USING (source, source_record_id)
        JOIN id_values v USING (key_type, key_value)
        WHERE r.name_signature IS NULL
          AND r.rec_ix NOT IN (SELECT rec_ix FROM id_edges)
          AND r.rec_ix NOT IN (SELECT rec_ix FROM id_ambiguous)
        GROUP BY r.rec_ix
        HAVING bool_or(v.blocked OR v.n_signatures > 1 OR v.n_birth_dates > 1 OR v.n_records > {MAX_RECORDS_PER_VALUE})
    """)
