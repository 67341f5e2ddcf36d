"""Whole-file faults and random rows: each file is loaded, quarantined row by row, or refused with
a reason naming it, and other silos still load. Nothing is lost: rows read = loaded + quarantined."""

import datetime as dt
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestration.ingestion.loader import load_entity
from orchestration.ingestion.specs import ENTITIES
from orchestration.warehouse import connect

SPEC = {e.name: e for e in ENTITIES}
STORES = SPEC["reference__stores"]
HEADER = ",".join(STORES.column_names)
GOOD = "S1,Lyon Part-Dieu,Lyon,69003,ARA,2019-03-01"
AS_OF = dt.date(2025, 1, 31)


@pytest.fixture()
def con(tmp_path):
    c = connect(tmp_path / "wh.duckdb")
    yield c
    c.close()


FAULTS = {
    "empty": b"",
    "header_only": (HEADER + "\n").encode(),
    "wrong_header": b"id,label\n1,x\n",
    "wrong_delimiter": (HEADER.replace(",", ";") + "\n" + GOOD.replace(",", ";") + "\n").encode(),
    "truncated_last_line": (HEADER + "\n" + GOOD + "\nS2,Nantes,Nan").encode(),
    "invalid_utf8": (HEADER + "\n" + GOOD + "\n").encode() + b"S3,Caf\xe9 \xff\xfe,Paris,75001,IDF,2020-01-01\n",
    "binary_garbage": bytes(range(256)) * 8,
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_faulty_file_never_stops_the_load_and_is_accounted_for(con, tmp_path, fault):
    root = tmp_path / "landing"
    bad = root / "reference" / "stores" / "2025-01-02.csv"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(FAULTS[fault])
    (root / "reference" / "stores" / "2025-01-03.csv").write_text(HEADER + "\nS9,Lille,Lille,59000,HDF,2018-01-01\n")
    result = load_entity(con, root, STORES, AS_OF, "run")
    log = {r[0]: r[1:] for r in con.execute(
        "SELECT file_path, status, rows_read, rows_loaded, rows_quarantined, message FROM audit.load_log").fetchall()}
    # the healthy file of the same entity still loads
    assert log["reference/stores/2025-01-03.csv"][:4] == ("loaded", 1, 1, 0)
    status, read, loaded, quarantined, message = log["reference/stores/2025-01-02.csv"]
    assert read == loaded + quarantined
    if status == "refused":
        assert message and any("2025-01-02.csv" in why for why in result.refused)
    else:
        assert status == "loaded"
    expected = {"empty": "refused", "header_only": "loaded", "wrong_header": "refused",
                "wrong_delimiter": "refused", "truncated_last_line": "loaded", "binary_garbage": "refused"}
    if fault in expected:
        assert status == expected[fault], message
    if fault == "truncated_last_line":
        assert (read, loaded, quarantined) == (2, 1, 1)
    # no refusal message quotes the file's content
    assert "Caf" not in (message or "") and "Lyon" not in (message or "")


cells = st.text(alphabet=string.ascii_letters + string.digits + " -:;éà\"", max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(cells, min_size=0, max_size=8), min_size=0, max_size=25))
def test_any_rows_are_loaded_or_quarantined_line_by_line(tmp_path_factory, rows):
    tmp = tmp_path_factory.mktemp("prop")
    root = tmp / "landing"
    path = root / "reference" / "stores" / "2025-01-02.csv"
    path.parent.mkdir(parents=True)
    lines = [",".join(c.replace("\n", " ") for c in row) for row in rows]
    path.write_text(HEADER + "\n" + "\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
    con = connect(tmp / "wh.duckdb")
    try:
        load_entity(con, root, STORES, AS_OF, "run")
        status, read, loaded, quarantined = con.execute(
            "SELECT status, rows_read, rows_loaded, rows_quarantined FROM audit.load_log").fetchall()[0]
        if status == "loaded":
            assert read == loaded + quarantined
            assert loaded == con.execute("SELECT count(*) FROM raw.reference__stores").fetchall()[0][0]
            assert quarantined == con.execute("SELECT count(*) FROM quarantine.rejected_rows").fetchall()[0][0]
            # every quarantined row points at a real data line of the file
            n_lines = len(lines) + 1
            assert all(2 <= line <= n_lines for (line,) in con.execute(
                "SELECT line FROM quarantine.rejected_rows").fetchall())
    finally:
        con.close()
