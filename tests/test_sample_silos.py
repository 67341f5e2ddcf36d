"""The sample generator: contract layout, realistic mess, planted bad rows, determinism."""

import csv
import datetime as dt
import hashlib
import json
import re

import pandas as pd
import pytest

from orchestration.ingestion.specs import ENTITIES
from orchestration.sample_silos import generate


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    root = tmp_path_factory.mktemp("gen")
    summary = generate(root / "landing", customers=300, days=60, start=dt.date(2025, 3, 1), seed=3)
    return root / "landing", root / "landing_truth", summary


def digest(folder):
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*.*")):
        h.update(str(p.relative_to(folder)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def test_every_entity_is_written_per_day_with_the_contract_header(small):
    landing, _, _ = small
    for spec in ENTITIES:
        files = sorted((landing / spec.source / spec.entity).glob(f"*.{spec.ext}"))
        assert files, f"no files for {spec.name}"
        assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}\.(csv|jsonl)", f.name) for f in files)
        if spec.fmt == "csv":
            with files[0].open(encoding="utf-8") as fh:
                header = next(csv.reader(fh, delimiter=spec.delimiter))
            # the contract's columns in its order; a column it calls optional may be left out
            assert header == [f.name for f in spec.fields if f.name in header or not f.may_be_absent]


def test_same_seed_same_bytes(small, tmp_path):
    landing, _, _ = small
    generate(tmp_path / "again", customers=300, days=60, start=dt.date(2025, 3, 1), seed=3)
    assert digest(tmp_path / "again") == digest(landing)


def test_planted_bad_rows_are_really_bad_and_about_half_a_percent(small):
    landing, truth, summary = small
    bad = pd.read_parquet(truth / "bad_rows.parquet")
    total = sum(summary["rows"].values())
    assert 0.002 < len(bad) / total < 0.015
    assert set(bad["kind"]) >= {"unparseable", "missing_required", "bad_type", "unknown_enum", "negative_price"}
    for row in bad[bad["file_path"].str.endswith(".jsonl")].itertuples():
        line = (landing / row.file_path).read_text(encoding="utf-8").splitlines()[row.line - 1]
        if row.kind == "unparseable":
            with pytest.raises(json.JSONDecodeError):
                json.loads(line)
        elif row.kind == "missing_required":
            first_key = next(iter(json.loads(line)))
            assert json.loads(line)[first_key] in ("", None)


def test_mess_people_type(small):
    landing, truth, _ = small
    calls = pd.concat(pd.read_csv(p, dtype=str) for p in (landing / "callcenter" / "calls").glob("*.csv"))
    crm = pd.concat(pd.read_csv(p, dtype=str) for p in (landing / "crm" / "customers").glob("*.csv"))
    # a small landing zone has a handful of calls: look at the CRM's phones too
    phones = pd.concat([calls["caller_phone"], crm["phone"]]).dropna()
    shapes = {re.sub(r"\d", "9", x) for x in phones}
    assert len(shapes) >= 5  # seven phone formats in the wild
    assert crm["address_line"].str.contains(r"\bav\.|\bbd\b", regex=True).any()
    emails = pd.concat(pd.read_csv(p, dtype=str) for p in (landing / "ecommerce" / "accounts").glob("*.csv"))["email"]
    assert emails.dropna().str.contains(r"\+").any() and emails.dropna().str.contains(r"[A-Z]").any()
    persons = pd.read_parquet(truth / "persons.parquet")
    assert (persons.groupby("household_id").size() > 1).any()
    identity = pd.read_parquet(truth / "identity.parquet")
    assert identity["shared"].any()  # household landlines and family inboxes


def test_cookies_log_in_later(small):
    landing, _, _ = small
    rows = []
    for p in (landing / "web" / "events").glob("*.jsonl"):
        for line in p.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a planted unparseable line
    web = pd.DataFrame(rows)
    per_cookie = web.groupby("anonymous_id")["account_id"].agg(lambda s: (s.isna().any(), s.notna().any()))
    assert any(a and b for a, b in per_cookie)


def test_past_buyers_buy_again(tmp_path):
    generate(tmp_path / "l", customers=1000, days=240, start=dt.date(2025, 1, 1), seed=5, truth_out=tmp_path / "t")
    lines = pd.read_parquet(tmp_path / "t" / "order_lines.parquet").dropna(subset=["person_id"])
    cut = dt.date(2025, 5, 31)
    past = lines[lines["local_date"] <= cut].groupby("person_id")["order_id"].nunique()
    later = set(lines.loc[lines["local_date"] > cut, "person_id"])
    frequent = past[past >= 2].index
    once = past[past == 1].index
    rate = lambda ids: sum(p in later for p in ids) / max(1, len(ids))
    assert rate(frequent) > rate(once)


def test_a_small_zone_without_store_returns_is_generated(tmp_path):
    """150 customers x 90 days with seed 11 plant no store return: generation used to crash."""
    summary = generate(tmp_path / "l", customers=150, days=90, start=dt.date(2025, 1, 1), seed=11)
    assert summary["persons"] == 150
    with open(next((tmp_path / "l" / "pos" / "receipts").glob("*.csv")), encoding="utf-8") as f:
        assert next(csv.reader(f, delimiter=";"))[0] == "receipt_id"
