"""The loader, on hand-written landing files: accounting, quarantine reasons, reloads."""

import datetime as dt
import os
from pathlib import Path

import pytest

from orchestration.ingestion.loader import load_entity
from orchestration.ingestion.specs import ENTITIES
from orchestration.warehouse import connect

SPEC = {e.name: e for e in ENTITIES}
AS_OF = dt.date(2025, 1, 31)

RECEIPTS_HEADER = "receipt_id;store_id;purchased_at;loyalty_card_id;line_no;sku;quantity;unit_price;discount_amount;payment_method"
RECEIPTS = [
    "R1;S1;2025-01-02 10:00:00;L1;1;SKU1;2;12,50;0;card",      # 2 ok
    "R1;S1;2025-01-02 10:00:00;L1;2;SKU2;-1;3,00;;card",       # 3 ok: a return
    "R2;S1;2025-01-02T10:00:00Z;;1;SKU1;x;1,0;;cash",           # 4 quantity not int
    "",                                                         # 5 blank line: not a row
    "R3;S1;2025-01-02 11:00:00;;1;SKU1;1",                      # 6 too few fields
    "R4;S1;2025-01-02 11:00:00;;1;SKU1;1;-4,00;;cash",          # 7 negative price
    ";S1;2025-01-02 11:00:00;;1;SKU1;1;4,00;;cash",             # 8 missing id
    "R5;S1;2025-01-02 12:00:00;;1;SKU1;1;4,00;;cash",           # 9 ok
]
ORDERS = [
    ('{"order_id":"O1","account_id":"A1","ordered_at":"2025-01-02T10:00:00","status":"placed","currency":"EUR",'
     '"shipping":{"city":"Paris"},"lines":[{"sku":"S","quantity":1,"unit_price":10.5,"discount":0}]}'),
    '{"order_id":"O2",broken',
    '{"order_id":"O3","ordered_at":"2025-01-02T10:00:00","status":"lost","lines":[{"sku":"S","quantity":1,"unit_price":1}]}',
    '{"order_id":"O4","ordered_at":"2025-01-02T10:00:00","status":"placed","currency":"USD","lines":[{"sku":"S","quantity":1,"unit_price":1}]}',
    '{"order_id":"O5","ordered_at":"2025-01-02T10:00:00","status":"placed","lines":[{"sku":"S","quantity":"abc","unit_price":1}]}',
    '{"order_id":"O6","ordered_at":"2025-01-02T23:30:00+00:00","status":"placed","lines":[{"sku":"S","quantity":2,"unit_price":3}]}',
]


def write(root: Path, rel: str, lines: list[str]) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture()
def landing(tmp_path):
    root = tmp_path / "landing"
    write(root, "pos/receipts/2025-01-02.csv", [RECEIPTS_HEADER, *RECEIPTS])
    write(root, "ecommerce/orders/2025-01-02.jsonl", ORDERS)
    return root


@pytest.fixture()
def con(tmp_path):
    c = connect(tmp_path / "wh.duckdb")
    yield c
    c.close()


def quarantine(con, path):
    return dict(con.execute("SELECT line, reason FROM quarantine.rejected_rows WHERE file_path = ? ORDER BY line",
                            [path]).fetchall())


def test_csv_rows_are_loaded_or_quarantined_with_physical_line_and_reason(con, landing):
    r = load_entity(con, landing, SPEC["pos__receipts"], AS_OF, "run1")
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (7, 3, 4)
    assert quarantine(con, "pos/receipts/2025-01-02.csv") == {
        4: "bad_type: quantity is not int",
        6: "unparseable: missing columns",
        7: "negative_price: unit_price",
        8: "missing_required: receipt_id",
    }
    rows = con.execute("SELECT receipt_id, line_no, quantity, unit_price, _line FROM raw.pos__receipts ORDER BY _line").fetchall()
    assert [(r[0], r[2], float(r[3]), r[4]) for r in rows] == [
        ("R1", 2, 12.5, 2), ("R1", -1, 3.0, 3), ("R5", 1, 4.0, 9)]  # decimal comma read right


def test_jsonl_rows_and_paris_time(con, landing):
    r = load_entity(con, landing, SPEC["ecommerce__orders"], AS_OF, "run1")
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (6, 2, 4)
    assert quarantine(con, "ecommerce/orders/2025-01-02.jsonl") == {
        2: "unparseable: invalid JSON object",
        3: "unknown_enum: status",
        4: "unsupported_currency: currency",
        5: "bad_type: lines.quantity is not int",
    }
    # 23:30 UTC in January is 00:30 the next day in Paris: the fact belongs to Jan 3rd
    ts = con.execute("SELECT ordered_at FROM raw.ecommerce__orders WHERE order_id = 'O6'").fetchone()[0]
    assert ts == dt.datetime(2025, 1, 3, 0, 30)


def test_jsonl_blank_lines_are_no_rows_but_count_as_lines(con, tmp_path):
    write(tmp_path, "ecommerce/orders/2025-01-03.jsonl", [
        ORDERS[0], "", "   ", ' [1, 2]', ORDERS[5].replace("O6", "O7"), "\r"])
    r = load_entity(con, tmp_path, SPEC["ecommerce__orders"], AS_OF, "run1")
    assert (r.rows_read, r.rows_loaded, r.rows_quarantined) == (3, 2, 1)
    assert quarantine(con, "ecommerce/orders/2025-01-03.jsonl") == {4: "unparseable: invalid JSON object"}
    assert con.execute("SELECT order_id, _line FROM raw.ecommerce__orders ORDER BY _line").fetchall() == [
        ("O1", 1), ("O7", 5)]


def test_load_log_accounts_for_every_row_and_a_reload_changes_nothing(con, landing):
    load_entity(con, landing, SPEC["pos__receipts"], AS_OF, "run1")
    again = load_entity(con, landing, SPEC["pos__receipts"], AS_OF, "run2")
    assert again.files_loaded == 0 and again.files_skipped == 1
    # touching the file without changing it is not a change either
    os.utime(landing / "pos/receipts/2025-01-02.csv")
    assert load_entity(con, landing, SPEC["pos__receipts"], AS_OF, "run3").files_loaded == 0
    log = con.execute("SELECT file_path, rows_read, rows_loaded, rows_quarantined FROM audit.load_log").fetchall()
    assert log == [("pos/receipts/2025-01-02.csv", 7, 3, 4)]
    assert con.execute("SELECT count(*) FROM raw.pos__receipts").fetchone()[0] == 3


def test_a_file_recorded_by_an_earlier_version_is_still_recognised_when_touched(con, landing):
    """Warehouses loaded before the switch to SHA-256 hold BLAKE2b-128 digests in audit.load_log."""
    import hashlib

    path = landing / "pos/receipts/2025-01-02.csv"
    load_entity(con, landing, SPEC["pos__receipts"], AS_OF, "run1")
    con.execute("UPDATE audit.load_log SET file_hash = ?", [hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()])
    os.utime(path)
    assert load_entity(con, landing, SPEC["pos__receipts"], AS_OF, "run2").files_loaded == 0
    write(landing, "pos/receipts/2025-01-02.csv", [RECEIPTS_HEADER, RECEIPTS[0]])
    assert load_entity(con, landing, SPEC["pos__receipts"], AS_OF, "run3").files_reloaded == 1
    assert len(con.execute("SELECT file_hash FROM audit.load_log WHERE load_id = 'run3'").fetchone()[0]) == 64


def test_changed_file_replaces_what_it_delivered(con, landing):
    load_entity(con, landing, SPEC["pos__receipts"], AS_OF, "run1")
    write(landing, "pos/receipts/2025-01-02.csv", [RECEIPTS_HEADER, RECEIPTS[0], RECEIPTS[-1]])
    r = load_entity(con, landing, SPEC["pos__receipts"], AS_OF, "run2")
    assert (r.files_reloaded, r.rows_loaded, r.rows_quarantined) == (1, 2, 0)
    assert con.execute("SELECT count(*) FROM raw.pos__receipts").fetchone()[0] == 2
    assert con.execute("SELECT count(*) FROM quarantine.rejected_rows").fetchone()[0] == 0
    latest = con.execute("""SELECT rows_read, rows_loaded FROM audit.load_log
                            ORDER BY loaded_at DESC, load_id DESC LIMIT 1""").fetchone()
    assert latest == (2, 2)


def test_missing_silo_future_files_and_bad_headers(con, tmp_path):
    root = tmp_path / "landing"
    assert load_entity(con, root, SPEC["crm__customers"], AS_OF, "r").files_seen == 0  # no folder: normal
    write(root, "pos/receipts/2025-02-01.csv", [RECEIPTS_HEADER, RECEIPTS[0]])  # after the night: later
    write(root, "pos/receipts/2025-01-03.csv", ["receipt_id;store_id", "R1;S1"])  # wrong header
    write(root, "pos/receipts/2025-01-04.csv", [RECEIPTS_HEADER])  # header only: 0 rows, normal
    r = load_entity(con, root, SPEC["pos__receipts"], AS_OF, "r")
    assert r.files_seen == 2 and r.files_refused == 1 and r.files_loaded == 1
    assert any("2025-01-03.csv: header lacks columns" in why for why in r.refused)
    log = dict(con.execute("SELECT file_path, status FROM audit.load_log").fetchall())
    assert log == {"pos/receipts/2025-01-03.csv": "refused", "pos/receipts/2025-01-04.csv": "loaded"}


def test_extra_columns_are_kept_in_raw(con, tmp_path):
    root = tmp_path / "landing"
    write(root, "reference/stores/2025-01-01.csv",
          ["store_id,name,city,postcode,region,opened_at,manager", "S1,Lyon Part-Dieu,Lyon,69003,ARA,2019-03-01,X"])
    load_entity(con, root, SPEC["reference__stores"], AS_OF, "r")
    assert con.execute("SELECT manager, opened_at FROM raw.reference__stores").fetchone() == ("X", dt.date(2019, 3, 1))


def test_optional_values_that_do_not_parse_load_as_null(con, tmp_path):
    root = tmp_path / "landing"
    write(root, "forms/signups/2025-01-05.csv", [
        "signup_id,form_type,submitted_at,email,first_name,last_name,postcode,opt_in,interests,nps",
        "F1,survey,2025-01-05 10:00:00,a@b.fr,Ann,Lee,75001,1,console:ps5,dix",
    ])
    r = load_entity(con, root, SPEC["forms__signups"], AS_OF, "r")
    assert r.rows_loaded == 1
    assert con.execute("SELECT nps, opt_in FROM raw.forms__signups").fetchone() == (None, True)


def test_a_ten_times_bigger_file_loads_but_is_flagged_and_a_future_file_waits_with_a_warning(con, tmp_path):
    spec = next(e for e in ENTITIES if e.name == "callcenter__calls")
    header = ",".join(spec.column_names)

    def calls(day, n):
        write(tmp_path, f"callcenter/calls/{day}.csv",
              [header, *(f"K{day:%m%d}{i:05d},{day}T10:00:00,0612345678,,information,resolved,,60" for i in range(n))])

    first = dt.date(2025, 3, 1)
    for k in range(6):
        calls(first + dt.timedelta(days=k), 20)
    assert load_entity(con, tmp_path, spec, as_of=first + dt.timedelta(days=5), load_id="earlier").warnings == []
    big = first + dt.timedelta(days=6)
    calls(big, 300)
    future = dt.date.today() + dt.timedelta(days=30)
    calls(future, 20)
    r = load_entity(con, tmp_path, spec, as_of=dt.date.today(), load_id="night")
    assert r.files_refused == 0 and r.rows_loaded == 300, "the big file is loaded; the future one waits"
    assert [w for w in r.warnings if w.startswith(f"callcenter/calls/{big}.csv: 300 rows, 15x the usual 20")]
    assert [w for w in r.warnings if w.startswith(f"callcenter/calls/{future}.csv: dated after today")]
    assert len(r.warnings) == 2


def test_every_row_of_large_files_keeps_its_physical_line(con, tmp_path):
    """A batch of files of the sizes a night delivers (a few rows to 72,000), with bad rows, enum
    rules and parser rejects in them: each loaded row's `_line` is the line it was read from (here
    written into its id), and raw plus quarantine hold every line exactly once."""
    spec = SPEC["esp__events"]
    sizes = [50, 72_000, 7_000, 70, 72_000, 7_000, 38_000, 4_000, 20, 72_000, 7_000, 72_000, 600, 40]
    for day, n in enumerate(sizes, start=1):
        lines = [",".join(spec.column_names)]
        for i in range(2, n + 2):  # physical line i
            kind = ("bogus" if i % 997 == 0 else "open")
            stamp = f"2025-01-{day:02d}T10:00:00" if i % 1009 else "not a time"
            lines.append(f"E{i},C1,p{i}@x.fr,{kind},{stamp}," + (",too,many" if i % 4999 == 0 else ""))
        write(tmp_path, f"esp/events/2025-01-{day:02d}.csv", lines)
    total = sum(sizes)
    r = load_entity(con, tmp_path, spec, AS_OF, "run")
    assert r.rows_read == total and r.rows_quarantined > 0
    wrong = con.execute("SELECT count(*) FROM raw.esp__events WHERE event_id <> 'E' || _line").fetchone()[0]
    assert wrong == 0, "a loaded row is attributed to another line"
    lines = con.execute("""
        SELECT count(*), count(DISTINCT (f, l)) FROM (
            SELECT _file_path AS f, _line AS l FROM raw.esp__events
            UNION ALL SELECT file_path, line FROM quarantine.rejected_rows)""").fetchone()
    assert lines == (total, total)
    reasons = dict(con.execute("SELECT reason, count(*) FROM quarantine.rejected_rows GROUP BY ALL").fetchall())
    assert set(reasons) >= {"unknown_enum: event_type", "bad_type: occurred_at is not timestamp"}
    assert any(k.startswith("unparseable") for k in reasons)


def test_rows_out_of_scan_order_stop_the_load_instead_of_getting_wrong_lines(con):
    """Line numbers come from the order rows left the scan in; if a file's rows are interleaved
    with another's (a plan that does not keep the order), the batch stops with a clear error."""
    from orchestration.ingestion.loader import ScanOrderError, _ordinal

    con.execute("CREATE TEMP TABLE _kept AS SELECT (i // 3)::UBIGINT AS _fi FROM range(9) t(i)")
    assert con.execute(f"SELECT _fi, _ord FROM {_ordinal(con, '_kept')} ORDER BY _rid").fetchall() == [
        (fi, k) for fi in range(3) for k in (1, 2, 3)]
    con.execute("CREATE TEMP TABLE _mixed AS SELECT (i % 3)::UBIGINT AS _fi FROM range(9) t(i)")
    with pytest.raises(ScanOrderError):
        _ordinal(con, "_mixed")
