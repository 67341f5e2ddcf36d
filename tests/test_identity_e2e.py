"""Identity resolution in the real refresh (the shared session refresh of generated silos),
checked the way a data steward would: against the generator's truth."""

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from orchestration.identity import probabilistic
from orchestration.identity.incremental import resolve_night
from orchestration.warehouse import connect, open_warehouse

from .conftest import E2E_AS_OF

pytestmark = pytest.mark.e2e


def published(settings, sql):
    with open_warehouse(settings.published_path, read_only=True) as con:
        return con.execute(sql).df()


def placed_with_truth(refreshed, landing):
    truth = pd.read_parquet(landing[1] / "identity.parquet")
    mapped = published(refreshed, "SELECT source, source_record_id, customer_id, match_rule "
                                  "FROM marts.customer_identity_map WHERE customer_id IS NOT NULL")
    both = truth[~truth["shared"] & truth["person_id"].notna()].merge(mapped, on=["source", "source_record_id"])
    both["key"] = both["source"] + ":" + both["source_record_id"]
    return both


def pair_counts(both):
    """(true pairs, found pairs, correct pairs) over source records, by self-joins."""
    def pairs(by):
        g = both.groupby(by)["key"].apply(sorted)
        return {(a, b) for keys in g for i, a in enumerate(keys) for b in keys[i + 1:]}
    true, found = pairs("person_id"), pairs("customer_id")
    return len(true), len(found), len(true & found)


def test_pairwise_precision_against_truth(refreshed, landing):
    both = placed_with_truth(refreshed, landing)
    n_true, n_found, n_correct = pair_counts(both)
    precision, recall = n_correct / n_found, n_correct / n_true
    print(f"identity pairwise precision {precision:.4f} recall {recall:.4f}")
    assert precision >= 0.995
    assert recall >= 0.95


def test_twins_and_same_named_relatives_are_never_one_customer(refreshed, landing):
    persons = pd.read_parquet(landing[1] / "persons.parquet")
    both = placed_with_truth(refreshed, landing)
    people_per_customer = both.groupby("customer_id")["person_id"].unique()
    hh = persons.set_index("person_id")[["household_id", "birth_date", "first_name", "last_name"]]
    twins = persons[persons.duplicated(["household_id", "birth_date"], keep=False)]
    assert len(twins) >= 2, "the generated landing zone has no twins: the test would prove nothing"
    for members in people_per_customer[people_per_customer.map(len) > 1]:
        rows = hh.loc[list(members)]
        assert not rows.duplicated(["household_id", "birth_date"]).any(), "twins merged"


def test_every_probabilistic_placement_has_its_evidence(refreshed):
    placed = published(refreshed, "SELECT source, source_record_id, customer_id FROM marts.customer_identity_map "
                                  "WHERE match_rule = 'probabilistic:splink'")
    evidence = published(refreshed, "SELECT * FROM marts.customer_match_evidence")
    assert len(placed) > 0 and len(evidence) > 0
    ends = pd.concat([evidence[["source_l", "source_record_id_l", "customer_id"]].set_axis(
        ["source", "source_record_id", "customer_id"], axis=1), evidence[["source_r", "source_record_id_r",
                                                                          "customer_id"]].set_axis(
        ["source", "source_record_id", "customer_id"], axis=1)])
    covered = placed.merge(ends.drop_duplicates(), on=["source", "source_record_id", "customer_id"])
    assert len(covered) == len(placed)
    assert (evidence["match_probability"] >= probabilistic.MATCH_PROBABILITY).all()
    assert evidence["evidence"].str.contains("first_name: ").all()


def test_households_group_people_of_one_home(refreshed, landing):
    persons = pd.read_parquet(landing[1] / "persons.parquet")[["person_id", "household_id"]]
    both = placed_with_truth(refreshed, landing)
    dim = published(refreshed, "SELECT customer_id, household_id AS found_household FROM marts.dim_customer")
    assert dim["found_household"].notna().all()
    # customers that are one person each
    clean = both.groupby("customer_id")["person_id"].nunique().loc[lambda s: s == 1].index
    one = (both[both["customer_id"].isin(clean)].drop_duplicates("customer_id")
           .merge(persons, on="person_id").merge(dim, on="customer_id"))
    together = one[one.duplicated("found_household", keep=False)]
    # two customers in one found household nearly always live in one true household
    purity = together.groupby("found_household")["household_id"].nunique().eq(1).mean()
    assert purity >= 0.95
    assert together["found_household"].nunique() >= 10


def test_a_second_night_on_the_same_data_keeps_every_id_and_re_places_nothing(refreshed, tmp_path):
    """Nothing new arrived: only the records the privacy step blanked after identity (the erased
    person's) may be looked at again; every other record keeps its customer."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(refreshed.warehouse_path, copy)
    with connect(copy) as con:
        before = con.execute("SELECT source, source_record_id, customer_id FROM identity.record_clusters").df()
        erased = con.execute("""SELECT c.source, c.source_record_id, c.customer_id FROM identity.record_clusters c
                                JOIN privacy.erased_customers USING (customer_id)""").df()
        night = resolve_night(con, probabilistic.load_model(refreshed.home / "identity" / "splink_model.json"),
                              as_of=E2E_AS_OF + dt.timedelta(days=1))
        after = con.execute("SELECT source, source_record_id, customer_id FROM identity.record_clusters").df()
        history = con.execute("""SELECT count(*) FROM identity.customer_id_history
                                 WHERE old_customer_id NOT IN (SELECT customer_id FROM privacy.erased_customers)
                              """).fetchall()[0][0]
    assert len(erased) > 0  # the generated landing zone holds an erasure
    stats = night.match
    assert stats.mode == "incremental" and stats.compared_records <= len(erased) and stats.new_pairs == 0
    assert night.mode == "incremental" and night.changed_records <= len(erased)
    key = ["source", "source_record_id"]
    untouched = set(erased["customer_id"])
    keep = lambda df: df[~df["customer_id"].isin(untouched)].sort_values(key).reset_index(drop=True)
    assert keep(before).equals(keep(after))
    assert history == 0


# -- the incremental identity inputs equal a full rebuild -------------------------------------

ROOT = Path(__file__).resolve().parents[1]
IDENTITY_INPUTS = ("int_identity__record_changes", "int_identity__records", "int_identity__record_keys")


def _dbt_identity_inputs(warehouse: Path, night: dt.date, target: Path, full_refresh: bool = False) -> None:
    """dbt run of the identity inputs (staging included) on a warehouse, as the nightly step runs it."""
    env = {**os.environ, "DATAMART_WAREHOUSE_PATH": str(warehouse), "DATAMART_DBT_AS_OF": night.isoformat(),
           "DATAMART_DBT_WHOLE_TABLE_TESTS": "false", "PYTHONPATH": str(ROOT)}
    # a full rebuild of the three models only: the staging they read stays as it is
    select = list(IDENTITY_INPUTS) if full_refresh else ["+" + m for m in IDENTITY_INPUTS]
    cmd = [str(Path(sys.executable).parent / "dbt"), "run", "--profiles-dir", ".", "--target-path", str(target),
           "-s", *select] + (["--full-refresh"] if full_refresh else [])
    done = subprocess.run(cmd, cwd=ROOT / "dbt_project", env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-3000:]


def _identity_inputs(warehouse: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    with connect(warehouse) as con:
        records = con.execute("SELECT * EXCLUDE (changed_at) FROM intermediate.int_identity__records").df()
        keys = con.execute("SELECT * EXCLUDE (changed_at) FROM intermediate.int_identity__record_keys").df()
    return (records.sort_values(["source", "source_record_id"]).reset_index(drop=True),
            keys.sort_values(list(keys.columns)).reset_index(drop=True))


def test_an_incremental_night_with_new_changed_and_erased_records_gives_the_inputs_of_a_full_build(
        refreshed, tmp_path):
    """A replay of the day before (staging forgets the last day's rows: records vanish and go back
    to older versions), the identity step and the privacy step's erasure on it, then an ordinary
    night (the last day's new and changed records, and the records the erasure scrubbed behind
    dbt's back): int_identity__records and __record_keys hold exactly the rows of a full rebuild
    of the same staging, and the change log names what the night rewrote."""
    from orchestration import privacy

    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(refreshed.warehouse_path, warehouse)
    day_before = E2E_AS_OF - dt.timedelta(days=1)
    _dbt_identity_inputs(warehouse, day_before, tmp_path / "t1")
    model = probabilistic.load_model(refreshed.home / "identity" / "splink_model.json")
    secret = privacy.salt(refreshed.home)
    with connect(warehouse) as con:
        resolve_night(con, model, as_of=day_before)
        privacy.register_requests(con, secret)
        erased = privacy.erased_records(con, secret)
        privacy.scrub(con, secret)
        erasure_entries = con.execute("SELECT count(*) FROM intermediate.int_identity__record_changes "
                                      "WHERE change = 'erasure'").fetchall()[0][0]
        built_before = con.execute("SELECT max(changed_at) FROM intermediate.int_identity__record_changes "
                                   "WHERE change <> 'erasure'").fetchall()[0][0]
    assert erased > 0 and erasure_entries > 0  # the generated landing zone holds an erasure

    _dbt_identity_inputs(warehouse, E2E_AS_OF, tmp_path / "t2")
    with connect(warehouse) as con:
        night = con.execute("""
            SELECT model, change, count(*) AS n FROM intermediate.int_identity__record_changes
            WHERE changed_at > ? AND change <> 'erasure' GROUP BY ALL""", [built_before]).df()
        n_records = con.execute("SELECT count(*) FROM intermediate.int_identity__records").fetchall()[0][0]
        # the identity step then reads the night from the log, and compares only those records
        step = resolve_night(con, model, as_of=E2E_AS_OF)
    incremental = night.set_index(["model", "change"])["n"].to_dict()
    # an ordinary incremental build of both models, which rewrote some records but not most
    assert incremental.get(("records", "build")) == 1 and incremental.get(("keys", "build")) == 1
    assert 0 < incremental.get(("records", "record"), 0) < n_records / 2
    assert 0 < incremental.get(("keys", "record"), 0) < n_records / 2
    assert step.changes_from == "change log" and step.mode == "incremental"

    rebuilt = tmp_path / "rebuilt.duckdb"
    shutil.copy(warehouse, rebuilt)
    _dbt_identity_inputs(rebuilt, E2E_AS_OF, tmp_path / "t3", full_refresh=True)
    for mine, full, name in zip(_identity_inputs(warehouse), _identity_inputs(rebuilt), ("records", "keys")):
        pd.testing.assert_frame_equal(mine, full, obj=name)
