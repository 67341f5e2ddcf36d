"""GDPR erasure through every layer and every later night: no erased person's data left in any
text column of the published datamart or of the working warehouse (raw, quarantine, staging,
identity), while their purchases stay as anonymous facts."""

import csv
import datetime as dt
import shutil

import pandas as pd
import pytest

from orchestration.ingestion.specs import ENTITIES
from orchestration.normalization import to_e164
from orchestration.warehouse import open_warehouse

from .conftest import E2E_AS_OF, DatamartEnv

pytestmark = pytest.mark.e2e
SPEC = {e.name: e for e in ENTITIES}


def _erased_people(landing) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(erased persons, everybody else) from the generator's truth and the landing zone's requests."""
    landing_dir, truth_dir = landing
    persons = pd.read_parquet(truth_dir / "persons.parquet")
    identity = pd.read_parquet(truth_dir / "identity.parquet")
    requests = pd.concat([pd.read_csv(p, dtype=str) for p in (landing_dir / "privacy" / "requests").glob("*.csv")])
    erasures = requests[requests["request_type"] == "erasure"]
    by_email = persons[persons["email"].str.lower().isin(erasures["email"].dropna().str.lower())]["person_id"]
    by_crm = identity[(identity["source"] == "crm") & identity["source_record_id"].isin(erasures["crm_id"].dropna())
                      ]["person_id"]
    digits = persons["phone"].fillna("").str.replace(r"\D", "", regex=True).str[-9:]
    asked = erasures["phone"].dropna().str.replace(r"\D", "", regex=True).str[-9:]
    by_phone = persons[(digits != "") & digits.isin(asked)]["person_id"]
    erased_ids = set(by_email) | set(by_crm) | set(by_phone)
    assert erased_ids, "the generated landing zone holds no erasure request"
    return persons[persons["person_id"].isin(erased_ids)], persons[~persons["person_id"].isin(erased_ids)]


def _needles(erased: pd.DataFrame, others: pd.DataFrame) -> tuple[set[str], set[str], set[tuple[str, str]]]:
    """E-mails, phone digit strings and (first, last) names that belong to erased people only."""
    other_emails = set(others["email"].dropna().str.lower())
    other_phones = set(others["phone"].dropna())
    other_names = set(zip(others["first_name"].str.lower(), others["last_name"].str.lower()))
    emails = {e.lower() for e in erased["email"].dropna()} - other_emails
    phones = set()
    for p in set(erased["phone"].dropna()) - other_phones:
        national = "".join(ch for ch in p if ch.isdigit())
        phones |= {national, "33" + national[1:], "0033" + national[1:]}
    names = {(f.lower(), l.lower()) for f, l in zip(erased["first_name"], erased["last_name"])} - other_names
    return emails, phones, names


def scan(path, emails, phones, names) -> dict[str, int]:
    """{schema.table.column: hits} over every column of a DuckDB file, whatever its type (a phone
    kept as a number, a date, a list is cast to text), or of every Parquet file below a folder."""
    hits: dict[str, int] = {}
    with open_warehouse(path, read_only=True) if path.suffix == ".duckdb" else _parquet_views(path) as con:
        con.execute("CREATE TEMP TABLE needle_emails (v VARCHAR)")
        if emails:
            con.executemany("INSERT INTO needle_emails VALUES (?)", [[e] for e in emails])
        con.execute("CREATE TEMP TABLE needle_phones (v VARCHAR)")
        if phones:
            con.executemany("INSERT INTO needle_phones VALUES (?)", [[p] for p in phones])
        columns = con.execute("""SELECT table_schema, table_name, column_name FROM information_schema.columns
                                 WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
                                   AND table_catalog = current_database()""").fetchall()
        for schema, table, column in columns:
            col = f'"{column}"::VARCHAR'
            n = con.execute(f"""
                SELECT count(*) FROM {schema}."{table}" t WHERE {col} IS NOT NULL AND (
                    EXISTS (SELECT 1 FROM needle_emails e WHERE contains(lower({col}), e.v))
                    OR regexp_replace({col}, '[^0-9]', '', 'g') IN (SELECT v FROM needle_phones))""").fetchall()[0][0]
            if n:
                hits[f"{schema}.{table}.{column}"] = n
        tables = {(s, t) for s, t, _ in columns}
        for schema, table in tables:
            cols = {c for s, t, c in columns if (s, t) == (schema, table)}
            if {"first_name", "last_name"} <= cols and names:
                pairs = " OR ".join(f"(lower(first_name) = '{f}' AND lower(last_name) = '{last}')"
                                    for f, last in ((f.replace("'", "''"), n.replace("'", "''")) for f, n in names))
                n = con.execute(f'SELECT count(*) FROM {schema}."{table}" WHERE {pairs}').fetchall()[0][0]
                if n:
                    hits[f"{schema}.{table}.(first_name, last_name)"] = n
    return hits


def _parquet_views(folder):
    """An in-memory DuckDB with a view per Parquet file of `folder` (the BI export)."""
    import duckdb

    con = duckdb.connect()
    files = sorted(folder.rglob("*.parquet"))
    assert files, f"no Parquet export in {folder}"
    for f in files:
        con.execute(f"CREATE VIEW \"{f.stem}\" AS SELECT * FROM read_parquet('{f}')")
    return con


def test_erased_people_leave_no_trace_in_any_column(refreshed, landing):
    erased, others = _erased_people(landing)
    needles = _needles(erased, others)
    assert needles[0] or needles[1]  # there is something to look for
    # the scan does find them where they are allowed to be: their erasure requests' own lines
    # were blanked, but a person who was not erased is found in the published file
    kept = _needles(others.head(50), erased)
    assert scan(refreshed.published_path, *kept), "the scan finds nobody at all: it proves nothing"
    for path in (refreshed.published_path, refreshed.warehouse_path, refreshed.home / "parquet"):
        assert scan(path, *needles) == {}, f"erased personal data found in {path.name}"


def test_the_erased_persons_purchases_stay_as_anonymous_facts(refreshed, landing):
    erased, _ = _erased_people(landing)
    truth = pd.read_parquet(landing[1] / "order_lines.parquet")
    theirs = truth[truth["person_id"].isin(erased["person_id"])]
    assert len(theirs), "the generator gives the first erasure to a buyer"
    with open_warehouse(refreshed.published_path, read_only=True) as con:
        con.register("theirs", theirs[["order_id", "line_no"]])
        kept, with_personal_data = con.execute("""
            SELECT count(*), count(d.first_name) + count(d.email) + count(d.phone) + count(d.birth_date)
            FROM marts.fct_order_lines f JOIN theirs t USING (order_id, line_no)
            LEFT JOIN marts.dim_customer d USING (customer_id)""").fetchall()[0]
    assert kept == len(theirs), "the erased person's order lines must stay"
    assert with_personal_data == 0, "their order lines still lead to personal data"


def _append(landing_dir, entity: str, day: dt.date, *rows: dict) -> None:
    spec = SPEC[entity]
    source, name = entity.split("__")
    path = landing_dir / source / name / f"{day.isoformat()}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    delimiter = ";" if entity == "pos__receipts" else ","
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=spec.column_names, delimiter=delimiter, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _person_in_quarantine(path, others: pd.DataFrame) -> pd.DataFrame:
    """One person not erased whose own e-mail is in a line quarantined before tonight."""
    with open_warehouse(path, read_only=True) as con:
        con.register("people", others[["person_id", "email"]].dropna())
        found = con.execute("""SELECT p.person_id FROM people p JOIN quarantine.rejected_rows q
                               ON q.record IS NOT NULL AND contains(lower(q.record), lower(p.email))
                               WHERE (SELECT count(*) FROM people o WHERE lower(o.email) = lower(p.email)) = 1
                               ORDER BY 1 LIMIT 1""").fetchall()
    assert found, "the generated quarantine holds no line with a person's e-mail"
    return others[others["person_id"] == found[0][0]]


def test_a_later_night_resending_the_person_is_erased_too(refreshed, landing, tmp_path):
    """A silo sends the erased person again the next night: their data is erased again. The same
    night, another person asks for erasure (by e-mail and phone): lines quarantined on earlier
    nights that hold their e-mail are blanked. And someone texted on a number the numbering plan
    rejects (no E.164 key) asks for erasure typing it another way: their messages are erased too."""
    from orchestration.cli import run_refresh

    erased, others = _erased_people(landing)
    later = _person_in_quarantine(refreshed.warehouse_path, others)
    person = erased.iloc[0]
    identity = pd.read_parquet(landing[1] / "identity.parquet")
    crm_ids = identity[(identity["person_id"] == person["person_id"]) & (identity["source"] == "crm")]["source_record_id"]
    landing_dir = tmp_path / "landing"
    shutil.copytree(landing[0], landing_dir)
    home = tmp_path / "home"
    shutil.copytree(refreshed.home, home)
    night = E2E_AS_OF + dt.timedelta(days=1)
    stamp = f"{night.isoformat()}T09:30:00"
    campaign = pd.read_csv(next((landing_dir / "esp" / "campaigns").glob("*.csv")), dtype=str)["campaign_id"].iloc[0]
    _append(landing_dir, "esp__events", night, {"event_id": "E-GDPR-1", "campaign_id": campaign, "event_type": "open",
                                                "recipient": person["email"].upper(), "occurred_at": stamp, "url": ""})
    _append(landing_dir, "forms__signups", night, {
        "signup_id": "F-GDPR-1", "form_type": "contest", "submitted_at": stamp, "email": person["email"],
        "first_name": person["first_name"], "last_name": person["last_name"], "postcode": person["postcode"],
        "opt_in": "true", "interests": "", "nps": ""})
    if len(crm_ids):
        _append(landing_dir, "crm__customers", night, {
            "crm_id": crm_ids.iloc[0], "first_name": person["first_name"], "last_name": person["last_name"],
            "email": person["email"], "phone": person["phone"] or "", "created_at": stamp, "updated_at": stamp,
            "consent_email": "true", "consent_sms": "true", "consent_post": "true"})
    unparsed = "07 08 13 57 91"  # an unallocated French mobile block: phonenumbers rejects it
    assert to_e164(unparsed) is None
    # its campaign's file has not arrived yet: the event is kept, the night goes on (a warning)
    _append(landing_dir, "esp__events", night, {"event_id": "E-GDPR-2", "campaign_id": "C-NOT-SENT-YET",
                                                "event_type": "delivered", "recipient": unparsed,
                                                "occurred_at": stamp, "url": ""})
    _append(landing_dir, "privacy__requests", night,
            {"request_id": "GDPR-LATER-1", "requested_at": stamp, "request_type": "erasure",
             "email": later["email"].iloc[0], "phone": later["phone"].iloc[0] or "", "crm_id": ""},
            {"request_id": "GDPR-LATER-2", "requested_at": stamp, "request_type": "erasure",
             "email": "", "phone": "+33 (0)7 08 13 57 91", "crm_id": ""})
    with DatamartEnv(home, landing_dir, night):
        ok, settings, problems = run_refresh(quiet=True)
    assert ok, problems
    emails, phones, names = _needles(erased, others)
    for path in (settings.published_path, settings.warehouse_path):
        assert scan(path, emails, phones, names) == {}, f"the re-sent person's data is in {path.name}"
        texted = {"0708135791", "33708135791", "330708135791", "0033708135791"}
        assert scan(path, set(), texted, set()) == {}, f"the unparsed phone is still in {path.name}"
    with open_warehouse(settings.published_path, read_only=True) as con:
        kept = con.execute("SELECT count(*) FROM marts.fct_message_events WHERE event_id = 'E-GDPR-2' "
                           "AND campaign_id = 'C-NOT-SENT-YET' AND channel = 'sms'").fetchall()[0][0]
    assert kept == 1, "an event whose campaign is not known yet must be kept"
    with open_warehouse(settings.warehouse_path, read_only=True) as con:
        left = con.execute("SELECT count(*) FROM quarantine.rejected_rows WHERE contains(lower(record), ?)",
                           [later["email"].iloc[0].lower()]).fetchall()[0][0]
    assert left == 0, "a line quarantined before the later request still holds the person's e-mail"
