"""The independent sample-silo generator, checked against the data contract (shared/CONTRACT.md) only.

The contract's landing-zone table is typed in again here (not imported from the generator), so a
drift between the generator and the contract shows up as a failure."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.independent_silos import generate
from tests.independent_silos.__main__ import main as cli_main

START = date(2025, 1, 1)
DAYS = 30

CONTRACT = {
    ("crm", "customers"): ("csv", ("crm_id loyalty_card_id civility first_name last_name birth_date email phone "
                                  "address_line postcode city country household_size children_count occupation "
                                  "income_band acquisition_channel created_at updated_at consent_email "
                                  "consent_sms consent_post")),
    ("ecommerce", "accounts"): ("csv", ("account_id email first_name last_name phone birth_date address_line "
                                       "postcode city country loyalty_card_id created_at updated_at")),
    ("ecommerce", "orders"): ("jsonl", "order_id account_id guest_email ordered_at status currency shipping lines"),
    ("pos", "receipts"): ("csv", ("receipt_id store_id purchased_at loyalty_card_id line_no sku quantity "
                                 "unit_price discount_amount payment_method")),
    ("callcenter", "calls"): ("csv", "call_id called_at caller_phone crm_id reason outcome order_id duration_s"),
    ("esp", "campaigns"): ("csv", "campaign_id name channel objective sent_at offer_code holdout_share"),
    ("esp", "events"): ("csv", "event_id campaign_id recipient event_type occurred_at url"),
    ("web", "events"): ("jsonl", ("event_id anonymous_id account_id occurred_at event_type page_path utm_source "
                                 "utm_medium utm_campaign device")),
    ("forms", "signups"): ("csv", ("signup_id form_type submitted_at email first_name last_name postcode opt_in "
                                  "interests nps")),
    ("partners", "email_appends"): ("csv", "crm_id appended_email opt_in appended_at"),
    ("reference", "products"): ("csv", "sku name category brand unit_cost"),
    ("reference", "stores"): ("csv", "store_id name city postcode region opened_at"),
    ("privacy", "requests"): ("csv", "request_id requested_at request_type email phone crm_id"),
}
MAIN_TS = {("crm", "customers"): "updated_at", ("ecommerce", "accounts"): "updated_at",
           ("ecommerce", "orders"): "ordered_at", ("pos", "receipts"): "purchased_at",
           ("callcenter", "calls"): "called_at", ("esp", "campaigns"): "sent_at", ("esp", "events"): "occurred_at",
           ("web", "events"): "occurred_at", ("forms", "signups"): "submitted_at",
           ("partners", "email_appends"): "appended_at", ("privacy", "requests"): "requested_at"}
ENUMS = {("ecommerce", "orders"): {"status": "placed shipped delivered cancelled returned"},
         ("callcenter", "calls"): {"reason": "order_status complaint information quote_request cancellation",
                                   "outcome": "resolved escalated sale"},
         ("esp", "campaigns"): {"channel": "email sms",
                                "objective": "promotion newsletter reactivation welcome loyalty"},
         ("esp", "events"): {"event_type": "sent delivered open click bounce unsubscribe complaint held_out"},
         ("web", "events"): {"event_type": "page_view key_page_view search add_to_cart quote_started login "
                                           "newsletter_signup"},
         ("forms", "signups"): {"form_type": "newsletter contest survey"},
         ("privacy", "requests"): {"request_type": "erasure objection access"}}
BOOLS = {("crm", "customers"): ["consent_email", "consent_sms", "consent_post"],
         ("forms", "signups"): ["opt_in"], ("partners", "email_appends"): ["opt_in"]}
RECORD_SOURCE = {"crm": [(("crm", "customers"), "crm_id")],
                 "ecommerce": [(("ecommerce", "accounts"), "account_id"), (("ecommerce", "orders"), "order_id")],
                 "pos": [(("pos", "receipts"), "loyalty_card_id")],
                 "callcenter": [(("callcenter", "calls"), "caller_phone")],
                 "esp": [(("esp", "events"), "recipient")],
                 "web": [(("web", "events"), "anonymous_id")],
                 "forms": [(("forms", "signups"), "signup_id")],
                 "partners": [(("partners", "email_appends"), "crm_id")]}
PATH_RE = re.compile(r"^(?P<source>[a-z]+)/(?P<entity>[a-z_]+)/(?P<day>\d{4}-\d{2}-\d{2})\.(?P<ext>csv|jsonl)$")


# ---- reading the landing zone as a contract-following loader would ---------------------------
def _ts_ok(v) -> bool:
    if not isinstance(v, str) or not v:
        return False
    try:
        datetime.fromisoformat(v)
        return True
    except ValueError:
        return False


def _int_ok(v) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return True
    return isinstance(v, str) and re.fullmatch(r"-?\d+", v) is not None


def _num(v, comma: bool):
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    if not isinstance(v, str) or not v:
        return None
    if comma:
        if not re.fullmatch(r"-?\d+(,\d+)?", v):
            return None
        v = v.replace(",", ".")
    try:
        return float(v)
    except ValueError:
        return None


def problems(key, row) -> list[str]:
    """What makes a row quarantine-worthy under the contract (empty list: a valid row)."""
    out = []
    cols = CONTRACT[key][1].split()
    if row is None:
        return ["unparseable"]
    ident = row.get(cols[0])
    if ident in (None, ""):
        out.append("missing id")
    ts = MAIN_TS.get(key)
    if ts and not _ts_ok(row.get(ts)):
        out.append("bad timestamp")
    for col, allowed in ENUMS.get(key, {}).items():
        v = row.get(col)
        if v not in (None, "") and v not in allowed.split():
            out.append(f"enum {col}")
    if key == ("pos", "receipts"):
        if not row.get("sku"):
            out.append("sku")
        if not _int_ok(row.get("quantity")):
            out.append("quantity")
        p = _num(row.get("unit_price"), comma=True)
        if p is None or p < 0:
            out.append("unit_price")
    if key == ("ecommerce", "orders"):
        if row.get("currency") not in (None, "", "EUR"):
            out.append("currency")
        lines = row.get("lines")
        if not isinstance(lines, list) or not lines:
            out.append("lines")
        else:
            for ln in lines:
                if not ln.get("sku") or not _int_ok(ln.get("quantity")):
                    out.append("line sku/quantity")
                p = _num(ln.get("unit_price"), comma=False)
                if p is None or p < 0:
                    out.append("line unit_price")
    return out


def read_entity(landing: Path, key):
    """{relpath: [(line_no, row dict or None)]} for every file of an entity."""
    ext, cols = CONTRACT[key][0], CONTRACT[key][1].split()
    folder = landing / key[0] / key[1]
    out = {}
    for f in sorted(folder.glob(f"*.{ext}")):
        rel = f.relative_to(landing).as_posix()
        rows = []
        if ext == "csv":
            sep = ";" if key == ("pos", "receipts") else ","
            with f.open(encoding="utf-8", newline="") as fh:
                reader = csv.reader(fh, delimiter=sep)
                header = next(reader)
                assert header[: len(cols)] == cols, (rel, header)
                for i, rec in enumerate(reader, start=2):
                    rows.append((i, dict(zip(header, rec)) if len(rec) == len(header) else None))
        else:
            for i, line in enumerate(f.read_text(encoding="utf-8").split("\n")[:-1], start=1):
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError:
                    obj = None
                rows.append((i, obj if isinstance(obj, dict) else None))
        out[rel] = rows
    return out


def read_truth(out: Path, name: str) -> list[dict]:
    with (out / "truth" / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def gen(tmp_path_factory):
    out = tmp_path_factory.mktemp("isilos")
    counts = generate(out, persons=300, days=DAYS, start=START, seed=11)
    return out, counts


@pytest.fixture(scope="module")
def data(gen):
    out, _ = gen
    return {key: read_entity(out / "landing", key) for key in CONTRACT}


@pytest.fixture(scope="module")
def bad(gen):
    out, _ = gen
    return {(r["file"], int(r["line"])): r["reason"] for r in read_truth(out, "bad_rows.csv")}


# ---- tests --------------------------------------------------------------------------------------
def test_landing_paths_follow_the_contract(gen):
    out, counts = gen
    landing = out / "landing"
    files = [p.relative_to(landing).as_posix() for p in landing.rglob("*") if p.is_file()]
    assert files and len(files) == counts["files"]
    seen = set()
    for rel in files:
        m = PATH_RE.match(rel)
        assert m, rel
        key = (m["source"], m["entity"])
        assert key in CONTRACT, rel
        assert m["ext"] == CONTRACT[key][0], rel
        d = date.fromisoformat(m["day"])
        assert 0 <= (d - START).days < DAYS, rel
        seen.add(key)
    assert seen == set(CONTRACT)


def test_pos_uses_semicolons_and_decimal_comma(gen, data, bad):
    out, _ = gen
    for f in (out / "landing" / "pos" / "receipts").glob("*.csv"):
        assert f.read_text(encoding="utf-8").split("\n", 1)[0].startswith("receipt_id;store_id;purchased_at;")
    n = 0
    for rel, rows in data[("pos", "receipts")].items():
        for line, row in rows:
            if (rel, line) in bad:
                continue
            assert re.fullmatch(r"\d+,\d{2}", row["unit_price"]), row
            assert row["discount_amount"] == "" or re.fullmatch(r"\d+,\d{2}", row["discount_amount"]), row
            n += 1
    assert n > 0


def test_valid_rows_have_required_fields_and_bad_rows_are_exactly_the_invalid_ones(data, bad):
    flagged = set()
    total = 0
    for key, files in data.items():
        for rel, rows in files.items():
            for line, row in rows:
                total += 1
                if problems(key, row):
                    flagged.add((rel, line))
    listed = set(bad)
    assert listed, "traps=True must produce some bad rows"
    assert flagged - listed == set(), sorted(flagged - listed)[:5]
    # every listed bad row exists and is invalid under the contract
    assert listed - flagged == set(), sorted(listed - flagged)[:5]
    assert len(listed) < 0.1 * total


def test_bad_rows_cover_the_contract_reasons(gen):
    out, _ = gen
    reasons = " | ".join(r["reason"] for r in read_truth(out, "bad_rows.csv"))
    for needle in ("required field missing", "unparseable timestamp", "unknown enum", "negative price",
                   "unsupported currency", "bad quantity", "unparseable json", "wrong number of fields"):
        assert needle in reasons, needle


def test_truth_records_appear_in_their_silo(gen, data, bad):
    out, _ = gen
    present: dict[str, set] = defaultdict(set)
    for source, places in RECORD_SOURCE.items():
        for key, col in places:
            for rel, rows in data[key].items():
                for line, row in rows:
                    if (rel, line) in bad or row is None:
                        continue
                    if key == ("ecommerce", "orders") and row.get("account_id"):
                        continue    # only guest orders are ecommerce records of their own
                    v = row.get(col)
                    if v:
                        present[source].add(v)
    records = read_truth(out, "records.csv")
    assert records
    persons = {r["person_id"] for r in read_truth(out, "persons.csv")}
    for r in records:
        assert r["source"] in RECORD_SOURCE, r
        assert r["source_record_id"] in present[r["source"]], r
        assert r["person_id"] == "" or r["person_id"] in persons, r
    # a record several persons produced has one row per person, junk has an empty person
    per = defaultdict(set)
    for r in records:
        per[(r["source"], r["source_record_id"])].add(r["person_id"])
    assert any("" in v for v in per.values())
    assert any(len(v) > 1 for v in per.values())
    assert {r["source"] for r in records} >= {"crm", "ecommerce", "pos", "esp", "web", "forms"}


def test_truth_files_are_consistent(gen, data):
    out, counts = gen
    persons = read_truth(out, "persons.csv")
    assert len(persons) == counts["persons"] == 300
    assert list(persons[0]) == ["person_id", "household_id", "first_name", "last_name", "birth_date", "sex",
                                "emails", "phones", "address_line", "postcode", "city", "twin_of",
                                "consent_email", "consent_sms"]
    ids = {p["person_id"] for p in persons}
    for p in persons:
        for ph in filter(None, p["phones"].split("|")):
            assert re.fullmatch(r"\+33\d{9}", ph), ph
        assert p["twin_of"] == "" or p["twin_of"] in ids
    purchases = read_truth(out, "purchases.csv")
    assert purchases and {"purchase_id", "channel", "person_id", "household_id", "local_date", "net_amount",
                          "counts"} <= set(purchases[0])
    web_ids = {row["order_id"] for rows in data[("ecommerce", "orders")].values() for _l, row in rows if row}
    pos_ids = {row["receipt_id"] for rows in data[("pos", "receipts")].values() for _l, row in rows if row}
    for x in purchases:
        assert x["channel"] in ("web", "store")
        assert x["purchase_id"] in (web_ids if x["channel"] == "web" else pos_ids), x
        assert x["person_id"] == "" or x["person_id"] in ids
        assert x["counts"] in ("true", "false")
        float(x["net_amount"])
    privacy = read_truth(out, "privacy.csv")
    req_ids = {row["request_id"] for rows in data[("privacy", "requests")].values() for _l, row in rows if row}
    assert privacy and all(p["request_id"] in req_ids for p in privacy)
    assert all(p["request_type"] in ("erasure", "objection", "access") for p in privacy)


def test_contract_valid_oddities_are_present(gen, data, bad):
    out, _ = gen
    crm = [row for rows in data[("crm", "customers")].values() for _l, row in rows if row]
    consents = {row["consent_email"] for row in crm}
    assert "" in consents and ({"1", "0"} & consents) and ({"true", "false"} & consents)
    assert any(row["household_size"] == "40" for row in crm)
    assert any(row["birth_date"].startswith("1890-") for row in crm)
    stamps = [row["updated_at"] for row in crm]
    assert any(re.search(r"[+-]\d\d:\d\d$", s) for s in stamps) and any(" " in s for s in stamps)
    landing = out / "landing"
    headers = [f.read_text(encoding="utf-8").split("\n", 1)[0] for f in (landing / "crm" / "customers").glob("*")]
    assert any(h.endswith(",source_system") for h in headers)   # an extra, unknown column
    assert any(len(f.read_text(encoding="utf-8").strip().split("\n")) == 1
               for f in landing.rglob("*.csv"))                 # header-only files
    events = [row for rows in data[("esp", "events")].values() for _l, row in rows if row]
    assert any(e["event_type"] == "held_out" for e in events)
    camps = [row for rows in data[("esp", "campaigns")].values() for _l, row in rows if row]
    assert any(c["holdout_share"] for c in camps)
    recips = {e["recipient"] for e in events}
    assert any("@" in r for r in recips) and any(re.fullmatch(r"[+\d ]+", r) for r in recips)
    calls_raw = next((landing / "callcenter" / "calls").glob("*.csv")).read_bytes()
    assert b"\r\n" in calls_raw                                 # Windows line endings, still CSV


def test_no_file_holds_a_fact_after_its_export_day(data, bad):
    """DATAMART_AS_OF=D reads files dated D or earlier: a file never holds a later timestamp. Older
    ones only where the contract's semantics make them normal: the initial CRM/account extracts
    (first day), a status change of an older order, a store that synced late, a stale CRM re-send."""
    paris = ZoneInfo("Europe/Paris")
    older = defaultdict(int)
    for key, ts_col in MAIN_TS.items():
        for rel, rows in data[key].items():
            file_day = date.fromisoformat(rel.rsplit("/", 1)[1].split(".")[0])
            for line, row in rows:
                if (rel, line) in bad:
                    continue
                t = datetime.fromisoformat(row[ts_col])
                local = (t.astimezone(paris) if t.tzinfo else t).date()
                assert local <= file_day, (rel, line, row[ts_col])
                if local < file_day:
                    first = file_day == START
                    older[(key, first)] += 1
                    if key == ("pos", "receipts"):
                        assert (file_day - local).days <= 3, (rel, line)
    allowed = {(("crm", "customers"), True), (("ecommerce", "accounts"), True), (("ecommerce", "orders"), False),
               (("pos", "receipts"), False), (("crm", "customers"), False)}
    assert set(older) <= allowed, dict(older)
    assert older.get((("crm", "customers"), False), 0) <= 3


def test_deterministic_for_a_seed(tmp_path):
    def digest(root: Path) -> str:
        h = hashlib.sha256()
        for f in sorted(root.rglob("*")):
            if f.is_file():
                h.update(f.relative_to(root).as_posix().encode())
                h.update(f.read_bytes())
        return h.hexdigest()

    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, persons=200, days=20, start=START, seed=3)
    generate(b, persons=200, days=20, start=START, seed=3)
    generate(c, persons=200, days=20, start=START, seed=4)
    assert digest(a) == digest(b)
    assert digest(a) != digest(c)


def test_common_names_collide_and_households_share(tmp_path):
    generate(tmp_path, persons=2000, days=10, start=START, seed=7)
    persons = read_truth(tmp_path, "persons.csv")
    triples = defaultdict(set)
    for p in persons:
        triples[(p["first_name"], p["last_name"], p["city"])].add(p["person_id"])
    assert any(len(v) >= 2 for v in triples.values())
    by_hh = defaultdict(list)
    for p in persons:
        by_hh[p["household_id"]].append(p)

    def shared(field: str) -> int:
        n = 0
        for members in by_hh.values():
            cnt = defaultdict(int)
            for p in members:
                for v in set(filter(None, p[field].split("|"))):
                    cnt[v] += 1
            n += any(c >= 2 for c in cnt.values())
        return n

    assert shared("phones") > 10       # household landlines
    assert shared("emails") > 10       # family inboxes, a spouse's address
    assert sum(1 for p in persons if p["twin_of"]) >= 2


def test_no_traps_means_no_bad_rows(tmp_path):
    generate(tmp_path, persons=150, days=10, start=START, seed=5, traps=False)
    assert read_truth(tmp_path, "bad_rows.csv") == []
    for key in CONTRACT:
        for rows in read_entity(tmp_path / "landing", key).values():
            for _line, row in rows:
                assert not problems(key, row), (key, row)


def test_cli(tmp_path, capsys):
    assert cli_main(["--out", str(tmp_path), "--persons", "50", "--days", "5", "--start", "2025-03-28",
                     "--seed", "2", "--no-traps"]) == 0
    counts = json.loads(capsys.readouterr().out)
    assert counts["persons"] == 50 and counts["bad_rows"] == 0
    assert (tmp_path / "truth" / "records.csv").exists()
