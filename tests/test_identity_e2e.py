"""Identity resolution in the real refresh (the shared session refresh of generated silos),
checked the way a data steward would: against the generator's truth."""

import datetime as dt
import shutil

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
    keep = lambda df: df[~df["customer_id"].isin(untouched)].sort_values(key).reset_index(drop=True)  # noqa: E731
    assert keep(before).equals(keep(after))
    assert history == 0
