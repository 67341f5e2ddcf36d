"""Erasure and objection reach every record holding one of the person's hard identifiers, whether or
not identity linked it; an identifier shared with another named person stays with that person."""

import duckdb

from orchestration import privacy

RECORDS = [  # source, id, name signature, customer
    ("crm", "CRM-1", "ann|mar", "C1"),           # the person: Anne Martin
    ("esp", "anne@x.fr", None, "C1"),            # her e-mail as an ESP recipient, linked
    ("callcenter", "+33611111111", None, "C9"),  # a call from her own mobile: identity missed it
    ("esp", "+33611111111", None, "C8"),         # an SMS to her mobile, left apart too
    ("forms", "F-7", "ann|mar", "C7"),           # a form she signed with her mobile: a missed link
    ("callcenter", "+33122222222", None, None),  # the family landline, unresolved (shared)
    ("crm", "CRM-2", "jea|mar", "C2"),           # her husband, who shares the landline
    ("ecommerce", "A-3", "pau|dur", "C3"),       # somebody else entirely
]
KEYS = [  # source, id, key type, value
    ("crm", "CRM-1", "crm_id", "CRM-1"), ("crm", "CRM-1", "email", "anne@x.fr"),
    ("crm", "CRM-1", "phone", "+33611111111"), ("crm", "CRM-1", "phone", "+33122222222"),
    ("esp", "anne@x.fr", "email", "anne@x.fr"),
    ("callcenter", "+33611111111", "phone", "+33611111111"), ("esp", "+33611111111", "phone", "+33611111111"),
    ("forms", "F-7", "phone", "+33611111111"),
    ("callcenter", "+33122222222", "phone", "+33122222222"),
    ("crm", "CRM-2", "crm_id", "CRM-2"), ("crm", "CRM-2", "phone", "+33122222222"),
    ("ecommerce", "A-3", "email", "paul@y.fr"),
]


def _warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for schema in ("identity", "intermediate", "staging"):
        con.execute(f"CREATE SCHEMA {schema}")
    con.execute("CREATE TABLE identity.record_clusters (source VARCHAR, source_record_id VARCHAR, customer_id VARCHAR)")
    con.execute("CREATE TABLE intermediate.int_identity__records (source VARCHAR, source_record_id VARCHAR, "
                "name_signature VARCHAR)")
    con.execute("CREATE TABLE intermediate.int_identity__record_keys (source VARCHAR, source_record_id VARCHAR, "
                "key_type VARCHAR, key_value VARCHAR)")
    con.executemany("INSERT INTO identity.record_clusters VALUES (?, ?, ?)", [(s, i, c) for s, i, _, c in RECORDS])
    con.executemany("INSERT INTO intermediate.int_identity__records VALUES (?, ?, ?)", [(s, i, n) for s, i, n, _ in RECORDS])
    con.executemany("INSERT INTO intermediate.int_identity__record_keys VALUES (?, ?, ?, ?)", KEYS)
    return con


def _reached(con) -> set[tuple[str, str]]:
    return {(s, i) for s, i in con.execute("SELECT source, source_record_id FROM out").fetchall()}


def test_a_request_reaches_the_records_identity_left_apart_but_not_a_shared_landlines_other_owner():
    con = _warehouse()
    privacy.reach(con, "SELECT 'crm' AS source, 'CRM-1' AS source_record_id, now() AS requested_at", "out")
    reached = _reached(con)
    # every record holding a value of hers, linked or not, through her mobile as well as her e-mail
    assert {("crm", "CRM-1"), ("esp", "anne@x.fr"), ("callcenter", "+33611111111"), ("esp", "+33611111111"),
            ("forms", "F-7")} <= reached
    # the landline is her husband's too: his member record stays, and so does the unresolved line
    # that may be either of them
    assert ("crm", "CRM-2") not in reached and ("ecommerce", "A-3") not in reached
    assert ("callcenter", "+33122222222") in reached  # no other *named* person's record: it goes with her


def test_without_closure_the_missed_links_would_have_been_left():
    """The same warehouse, read the way the step read it before: only the request's own customer."""
    con = _warehouse()
    direct = {(s, i) for s, i in con.execute(
        "SELECT source, source_record_id FROM identity.record_clusters WHERE customer_id = 'C1'").fetchall()}
    privacy.reach(con, "SELECT 'crm' AS source, 'CRM-1' AS source_record_id, now() AS requested_at", "out")
    missed = _reached(con) - direct
    assert {("callcenter", "+33611111111"), ("forms", "F-7")} <= missed


def test_objections_reach_customers_the_same_way():
    con = _warehouse()
    con.execute("CREATE TABLE staging.stg_privacy__requests (request_type VARCHAR, email_key VARCHAR, "
                "phone_e164 VARCHAR, crm_id VARCHAR, requested_at TIMESTAMP)")
    con.execute("INSERT INTO staging.stg_privacy__requests VALUES ('objection', 'anne@x.fr', NULL, NULL, now())")
    con.execute("CREATE SCHEMA privacy")
    assert privacy.objecting_customers(con) == 4
    objecting = {c for (c,) in con.execute("SELECT customer_id FROM privacy.objecting_customers").fetchall()}
    assert objecting == {"C1", "C7", "C8", "C9"}
