"""The default nightly on silos written by someone who never read the pipeline
(tests/independent_silos, from the contract and public facts alone), scored against that
generator's truth with bench/bench_truth.py's measures: what CI guards of issue #31's targets.

Floors, not figures: docs/benchmarks.md has the figures at 20,000 persons. A floor below the
measured value catches a regression without tuning the pipeline to this seed.
"""

import datetime as dt
import sys
from pathlib import Path

import pytest

from tests.conftest import DatamartEnv

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

pytestmark = pytest.mark.e2e
PERSONS, DAYS, START = 3000, 180, dt.date(2025, 1, 1)
AS_OF = START + dt.timedelta(days=DAYS - 1)


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    import bench_truth

    from orchestration.cli import run_refresh
    from tests.independent_silos import generate

    root = tmp_path_factory.mktemp("independent")
    generate(root, persons=PERSONS, days=DAYS, start=START, seed=11)
    with DatamartEnv(root / "home", root / "landing", AS_OF):
        ok, _, problems = run_refresh(quiet=True)
    assert ok, f"contract-valid silos from another source failed the night: {problems}"
    return bench_truth.evaluate_independent(root / "home", root / "truth", AS_OF, root / "landing")


def test_identity_finds_what_exact_evidence_connects_without_merging_strangers(scored):
    assert scored["records_scored"] > 5000 and scored["true_pairs"] > 2000
    # the nightly finds nearly every pair that a shared identifier or an exact name and birth
    # date connects (measured 0.996–0.999 of it at 20,000 persons)
    assert scored["recall"] >= 0.97 * scored["recall_ceiling_exact_evidence"], scored
    # measured 0.95–0.97 at 20,000 persons; the target is 0.995 (docs/benchmarks.md)
    assert scored["precision"] >= 0.93, scored


def test_rfm_is_exact_for_cleanly_resolved_customers(scored):
    assert scored["clean_customers_with_purchases"] > 100
    assert scored["rfm_exact_share"] >= 0.999, scored


def test_erasure_leaves_no_value_unique_to_a_reachable_erased_person(scored):
    if scored["erased_persons"] == 0:
        pytest.fail("the independent zone holds no reachable erasure: the test proves nothing")
    assert scored["erased_values_found"] == 0, scored["tables_with_erased_values"]
