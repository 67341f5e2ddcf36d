"""Identity stitching on a hand-made set of records: merges, guards, stable ids."""

import datetime as dt

import pandas as pd
import pytest

from orchestration.identity.clusters import resolve
from orchestration.identity.stitching import build_edges, unresolvable_records
from orchestration.warehouse import connect

RECORD_COLS = ["source", "source_record_id", "name_signature", "birth_date"]


def sig(first, last):
    a, b = first.lower()[:3], last.lower()[:3]
    return f"{min(a, b)}|{max(a, b)}"


BASE_RECORDS = [
    ("crm", "CRM1", sig("Jean", "Dupont"), dt.date(1980, 1, 2)),
    ("ecommerce", "ACC1", sig("Dupont", "Jean"), None),  # swapped names, same person
    ("esp", "Jean.Dupont+promo@x.fr", None, None),
    ("web", "cookieA", None, None),  # logs in to ACC1
    ("web", "cookieB", None, None),  # never logs in
    ("crm", "CRM2", sig("Marie", "Martin"), dt.date(1975, 5, 5)),
    ("crm", "CRM3", sig("Paul", "Martin"), dt.date(1973, 3, 3)),
    ("callcenter", "01 45 67 89 10", None, None),  # household landline, both call
    ("forms", "F1", sig("Ann", "Lee"), None),
    ("forms", "F2", sig("Bob", "Ray"), None),
    ("esp", "test@test.com", None, None),
    ("pos", "CARD9", None, None),
]
BASE_KEYS = [
    ("crm", "CRM1", "crm_id", "CRM1"), ("crm", "CRM1", "email", "jean.dupont@x.fr"),
    ("ecommerce", "ACC1", "account_id", "ACC1"), ("ecommerce", "ACC1", "email", "jean.dupont@x.fr"),
    ("esp", "Jean.Dupont+promo@x.fr", "email", "jean.dupont@x.fr"),
    ("web", "cookieA", "account_id", "ACC1"),
    ("crm", "CRM2", "crm_id", "CRM2"), ("crm", "CRM2", "phone", "+33145678910"),
    ("crm", "CRM3", "crm_id", "CRM3"), ("crm", "CRM3", "phone", "+33145678910"),
    ("callcenter", "01 45 67 89 10", "phone", "+33145678910"),
    ("callcenter", "01 45 67 89 10", "crm_id", "CRM2"), ("callcenter", "01 45 67 89 10", "crm_id", "CRM3"),
    ("forms", "F1", "email", "test@test.com"), ("forms", "F2", "email", "test@test.com"),
    ("esp", "test@test.com", "email", "test@test.com"),
    ("pos", "CARD9", "loyalty_card", "CARD9"),
]


def run(con, records, keys, as_of=dt.date(2025, 1, 1)):
    con.execute("CREATE SCHEMA IF NOT EXISTS intermediate")
    con.register("r", pd.DataFrame(records, columns=RECORD_COLS))
    con.register("k", pd.DataFrame(keys, columns=["source", "source_record_id", "key_type", "key_value"]))
    con.execute("CREATE OR REPLACE TABLE intermediate.int_identity__records AS SELECT * FROM r")
    con.execute("CREATE OR REPLACE TABLE intermediate.int_identity__record_keys AS SELECT * FROM k")
    build_edges(con)
    unresolvable_records(con)
    stats = resolve(con, as_of)
    placed = con.execute("SELECT source, source_record_id, customer_id, match_rule FROM identity.record_clusters").fetchall()
    return stats, {(s, r): (c, rule) for s, r, c, rule in placed}


@pytest.fixture()
def con(tmp_path):
    c = connect(tmp_path / "wh.duckdb")
    yield c
    c.close()


def test_one_person_across_silos_and_guards(con):
    _, placed = run(con, BASE_RECORDS, BASE_KEYS)
    jean = {placed[k][0] for k in [("crm", "CRM1"), ("ecommerce", "ACC1"), ("esp", "Jean.Dupont+promo@x.fr"),
                                   ("web", "cookieA")]}
    assert len(jean) == 1 and None not in jean
    assert placed[("web", "cookieA")][1] == "deterministic:account_id"
    # a household landline never merges the two members, and the shared caller stays unresolved
    assert placed[("crm", "CRM2")][0] != placed[("crm", "CRM3")][0]
    assert placed[("callcenter", "01 45 67 89 10")] == (None, "ambiguous_shared_identifier")
    # a placeholder e-mail merges nobody and is nobody
    assert placed[("forms", "F1")][0] != placed[("forms", "F2")][0]
    assert placed[("esp", "test@test.com")][0] is None
    assert placed[("web", "cookieB")] == (None, "anonymous")
    assert placed[("pos", "CARD9")][1] == "singleton"


def test_equally_certain_keys_name_the_rule_by_their_declared_order(con, monkeypatch):
    # an account linked to a CRM member shares a CRM id with the member and its account id with
    # the cookie it logs in from: both keys are certain (1.0); the one declared first names the rule
    from orchestration.identity import clusters

    records = [("crm", "CRM7", sig("Eva", "Roux"), None), ("ecommerce", "ACC7", sig("Eva", "Roux"), None),
               ("web", "cookie7", None, None)]
    keys = [("crm", "CRM7", "crm_id", "CRM7"), ("ecommerce", "ACC7", "crm_id", "CRM7"),
            ("ecommerce", "ACC7", "account_id", "ACC7"), ("web", "cookie7", "account_id", "ACC7")]
    declared = dict(clusters.KEY_CONFIDENCE)
    assert declared["crm_id"] == declared["account_id"]
    for first in ("crm_id", "account_id"):
        monkeypatch.setattr(clusters, "KEY_CONFIDENCE", {first: declared[first], **declared})
        _, placed = run(con, records, keys)
        assert placed[("ecommerce", "ACC7")][1] == f"deterministic:{first}"
        assert placed[("web", "cookie7")][1] == "deterministic:account_id"


def test_ids_are_stable_and_a_merge_keeps_the_survivor(con):
    _, first = run(con, BASE_RECORDS, BASE_KEYS)
    _, second = run(con, BASE_RECORDS, BASE_KEYS)
    assert first == second  # same input, same ids
    # the card turns out to be Jean's: CARD9's customer is merged into Jean's
    _, third = run(con, BASE_RECORDS, BASE_KEYS + [("crm", "CRM1", "loyalty_card", "CARD9")],
                   as_of=dt.date(2025, 1, 2))
    jean_id = first[("crm", "CRM1")][0]
    assert third[("pos", "CARD9")][0] == jean_id == third[("crm", "CRM1")][0]
    history = con.execute("SELECT old_customer_id, new_customer_id, reason FROM identity.customer_id_history").fetchall()
    assert history == [(first[("pos", "CARD9")][0], jean_id, "merge")]


def test_a_split_keeps_the_id_on_the_larger_part(con):
    records = BASE_RECORDS
    _, first = run(con, records, BASE_KEYS)
    jean_id = first[("crm", "CRM1")][0]
    # the e-mail link disappears: ACC1 (+cookie) leaves CRM1 (+recipient)
    keys = [k for k in BASE_KEYS if not (k[0] == "ecommerce" and k[2] == "email")]
    keys += [("esp", "Jean.Dupont+promo@x.fr", "crm_id", "CRM1")]
    _, after = run(con, records, keys, as_of=dt.date(2025, 1, 2))
    assert after[("ecommerce", "ACC1")][0] != after[("crm", "CRM1")][0]
    kept = {after[("ecommerce", "ACC1")][0], after[("crm", "CRM1")][0]}
    assert jean_id in kept
    history = con.execute("SELECT old_customer_id, reason FROM identity.customer_id_history").fetchall()
    assert history == [(jean_id, "split")]
