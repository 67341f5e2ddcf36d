"""GDPR erasure in the working warehouse: raw, quarantine, staging and identity tables.

The published file is a fresh copy of the marts every night, so what the marts no longer hold
is gone from it. The working warehouse keeps history (raw rows, quarantined lines, staging
tables), so an erasure must be carried out there too, and again every later night when a silo
sends the person's records again.

How: an erasure request names an e-mail, a phone or a CRM id. Tonight's identity clusters say
which source records belong to that person; all of them are erased. The register
`privacy.erasure_register` keeps salted SHA-256 hashes of the request identifiers and of every
erased record (never the values), so later nights recognise the person's records without
keeping their data. Then, for each declared table, the personal columns of the erased records'
rows are set to NULL; identifiers that are themselves contact data (a caller phone, an e-mail
recipient) go too. Facts stay (an order keeps its amount and date), attached to records that
no longer lead to the person. Quarantined lines that hold an erased identifier are blanked
(file, line and reason stay, so the load accounting still adds up).
Objections keep the person: they are handled in the marts (consents false, no audience).

A phone the numbering-plan parser rejects (an unallocated block, a typo) has no E.164 key, yet it
is still the person's contact data: requests and records are also matched on the phone's national
digits (`phone_digits`), for the records whose phone did not parse.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .identity.stitching import KEYS, RECORDS
from .warehouse import table_exists

REGISTER = "privacy.erasure_register"
ERASED_CUSTOMERS = "privacy.erased_customers"
OBJECTING_CUSTOMERS = "privacy.objecting_customers"
SALT_FILE = "privacy.salt"
# loads whose quarantined lines were already checked against every erasure known that night:
# a later night checks them only against what is new (records erased for the first time, new
# request identifiers), so the quarantine's cost follows the night, not its history
QUARANTINE_CHECKED = "privacy.quarantine_checked"

# Column names that hold personal data in staging and intermediate tables (names, contact
# data and their normalised keys, address, birth date, free text).
PERSONAL_COLUMN = re.compile(
    r"^(civility|(first|last)_name(_key)?|name_signature|birth_date|(guest_|appended_)?email(_key)?|"
    r"(caller_)?phone(_raw|_e164)?|recipient(_raw|_email_key|_phone_e164)?|address_line|postcode|city|"
    r"shipping(_address_line|_postcode|_city)?|interests)$")


@dataclass(frozen=True)
class Holder:
    """A table holding records of one source: which record a row belongs to."""

    table: str
    source: str
    record_id: str  # SQL on alias `t` giving the row's source_record_id (as in identity.record_clusters)
    source_sql: str = ""  # SQL giving the row's source, when the table holds several

    @property
    def source_expr(self) -> str:
        return self.source_sql or f"'{self.source}'"


ORDER_RECORD = "coalesce(t.account_id, t.order_id)"  # an account's order, or a guest order
HOLDERS = [
    Holder("raw.crm__customers", "crm", "t.crm_id"),
    Holder("raw.ecommerce__accounts", "ecommerce", "t.account_id"),
    Holder("raw.ecommerce__orders", "ecommerce", ORDER_RECORD),
    Holder("raw.callcenter__calls", "callcenter", "t.caller_phone"),
    Holder("raw.esp__events", "esp", "t.recipient"),
    Holder("raw.forms__signups", "forms", "t.signup_id"),
    Holder("raw.partners__email_appends", "partners", "t.crm_id"),
    Holder("staging.stg_crm__customers", "crm", "t.crm_id"),
    Holder("staging.stg_ecommerce__accounts", "ecommerce", "t.account_id"),
    Holder("staging.stg_ecommerce__orders", "ecommerce", ORDER_RECORD),
    Holder("staging.stg_callcenter__calls", "callcenter", "t.caller_phone_raw"),
    Holder("staging.stg_esp__events", "esp", "t.recipient_raw"),
    Holder("staging.stg_forms__signups", "forms", "t.signup_id"),
    Holder("staging.stg_partners__email_appends", "partners", "t.crm_id"),
    Holder("intermediate.int_identity__records", "*", "t.source_record_id", source_sql="t.source"),
]
# raw columns that are personal (raw tables keep the silo's own names)
RAW_PERSONAL = {
    "raw.crm__customers": ["civility", "first_name", "last_name", "birth_date", "email", "phone", "address_line",
                           "postcode", "city"],
    "raw.ecommerce__accounts": ["email", "first_name", "last_name", "phone", "birth_date", "address_line",
                                "postcode", "city"],
    "raw.ecommerce__orders": ["guest_email", "shipping"],
    "raw.callcenter__calls": ["caller_phone"],
    "raw.esp__events": ["recipient"],
    "raw.forms__signups": ["email", "first_name", "last_name", "postcode", "interests"],
    "raw.partners__email_appends": ["appended_email"],
}
# sources whose record id is itself contact data: their identity rows cannot stay
CONTACT_ID_SOURCES = ("callcenter", "esp")
# the identity inputs' change log (dbt model int_identity__record_changes): the records scrubbed
# here changed behind dbt's back, so the next build recomputes them and the identity step
# compares them again (contact records are deleted from every table instead, the log included)
IDENTITY_CHANGE_LOG = "intermediate.int_identity__record_changes"


def salt(home: Path) -> str:
    """A per-installation secret, so that the register's hashes cannot be looked up by guessing."""
    path = home / SALT_FILE
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _digest(expr: str) -> str:
    return f"sha256($salt || {expr})"


# digits of a national number: "+33 (0)7 08 …", "0033 7 08 …" and "07 08 …" all give "708…"
def _phone_digits(expr: str) -> str:
    return (f"regexp_replace(regexp_replace(regexp_replace({expr}, '[^0-9]', '', 'g'), "
            f"'^(00)?33', ''), '^0+', '')")


# shorter digit strings are placeholders or fragments, not a person's number
MIN_PHONE_DIGITS = 8


def _unparsed_phones(con) -> str:
    """SQL of (source, source_record_id, digits) for the records whose phone did not parse into
    E.164: a recipient or a caller is its raw phone, members and accounts keep theirs in phone_raw."""
    parts = [f"""SELECT source, source_record_id, {_phone_digits("source_record_id")} AS digits
        FROM intermediate.int_identity__records
        WHERE source IN ('esp', 'callcenter') AND phone_e164 IS NULL AND email IS NULL
          AND source_record_id NOT LIKE '%@%'"""]
    for table, source, record_id in (("staging.stg_crm__customers", "crm", "crm_id"),
                                     ("staging.stg_ecommerce__accounts", "ecommerce", "account_id")):
        if table_exists(con, table):
            parts.append(f"""SELECT '{source}', {record_id}, {_phone_digits("phone_raw")} FROM {table}
                WHERE phone_e164 IS NULL AND phone_raw IS NOT NULL""")
    return " UNION ALL ".join(parts)


def _columns(con, table: str) -> list[str]:
    schema, name = table.split(".")
    return [c for (c,) in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
        "ORDER BY ordinal_position", [schema, name]).fetchall()]


def register_requests(con: duckdb.DuckDBPyConnection, secret: str) -> int:
    """Hash tonight's erasure requests into the register, then blank the identifiers they carried."""
    con.execute("CREATE SCHEMA IF NOT EXISTS privacy")
    con.execute(f"""CREATE TABLE IF NOT EXISTS {REGISTER} (
        kind VARCHAR, key_hash VARCHAR, registered_at TIMESTAMP, PRIMARY KEY (kind, key_hash))""")
    # when the person asked (the consent history dates the erasure with it); registers written
    # before this column existed date their rows by registration
    con.execute(f"ALTER TABLE {REGISTER} ADD COLUMN IF NOT EXISTS requested_at TIMESTAMP")
    con.execute(f"UPDATE {REGISTER} SET requested_at = registered_at WHERE requested_at IS NULL")
    # temp table `new_keys`: request identifiers registered tonight (scrub checks old quarantined
    # lines against these only)
    con.execute(f"CREATE OR REPLACE TEMP TABLE keys_before AS SELECT key_hash FROM {REGISTER} WHERE kind = 'key'")
    con.execute("CREATE OR REPLACE TEMP TABLE new_keys AS SELECT key_hash FROM keys_before LIMIT 0")
    if not table_exists(con, "staging.stg_privacy__requests"):
        return 0
    before = con.execute(f"SELECT count(*) FROM {REGISTER}").fetchall()[0][0]
    con.execute(f"""
        INSERT OR IGNORE INTO {REGISTER} (kind, key_hash, registered_at, requested_at)
        SELECT 'key', {_digest("key_type || ':' || key_value")}, now()::TIMESTAMP, min(requested_at) FROM (
            SELECT 'email' AS key_type, email_key AS key_value, requested_at FROM staging.stg_privacy__requests
                WHERE request_type = 'erasure'
            UNION ALL SELECT 'phone', phone_e164, requested_at FROM staging.stg_privacy__requests
                WHERE request_type = 'erasure'
            UNION ALL SELECT 'crm_id', crm_id, requested_at FROM staging.stg_privacy__requests
                WHERE request_type = 'erasure'
            -- the phone as typed, parsed or not (raw phones are blanked below once registered)
            UNION ALL SELECT 'phone_digits', {_phone_digits("r.phone")}, s.requested_at
                FROM raw.privacy__requests r JOIN staging.stg_privacy__requests s ON s.request_id = trim(r.request_id)
                WHERE s.request_type = 'erasure' AND r.phone IS NOT NULL
        ) WHERE key_value IS NOT NULL AND (key_type <> 'phone_digits' OR length(key_value) >= {MIN_PHONE_DIGITS})
        GROUP BY ALL""", {"salt": secret})
    con.execute(f"""INSERT INTO new_keys SELECT key_hash FROM {REGISTER} WHERE kind = 'key'
        EXCEPT SELECT key_hash FROM keys_before""")
    return con.execute(f"SELECT count(*) FROM {REGISTER}").fetchall()[0][0] - before


# Hard identifiers a request reaches through: a record carrying one of the person's values is the
# person's too, whether or not identity linked it, unless the value is shared with another person.
CLOSURE_KEYS = ("email", "phone", "crm_id", "loyalty_card")
CLOSURE_MAX_ROUNDS = 6


def reach(con: duckdb.DuckDBPyConnection, seeds: str, out: str) -> int:
    """Temp table `out` (source, source_record_id, customer_id, requested_at): the records of a
    request, by identifier closure from `seeds` (source, source_record_id, requested_at: the
    records carrying an identifier the request names).

    The customers of the seeds are the person's, with every record they hold. Then, round after
    round, a record carrying one of those records' hard identifiers (e-mail key, E.164 phone, CRM
    id, loyalty card) is the person's as well, with its customer, when that customer holds no named
    record or only named records with one of the person's name signatures: a caller or recipient
    identity left apart, a duplicate member identity missed. A value carried by a customer with
    another name (a family landline or inbox) is shared: the other person keeps their records."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {out} AS
        WITH s AS (SELECT source, source_record_id, min(requested_at) AS requested_at FROM ({seeds}) GROUP BY ALL),
        hit AS (SELECT c.customer_id, min(s.requested_at) AS requested_at
                FROM s JOIN identity.record_clusters c USING (source, source_record_id)
                WHERE c.customer_id IS NOT NULL GROUP BY 1)
        SELECT c.source, c.source_record_id, c.customer_id, hit.requested_at
        FROM identity.record_clusters c JOIN hit USING (customer_id)
        UNION
        SELECT s.source, s.source_record_id, c.customer_id, s.requested_at
        FROM s LEFT JOIN identity.record_clusters c USING (source, source_record_id)
        WHERE c.customer_id IS NULL""")
    for _ in range(CLOSURE_MAX_ROUNDS):
        added = con.execute(f"""INSERT INTO {out}
            WITH vals AS (
                SELECT k.key_type, k.key_value, min(o.requested_at) AS requested_at
                FROM {out} o JOIN {KEYS} k USING (source, source_record_id)
                WHERE k.key_type IN {CLOSURE_KEYS} GROUP BY ALL),
            sigs AS (SELECT DISTINCT r.name_signature FROM {out} o JOIN {RECORDS} r USING (source, source_record_id)
                     WHERE r.name_signature IS NOT NULL),
            carriers AS (
                SELECT c.source, c.source_record_id, c.customer_id, min(v.requested_at) AS requested_at
                FROM vals v JOIN {KEYS} k USING (key_type, key_value)
                JOIN identity.record_clusters c USING (source, source_record_id)
                WHERE NOT EXISTS (SELECT 1 FROM {out} o WHERE o.source = c.source AND o.source_record_id = c.source_record_id)
                GROUP BY ALL),
            other_people AS (  -- carriers' customers holding a named record of another name
                SELECT DISTINCT c.customer_id FROM identity.record_clusters c
                JOIN {RECORDS} r USING (source, source_record_id)
                WHERE c.customer_id IN (SELECT customer_id FROM carriers)
                  AND r.name_signature IS NOT NULL AND r.name_signature NOT IN (SELECT name_signature FROM sigs)),
            absorbed AS (SELECT customer_id, min(requested_at) AS requested_at FROM carriers
                         WHERE customer_id IS NOT NULL AND customer_id NOT IN (SELECT customer_id FROM other_people)
                         GROUP BY 1)
            SELECT c.source, c.source_record_id, c.customer_id, a.requested_at
            FROM identity.record_clusters c JOIN absorbed a USING (customer_id)
            UNION
            SELECT source, source_record_id, customer_id, requested_at FROM carriers
            WHERE customer_id IS NULL AND NOT EXISTS (
                SELECT 1 FROM {RECORDS} r WHERE r.source = carriers.source
                  AND r.source_record_id = carriers.source_record_id
                  AND r.name_signature IS NOT NULL AND r.name_signature NOT IN (SELECT name_signature FROM sigs))
            """).fetchall()[0][0]
        if not added:
            break
    return con.execute(f"SELECT count(*) FROM {out}").fetchall()[0][0]


# Upserted silos keep every version in raw: an e-mail or phone a member or an account held before
# (the person changed it since) is still theirs, and a request may name it.
HISTORY = (("raw.crm__customers", "crm", "crm_id"), ("raw.ecommerce__accounts", "ecommerce", "account_id"))


def _history_keys(con) -> str:
    """SQL of (source, source_record_id, key_type, key_value) for every e-mail key and phone's
    national digits a member or an account ever held (raw versions, as staging normalises them)."""
    email = ("regexp_replace(lower(trim(t.email)), '[+][^@]*@', '@')")
    parts = []
    for table, source, record_id in HISTORY:
        if table_exists(con, table):
            parts.append(f"""SELECT DISTINCT '{source}' AS source, trim(t.{record_id}) AS source_record_id,
                    'email' AS key_type, {email} AS key_value FROM {table} t WHERE {email} LIKE '%_@_%._%'
                UNION ALL SELECT DISTINCT '{source}', trim(t.{record_id}), 'phone_digits', {_phone_digits("t.phone")}
                    FROM {table} t WHERE length({_phone_digits("t.phone")}) >= {MIN_PHONE_DIGITS}""")
    return " UNION ALL ".join(parts) or ("SELECT NULL::VARCHAR AS source, NULL::VARCHAR AS source_record_id, "
                                         "NULL::VARCHAR AS key_type, NULL::VARCHAR AS key_value WHERE false")


def _history_seeds(con) -> str:
    """`UNION ALL` the records that held, in an earlier version, an identifier registered tonight.
    Only tonight's keys: a record found so on the request's night is registered as erased, and
    later nights reach it through the register, so raw's history is hashed on those nights alone."""
    if not con.execute("SELECT count(*) FROM new_keys").fetchall()[0][0]:
        return ""
    return f"""
        UNION ALL
        SELECT h.source, h.source_record_id, r.requested_at
        FROM ({_history_keys(con)}) h
        JOIN {REGISTER} r ON r.kind = 'key' AND r.key_hash = {_digest("h.key_type || ':' || h.key_value")}
        WHERE r.key_hash IN (SELECT key_hash FROM new_keys)"""


def objecting_customers(con: duckdb.DuckDBPyConnection) -> int:
    """`privacy.objecting_customers`: every customer an objection reaches by identifier closure
    (`reach`) from the records carrying the e-mail, phone or CRM id it names."""
    seeds = ("SELECT NULL::VARCHAR AS source, NULL::VARCHAR AS source_record_id, NULL::TIMESTAMP AS requested_at "
             "WHERE false")
    if table_exists(con, "staging.stg_privacy__requests"):
        seeds = f"""SELECT k.source, k.source_record_id, q.requested_at
            FROM staging.stg_privacy__requests q
            JOIN {KEYS} k ON (k.key_type = 'email' AND k.key_value = q.email_key)
                          OR (k.key_type = 'phone' AND k.key_value = q.phone_e164)
                          OR (k.key_type = 'crm_id' AND k.key_value = q.crm_id)
            WHERE q.request_type = 'objection'
            UNION ALL
            SELECT h.source, h.source_record_id, q.requested_at
            FROM staging.stg_privacy__requests q
            JOIN ({_history_keys(con)}) h
              ON (h.key_type = 'email' AND h.key_value = q.email_key)
              OR (h.key_type = 'phone_digits' AND h.key_value = {_phone_digits("q.phone_e164")})
            WHERE q.request_type = 'objection'"""
    reach(con, seeds, "objection_reach")
    con.execute(f"""CREATE OR REPLACE TABLE {OBJECTING_CUSTOMERS} AS
        SELECT customer_id, min(requested_at) AS requested_at FROM objection_reach
        WHERE customer_id IS NOT NULL GROUP BY 1""")
    return con.execute(f"SELECT count(*) FROM {OBJECTING_CUSTOMERS}").fetchall()[0][0]


def erased_records(con: duckdb.DuckDBPyConnection, secret: str) -> int:
    """Temp table `erased` (source, source_record_id, requested_at) of every record of a person to
    erase (by identifier closure: `reach`), and `privacy.erased_customers`; every erased record is
    hashed into the register."""
    seeds = f"""
        SELECT k.source, k.source_record_id, r.requested_at
        FROM {KEYS} k
        JOIN {REGISTER} r ON r.kind = 'key' AND r.key_hash = {_digest("k.key_type || ':' || k.key_value")}
        WHERE k.key_type IN ('email', 'phone', 'crm_id')  -- the kinds of key a request names
        UNION ALL
        SELECT u.source, u.source_record_id, r.requested_at
        FROM ({_unparsed_phones(con)}) u
        JOIN {REGISTER} r ON r.kind = 'key' AND r.key_hash = {_digest("'phone_digits:' || u.digits")}
        WHERE length(u.digits) >= {MIN_PHONE_DIGITS}
{_history_seeds(con)}
        UNION ALL
        SELECT c.source, c.source_record_id, r.requested_at
        FROM identity.record_clusters c
        JOIN {REGISTER} r ON r.kind = 'record' AND r.key_hash = {_digest("c.source || ':' || c.source_record_id")}"""
    con.execute(f"CREATE OR REPLACE TEMP TABLE erasure_seeds AS {seeds}", {"salt": secret})
    reach(con, "SELECT * FROM erasure_seeds", "erased_reach")
    con.execute("CREATE OR REPLACE TEMP TABLE erased AS SELECT source, source_record_id, requested_at FROM erased_reach")
    con.execute(f"""CREATE OR REPLACE TABLE {ERASED_CUSTOMERS} AS
        SELECT customer_id, min(requested_at) AS requested_at FROM erased_reach
        WHERE customer_id IS NOT NULL GROUP BY 1""")
    # temp table `new_erased`: tonight's erased records not erased on an earlier night
    con.execute(f"""CREATE OR REPLACE TEMP TABLE new_erased AS
        SELECT DISTINCT e.source, e.source_record_id FROM erased e
        WHERE NOT EXISTS (SELECT 1 FROM {REGISTER} r WHERE r.kind = 'record'
                          AND r.key_hash = {_digest("e.source || ':' || e.source_record_id")})""", {"salt": secret})
    con.execute(f"""INSERT OR IGNORE INTO {REGISTER} (kind, key_hash, registered_at, requested_at)
        SELECT 'record', {_digest("source || ':' || source_record_id")}, now()::TIMESTAMP, min(requested_at)
        FROM erased GROUP BY ALL""", {"salt": secret})
    return con.execute("SELECT count(*) FROM erased").fetchall()[0][0]


def _erased_values(con) -> None:
    """Temp tables `erased_values` and `new_erased_values`: identifier strings of the erased
    records, as sent and normalised, to find them in quarantined lines (which were never parsed
    into columns). The new ones are what lines checked on an earlier night were not checked
    against: the ids of records erased for the first time tonight, and every contact key or raw
    contact column of an erased record still present (once blanked they are NULL or gone, so what
    is left is tonight's: a newly erased record, or a silo resending the person)."""
    parts = [("SELECT lower(e.source_record_id) AS v, n.source IS NOT NULL AS new FROM erased e "
              "LEFT JOIN new_erased n USING (source, source_record_id) "
              "WHERE e.source IN ('crm', 'ecommerce', 'forms', 'esp', 'callcenter', 'partners')"),
             ("SELECT lower(k.key_value), true FROM intermediate.int_identity__record_keys k "
              "JOIN erased USING (source, source_record_id) WHERE k.key_type IN ('email', 'phone')")]
    for table, cols in RAW_PERSONAL.items():
        holder = next(h for h in HOLDERS if h.table == table)
        for col in cols:
            if col in ("email", "phone", "guest_email", "appended_email", "caller_phone", "recipient"):
                parts.append(f"SELECT lower(t.{col}), true FROM {table} t JOIN erased e "
                             f"ON e.source = {holder.source_expr} AND e.source_record_id = {holder.record_id}")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE erased_values AS
        SELECT v, bool_or(new) AS new FROM ({' UNION ALL '.join(parts)})
        WHERE v IS NOT NULL AND length(v) >= 5 GROUP BY v""")
    con.execute("CREATE OR REPLACE TEMP TABLE new_erased_values AS SELECT v FROM erased_values WHERE new")


def _record_columns(con) -> list[tuple[str, str]]:
    """(table, suffix) for every working table with columns source<suffix> and source_record_id<suffix>."""
    rows = con.execute("""
        SELECT a.table_schema || '.' || a.table_name, substr(a.column_name, length('source_record_id') + 1)
        FROM information_schema.columns a JOIN information_schema.columns b
          ON a.table_schema = b.table_schema AND a.table_name = b.table_name
         AND b.column_name = 'source' || substr(a.column_name, length('source_record_id') + 1)
        JOIN information_schema.tables t ON t.table_schema = a.table_schema AND t.table_name = a.table_name
        WHERE a.column_name LIKE 'source_record_id%' AND t.table_type = 'BASE TABLE'
          AND a.table_schema IN ('staging', 'intermediate', 'identity', 'marts')
          AND a.table_catalog = current_database()""").fetchall()
    return sorted((table, suffix) for table, suffix in rows)


# A quarantined line is blanked when its text holds an erased value anywhere: a bad line may have
# any shape, so it is searched, not parsed. Testing every line against every value costs lines ×
# values, and both grow with the customer base (at 200,000 customers 16.6 s of the step's 37 s,
# at a million customers ~25 times that). Instead every line is cut into its windows of GRAM characters; a value
# inside a line has all its windows there, so each value is looked for by its rarest window only,
# and just those candidate lines are tested. Few values (an ordinary night's new ones) are tested
# directly: cutting the lines would cost more than the tests.
GRAM = 5  # = the shortest value looked for (erased_values keeps values of 5 characters or more)
DIRECT_MAX_VALUES = 64


def _lines_holding(con, values: str) -> str:
    """SQL of the `rid` of lines in temp table `q_lines` (rid, line) that contain a value of
    `values` (column v, lower case, GRAM characters or more)."""
    if con.execute(f"SELECT count(*) FROM {values}").fetchall()[0][0] <= DIRECT_MAX_VALUES:
        return f"SELECT l.rid FROM q_lines l WHERE EXISTS (SELECT 1 FROM {values} e WHERE contains(l.line, e.v))"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE q_grams AS
        SELECT rid, substr(line, i, {GRAM}) AS g
        FROM (SELECT rid, line, unnest(range(1, length(line) - {GRAM} + 2)) AS i FROM q_lines)""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE q_picks AS
        WITH windows AS (
            SELECT v, substr(v, i, {GRAM}) AS g FROM (SELECT v, unnest(range(1, length(v) - {GRAM} + 2)) AS i FROM {values})),
        seen AS (SELECT g, count(*) AS n FROM q_grams WHERE g IN (SELECT g FROM windows) GROUP BY g)
        -- a window found in no line: the value is in no line
        SELECT v, arg_min(g, n) AS g FROM windows LEFT JOIN seen USING (g)
        GROUP BY v HAVING bool_and(n IS NOT NULL)""")
    return """SELECT DISTINCT l.rid FROM q_picks p JOIN q_grams w ON w.g = p.g JOIN q_lines l ON l.rid = w.rid
        WHERE contains(l.line, p.v)"""


def _blank_lines(con, secret: str, lines: str, values: str, keys: str) -> int:
    """Blank the quarantined lines selected by `lines` (a condition on alias q) that hold one of
    `values` or an e-mail whose hash is in `keys`."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE q_lines AS
        SELECT q.rowid AS rid, lower(q.record) AS line FROM quarantine.rejected_rows q
        WHERE q.record IS NOT NULL AND {lines}""")
    email_hash = _digest(r"'email:' || regexp_replace(x.m, '\+[^@]*@', '@')")
    hits = f"""{_lines_holding(con, values)}
        UNION SELECT x.rid FROM (SELECT rid, unnest(regexp_extract_all(line, '[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]+')) AS m
                                 FROM q_lines) x
              JOIN {keys} r ON r.key_hash = {email_hash}"""
    return con.execute(f"UPDATE quarantine.rejected_rows q SET record = NULL WHERE q.rowid IN ({hits})",
                       {"salt": secret}).fetchall()[0][0]


def _scrub_quarantine(con, secret: str) -> int:
    """Blank quarantined lines holding an erased identifier. Lines of loads not checked before get
    every erased value and every registered key; lines of loads checked on an earlier night only
    what is new tonight (they were checked against the rest then)."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {QUARANTINE_CHECKED} (load_id VARCHAR PRIMARY KEY, checked_at TIMESTAMP)")
    con.execute(f"CREATE OR REPLACE TEMP TABLE register_keys AS SELECT key_hash FROM {REGISTER} WHERE kind = 'key'")
    unchecked = f"(q.load_id IS NULL OR q.load_id NOT IN (SELECT load_id FROM {QUARANTINE_CHECKED}))"
    touched = _blank_lines(con, secret, unchecked, "erased_values", "register_keys")
    news = con.execute("SELECT (SELECT count(*) FROM new_erased_values) + (SELECT count(*) FROM new_keys)").fetchall()
    if news[0][0]:
        touched += _blank_lines(con, secret, f"NOT {unchecked}", "new_erased_values", "new_keys")
    con.execute(f"""INSERT OR IGNORE INTO {QUARANTINE_CHECKED}
        SELECT DISTINCT load_id, now()::TIMESTAMP FROM quarantine.rejected_rows WHERE load_id IS NOT NULL""")
    return touched


def scrub(con: duckdb.DuckDBPyConnection, secret: str) -> dict[str, int]:
    """Blank the personal columns of the erased records in every declared table. Returns rows touched."""
    touched: dict[str, int] = {}
    _erased_values(con)
    if table_exists(con, "quarantine.rejected_rows"):
        touched["quarantine.rejected_rows"] = _scrub_quarantine(con, secret)
    for holder in HOLDERS:
        if not table_exists(con, holder.table):
            continue
        columns = _columns(con, holder.table)
        personal = RAW_PERSONAL.get(holder.table) or [c for c in columns if PERSONAL_COLUMN.match(c)]
        personal = [c for c in personal if c in columns]
        if not personal:
            continue
        touched[holder.table] = con.execute(f"""
            UPDATE {holder.table} t SET {', '.join(f'"{c}" = NULL' for c in personal)}
            WHERE EXISTS (SELECT 1 FROM erased e WHERE e.source = {holder.source_expr}
                                                   AND e.source_record_id = {holder.record_id})
              AND ({' OR '.join(f'"{c}" IS NOT NULL' for c in personal)})""").fetchall()[0][0]
    if table_exists(con, "staging.stg_privacy__requests"):
        touched["requests"] = con.execute("""UPDATE staging.stg_privacy__requests SET email_key = NULL, phone_e164 = NULL
            WHERE request_type = 'erasure' AND (email_key IS NOT NULL OR phone_e164 IS NOT NULL)""").fetchall()[0][0]
    if table_exists(con, "raw.privacy__requests"):
        touched["raw.privacy__requests"] = con.execute("""UPDATE raw.privacy__requests SET email = NULL, phone = NULL
            WHERE request_type = 'erasure' AND (email IS NOT NULL OR phone IS NOT NULL)""").fetchall()[0][0]
    # keys that are contact data
    touched["intermediate.int_identity__record_keys"] = con.execute("""
        DELETE FROM intermediate.int_identity__record_keys k
        WHERE k.key_type IN ('email', 'phone')
          AND EXISTS (SELECT 1 FROM erased e WHERE e.source = k.source AND e.source_record_id = k.source_record_id)
    """).fetchall()[0][0]
    # rows naming a record whose id is itself contact data (a caller phone, an e-mail recipient),
    # in any table that names records by (source<sfx>, source_record_id<sfx>)
    for table, suffix in _record_columns(con):
        touched[table] = touched.get(table, 0) + con.execute(f"""
            DELETE FROM {table} t
            WHERE t.source{suffix} IN {CONTACT_ID_SOURCES}
              AND EXISTS (SELECT 1 FROM erased e WHERE e.source = t.source{suffix}
                                                   AND e.source_record_id = t.source_record_id{suffix})
        """).fetchall()[0][0]
    if table_exists(con, IDENTITY_CHANGE_LOG):
        stamp = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # UTC, as the dbt runs' stamps
        con.execute(f"""
            INSERT INTO {IDENTITY_CHANGE_LOG} (source, source_record_id, model, change, night, changed_at, loaded_until)
            SELECT DISTINCT source, source_record_id, NULL, 'erasure', NULL, ?::TIMESTAMP, NULL FROM erased
            WHERE source NOT IN {CONTACT_ID_SOURCES}""", [stamp])
    return touched
