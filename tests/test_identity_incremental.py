"""An incremental night gives what a full re-resolution gives: the same partition of records, the
same stable ids, the same rules, confidences, evidence and id history, on generated records
whose next night brings merges (by identifier and by the model), splits (a value that becomes
shared, records that vanish), moves, new people and an erasure done behind the step's back.

The full re-resolution stitches, clusters and maps ids over every record, on the pairs Splink
holds tonight. (Re-scoring every pair as well, `full_refresh`, can move a carried-over pair
across the threshold: its term-frequency adjustment is the one of the night it was scored.)"""

import datetime as dt
import shutil

import numpy as np
import pandas as pd
import pytest

from orchestration.identity import clusters, matching, probabilistic
from orchestration.identity.incremental import link_fingerprint, resolve_night
from orchestration.identity.stitching import build_edges, unresolvable_records
from orchestration.warehouse import connect

from .test_identity_probabilistic import FIRST, LAST

NIGHT1, NIGHT2, NIGHT3 = dt.date(2025, 1, 1), dt.date(2025, 1, 2), dt.date(2025, 1, 3)
REC_COLS = ["source", "source_record_id", "first_name_key", "last_name_key", "birth_date", "address_line",
            "postcode", "city"]


def generate(n_people: int = 700, seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Records and identifier keys of n people in households of two (a shared landline): CRM
    members, web accounts (nicknames, typos, swapped names, often no e-mail), loyalty cards,
    e-mail recipients, callers, cookies and form signups (some with a placeholder e-mail)."""
    rng = np.random.default_rng(seed)
    i = np.arange(n_people)
    first = np.array(FIRST)[rng.integers(len(FIRST), size=n_people)]
    last = np.array(LAST)[(i // 2 * 7) % len(LAST)]  # household members share a last name
    born = pd.to_datetime("1940-01-01") + pd.to_timedelta(rng.integers(0, 60 * 365, size=n_people), unit="D")
    street = pd.Series(rng.integers(1, 200, size=n_people)).astype(str) + " rue " + np.array(LAST)[
        (i // 2 * 3) % len(LAST)]
    postcode = pd.Series(10000 + (i // 2) * 37 % 80000).astype(str)
    people = pd.DataFrame({"i": i, "first": first, "last": last, "born": born.date, "street": street,
                           "postcode": postcode, "city": "ville", "email": [f"p{k}@mail.fr" for k in i],
                           "landline": [f"+331{k // 2:08d}" for k in i]})
    u = rng.random((n_people, 6))
    crm = people[u[:, 0] < 0.8]
    acc = people[u[:, 1] < 0.7]
    acc_first = np.where(u[acc.i, 2] < 0.15, acc["first"].str[:3], acc["first"])
    acc_email = np.where(u[acc.i, 3] < 0.5, acc["email"], None)
    recs = [
        pd.DataFrame({"source": "crm", "source_record_id": "C" + crm.i.astype(str), "first_name_key": crm["first"],
                      "last_name_key": crm["last"], "birth_date": crm["born"], "address_line": crm["street"],
                      "postcode": crm["postcode"], "city": crm["city"]}),
        pd.DataFrame({"source": "ecommerce", "source_record_id": "A" + acc.i.astype(str),
                      "first_name_key": acc_first, "last_name_key": acc["last"],
                      "birth_date": np.where(u[acc.i, 4] < 0.8, acc["born"], None), "address_line": acc["street"],
                      "postcode": acc["postcode"], "city": acc["city"]}),
    ]
    keys = [
        pd.DataFrame({"source": "crm", "source_record_id": "C" + crm.i.astype(str), "key_type": "crm_id",
                      "key_value": "C" + crm.i.astype(str)}),
        pd.DataFrame({"source": "crm", "source_record_id": "C" + crm.i.astype(str), "key_type": "email",
                      "key_value": crm["email"]}),
        pd.DataFrame({"source": "crm", "source_record_id": "C" + crm.i.astype(str), "key_type": "phone",
                      "key_value": crm["landline"]}),
        pd.DataFrame({"source": "ecommerce", "source_record_id": "A" + acc.i.astype(str), "key_type": "account_id",
                      "key_value": "A" + acc.i.astype(str)}),
        pd.DataFrame({"source": "ecommerce", "source_record_id": "A" + acc.i.astype(str), "key_type": "email",
                      "key_value": acc_email}),
    ]
    card = crm[u[crm.i, 5] < 0.5]
    keys.append(pd.DataFrame({"source": "crm", "source_record_id": "C" + card.i.astype(str),
                              "key_type": "loyalty_card", "key_value": "K" + card.i.astype(str)}))
    contact = [("pos", "K" + card.i.astype(str), "loyalty_card", "K" + card.i.astype(str))]
    rcp = people[u[:, 2] > 0.5]
    contact.append(("esp", rcp["email"].str.upper(), "email", rcp["email"]))
    callers = people[(u[:, 3] > 0.7)].drop_duplicates("landline")
    contact.append(("callcenter", "0" + callers["landline"].str[4:], "phone", callers["landline"]))
    web = acc[u[acc.i, 4] > 0.4]
    contact.append(("web", "W" + web.i.astype(str), "account_id", "A" + web.i.astype(str)))
    contact.append(("web", pd.Series([f"ANON{k}" for k in range(20)]), None, None))
    for source, ids, key_type, values in contact:
        recs.append(pd.DataFrame({"source": source, "source_record_id": ids.to_numpy()}))
        if key_type:
            keys.append(pd.DataFrame({"source": source, "source_record_id": ids.to_numpy(), "key_type": key_type,
                                      "key_value": values.to_numpy()}))
    # form signups: a few typed the placeholder, some are people with no other record
    forms = people.iloc[rng.choice(n_people, 60, replace=False)]
    f_email = np.where(np.arange(len(forms)) < 8, "test@test.com", forms["email"])
    recs.append(pd.DataFrame({"source": "forms", "source_record_id": "F" + forms.i.astype(str),
                              "first_name_key": forms["first"], "last_name_key": forms["last"],
                              "postcode": forms["postcode"]}))
    keys.append(pd.DataFrame({"source": "forms", "source_record_id": "F" + forms.i.astype(str), "key_type": "email",
                              "key_value": f_email}))
    records = pd.concat(recs, ignore_index=True).reindex(columns=REC_COLS)
    keys = pd.concat(keys, ignore_index=True).dropna(subset=["key_value"]).drop_duplicates()
    return records, keys


def load(con, records: pd.DataFrame, keys: pd.DataFrame) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS intermediate")
    con.register("r", records)
    con.register("k", keys)
    con.execute("""
        CREATE OR REPLACE TABLE intermediate.int_identity__records AS
        SELECT source, source_record_id, first_name_key::VARCHAR AS first_name_key,
               last_name_key::VARCHAR AS last_name_key, birth_date::DATE AS birth_date,
               address_line::VARCHAR AS address_line, postcode::VARCHAR AS postcode, city::VARCHAR AS city,
               CASE WHEN first_name_key IS NOT NULL AND last_name_key IS NOT NULL
                    THEN least(left(first_name_key, 3), left(last_name_key, 3)) || '|'
                         || greatest(left(first_name_key, 3), left(last_name_key, 3)) END AS name_signature
        FROM r""")
    con.execute("CREATE OR REPLACE TABLE intermediate.int_identity__record_keys AS SELECT * FROM k")
    con.unregister("r")
    con.unregister("k")


def placed(con) -> pd.DataFrame:
    return (con.execute("SELECT source, source_record_id, customer_id, match_rule, round(match_confidence, 9) AS conf "
                        "FROM identity.record_clusters").df()
            .sort_values(["source", "source_record_id"]).reset_index(drop=True))


def evidence(con) -> pd.DataFrame:
    return (con.execute("SELECT customer_id, source_l, source_record_id_l, source_r, source_record_id_r, "
                        "round(match_probability, 9) AS p, evidence FROM identity.match_evidence").df()
            .sort_values(["source_l", "source_record_id_l", "source_r", "source_record_id_r"]).reset_index(drop=True))


def history(con, on) -> set:
    return set(con.execute("SELECT old_customer_id, new_customer_id, reason FROM identity.customer_id_history "
                           "WHERE changed_on = ?", [on]).fetchall())


def next_night(records, keys, before: pd.DataFrame, seed: int):
    """Tonight's changes, chosen from last night's placement so that they merge and split."""
    rng = np.random.default_rng(seed)
    records, keys = records.copy(), keys.copy()
    cust = before.set_index(["source", "source_record_id"])["customer_id"]
    both = [k for k in range(700) if ("crm", f"C{k}") in cust.index and ("ecommerce", f"A{k}") in cust.index]
    apart = [k for k in both if cust[("crm", f"C{k}")] != cust[("ecommerce", f"A{k}")]]
    together = [k for k in both if cust[("crm", f"C{k}")] == cust[("ecommerce", f"A{k}")]]
    # merges by identifier: an account gets its owner's e-mail
    merge = apart[:4]
    keys = pd.concat([keys, pd.DataFrame({"source": "ecommerce", "source_record_id": [f"A{k}" for k in merge],
                                          "key_type": "email", "key_value": [f"p{k}@mail.fr" for k in merge]})])
    # splits: someone else types a customer's e-mail (the value becomes shared, links nobody)
    split = together[:4]
    new = pd.DataFrame({"source": "forms", "source_record_id": [f"FX{k}" for k in split], "first_name_key": "zoe",
                        "last_name_key": "zorglub", "postcode": "99999"})
    keys = pd.concat([keys, pd.DataFrame({"source": "forms", "source_record_id": [f"FX{k}" for k in split],
                                          "key_type": "email", "key_value": [f"p{k}@mail.fr" for k in split]})])
    # merges by the model: the same person again on a new account, no identifier in common
    crm = records[records.source == "crm"]
    again = crm.iloc[rng.choice(len(crm), 6, replace=False)].assign(
        source="ecommerce", source_record_id=lambda d: "AX" + d.source_record_id)
    # moves (the model's inputs change), vanished records, new people
    moved = records.source_record_id.isin(crm.source_record_id.iloc[rng.choice(len(crm), 5, replace=False)])
    records.loc[moved, "address_line"] = "1 place Neuve"
    gone = records[records.source == "esp"].source_record_id.iloc[:5].tolist() + [f"C{k}" for k in together[4:7]]
    records = records[~records.source_record_id.isin(gone)]
    keys = keys[~keys.source_record_id.isin(gone)]
    fresh = pd.DataFrame({"source": "crm", "source_record_id": [f"CN{k}" for k in range(7)],
                          "first_name_key": "nouveau", "last_name_key": [f"venu{k}" for k in range(7)],
                          "birth_date": dt.date(1990, 1, 1), "postcode": "75001"})
    keys = pd.concat([keys, pd.DataFrame({"source": "crm", "source_record_id": fresh.source_record_id,
                                          "key_type": "crm_id", "key_value": fresh.source_record_id})])
    records = (pd.concat([records, new, again, fresh], ignore_index=True).reindex(columns=REC_COLS)
               .drop_duplicates(["source", "source_record_id"], keep="last"))
    return records, keys.drop_duplicates()


def erase_behind_the_step(con, customer_id: str) -> list[str]:
    """What the privacy step does after identity: the customer's contact-id records leave
    every identity table that names records, and their personal columns are blanked."""
    gone = [r for (r,) in con.execute("SELECT source_record_id FROM identity.record_clusters WHERE customer_id = ? "
                                      "AND source IN ('esp', 'callcenter')", [customer_id]).fetchall()]
    for table in ("identity.record_clusters", clusters.STATE_RECORDS, clusters.STATE_KEYS):
        con.execute(f"DELETE FROM {table} WHERE source IN ('esp', 'callcenter') AND list_contains(?, source_record_id)",
                    [gone])
    return gone


@pytest.fixture(scope="module")
def model():
    return probabilistic.load_model(None)


def test_incremental_nights_equal_a_full_re_resolution(tmp_path, model):
    records, keys = generate()
    inc_path, full_path = tmp_path / "incremental.duckdb", tmp_path / "full.duckdb"
    with connect(inc_path) as con:
        load(con, records, keys)
        first = resolve_night(con, model, as_of=NIGHT1)
        assert first.mode == "full"
        before = placed(con)
        # an erasure after last night's step: one customer's recipient row is gone, and its
        # records come back tonight blanked (no name) and without the recipient
        victim = con.execute("SELECT customer_id FROM identity.record_clusters WHERE source = 'esp' AND customer_id "
                             "IN (SELECT customer_id FROM identity.record_clusters WHERE source = 'crm') "
                             "ORDER BY customer_id LIMIT 1").fetchall()[0][0]
        victim_records = before[before.customer_id == victim].source_record_id.tolist()
        gone = erase_behind_the_step(con, victim)
        assert gone
    shutil.copy(inc_path, full_path)

    records2, keys2 = next_night(records, keys, before, seed=5)
    records2 = records2[~records2.source_record_id.isin(gone)]
    keys2 = keys2[~keys2.source_record_id.isin(gone)]
    blank = ["first_name_key", "last_name_key", "birth_date", "address_line", "postcode", "city"]
    records2.loc[records2.source_record_id.isin(victim_records), blank] = None
    night_records, night_keys, inc_placed = records2, keys2, before
    for on, seed in [(NIGHT2, 0), (NIGHT3, 9)]:
        if seed:  # the night after: changes chosen from the incremental night's placement
            night_records, night_keys = next_night(night_records, night_keys, inc_placed, seed)
        with connect(inc_path) as con:
            load(con, night_records, night_keys)
            inc = resolve_night(con, model, as_of=on)
            inc_placed, inc_evidence, inc_history = placed(con), evidence(con), history(con, on)
        with connect(full_path) as con:
            load(con, night_records, night_keys)
            # the same Splink night, then stitching, components and ids over every record
            match = matching.run(con, model, as_of=on)
            build_edges(con)
            unresolvable_records(con)
            full_stats = clusters.resolve(con, on, link_fingerprint=link_fingerprint(
                model, True, probabilistic.MATCH_PROBABILITY))
            full_placed, full_evidence, full_history = placed(con), evidence(con), history(con, on)
        assert inc.mode == "incremental", inc.why_full
        assert inc.match.mode == match.mode == "incremental" and inc.match.links == match.links
        assert full_stats["placed_records"] == len(night_records)
        n = len(night_records)
        assert 0 < inc.scope_records < n / 4, (inc.scope_records, n)
        pd.testing.assert_frame_equal(inc_placed, full_placed)
        pd.testing.assert_frame_equal(inc_evidence, full_evidence)
        assert inc_history == full_history
        assert {"merge", "split"} <= {why for _, _, why in inc_history}, inc_history
        # metrics over every record, not only the re-placed ones
        for k in ("records", "customers", "multi_record_customers", "largest_cluster", "share_probabilistic",
                  "cluster_size_histogram", "probabilistic_links_used"):
            assert inc.stats[k] == full_stats[k], k
    assert len(inc_placed) == len(night_records)


def test_a_night_with_nothing_new_re_places_nothing(tmp_path, model):
    records, keys = generate(300)
    with connect(tmp_path / "wh.duckdb") as con:
        load(con, records, keys)
        resolve_night(con, model, as_of=NIGHT1)
        before = placed(con)
        night = resolve_night(con, model, as_of=NIGHT2)
        assert (night.mode, night.changed_records, night.scope_records) == ("incremental", 0, 0)
        pd.testing.assert_frame_equal(placed(con), before)
        # rules changed (another threshold): everything is placed again
        night = resolve_night(con, model, as_of=NIGHT3, threshold=0.9)
        assert night.mode == "full" and night.why_full == "rules or model changed"
        # and the full-refresh flag re-resolves everything
        night = resolve_night(con, model, full=True, as_of=NIGHT3)
        assert night.mode == night.match.mode == "full" and night.scope_records == len(records)


def test_a_record_that_stops_being_ambiguous_joins_a_customer_yesterday_apart(tmp_path, model):
    """A caller quoting two members' CRM ids bridges two people: left unresolved. When one member
    leaves, the caller joins the other, whose customer nothing else changed: the scope must reach
    it through tonight's trusted values."""
    from .test_identity_probabilistic import population

    pop = pd.DataFrame(population(300), columns=REC_COLS)
    people = pd.DataFrame([("crm", "CRM_A", "anne", "leroux", dt.date(1970, 1, 1), "1 rue A", "75001", "paris"),
                           ("crm", "CRM_B", "bruno", "rayer", dt.date(1980, 1, 1), "2 rue B", "13001", "marseille"),
                           ("callcenter", "0145", None, None, None, None, None, None)], columns=REC_COLS)
    records = pd.concat([pop, people], ignore_index=True)
    crm = records[records.source == "crm"]
    keys = pd.concat([pd.DataFrame({"source": "crm", "source_record_id": crm.source_record_id, "key_type": "crm_id",
                                    "key_value": crm.source_record_id}),
                      pd.DataFrame({"source": "callcenter", "source_record_id": "0145", "key_type": "crm_id",
                                    "key_value": ["CRM_A", "CRM_B"]})], ignore_index=True)
    inc_path, full_path = tmp_path / "incremental.duckdb", tmp_path / "full.duckdb"
    with connect(inc_path) as con:
        load(con, records, keys)
        resolve_night(con, model, as_of=NIGHT1)
        first = placed(con).set_index("source_record_id")
    assert first.loc["0145", "match_rule"] == "ambiguous_shared_identifier"
    shutil.copy(inc_path, full_path)
    tonight = records[records.source_record_id != "CRM_B"]
    tonight_keys = keys[keys.source_record_id != "CRM_B"]
    with connect(inc_path) as con:
        load(con, tonight, tonight_keys)
        night = resolve_night(con, model, as_of=NIGHT2)
        inc = placed(con)
    with connect(full_path) as con:
        load(con, tonight, tonight_keys)
        matching.run(con, model, as_of=NIGHT2)
        build_edges(con)
        unresolvable_records(con)
        clusters.resolve(con, NIGHT2)
        full = placed(con)
    assert night.mode == "incremental" and night.scope_records < 10
    pd.testing.assert_frame_equal(inc, full)
    after = inc.set_index("source_record_id")
    assert after.loc["0145", "customer_id"] == after.loc["CRM_A", "customer_id"] == first.loc["CRM_A", "customer_id"]


def _identity_tables(con) -> dict[str, pd.DataFrame]:
    """Every table of the identity schema, rows in a canonical order."""
    names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'identity' "
                                       "AND NOT temporary ORDER BY 1").fetchall()]
    return {n: con.execute(f"SELECT * FROM identity.{n} ORDER BY ALL").df() for n in names}


def test_a_night_killed_half_way_leaves_yesterdays_identity_untouched(tmp_path, model, monkeypatch):
    records, keys = generate(300)
    path, twin = tmp_path / "wh.duckdb", tmp_path / "twin.duckdb"
    with connect(path) as con:
        load(con, records, keys)
        resolve_night(con, model, as_of=NIGHT1)
        records2, keys2 = next_night(records, keys, placed(con), seed=3)
        load(con, records2, keys2)
        before = _identity_tables(con)
    shutil.copy(path, twin)

    # the failure strikes after record_clusters, the evidence and the id history were rewritten
    # and before the state that tells the next night what was placed
    def killed(*args, **kwargs):
        raise RuntimeError("killed half-way")

    with connect(path) as con:
        monkeypatch.setattr(clusters, "write_state", killed)
        with pytest.raises(RuntimeError, match="half-way"):
            resolve_night(con, model, as_of=NIGHT2)
        monkeypatch.undo()
        after = _identity_tables(con)
        assert after.keys() == before.keys() and len(before) >= 8
        for name, table in before.items():
            pd.testing.assert_frame_equal(after[name], table, obj=name)
        # the night re-run gives what a night that never failed gives
        night = resolve_night(con, model, as_of=NIGHT2)
        result = placed(con)
    with connect(twin) as con:
        expected = resolve_night(con, model, as_of=NIGHT2)
        pd.testing.assert_frame_equal(result, placed(con))
    assert night.mode == expected.mode == "incremental" and night.scope_records == expected.scope_records > 0
