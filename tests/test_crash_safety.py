"""Crash safety, idempotency and one writer, on real `datamart refresh` processes.

A refresh is killed with SIGKILL at twelve points spread over its steps (ingestion, raw checks,
both dbt layers, identity, models, mart checks, publish). After each kill the published file is
the last good one, byte for byte, and a reader that kept it open still reads it; the next
refresh succeeds, and its published content and working raw tables equal those of a clean run
of the same landing zone (the session's `refreshed` home): nothing duplicated, nothing lost.
"""

import pytest

from orchestration.warehouse import connect

from .conftest import E2E_AS_OF
from .crash_tools import (
    Kill,
    file_sha256,
    latest_load_accounting,
    refresh_env,
    refresh_killed_at,
    start_refresh,
    table_checksums,
)

pytestmark = pytest.mark.e2e

# Before anything was ever published: the kill must leave no datamart (and no partial one).
KILLS_BEFORE_FIRST_PUBLISH = [
    Kill("ingest_crm", 0.0), Kill("ingest_esp", 0.3), Kill("ingest_web", 0.2),
    Kill("raw__", 1.5), Kill("dbt_staging", 2.0), Kill("dbt_staging", 8.0),
]
# A night re-run over a published datamart: the published file must stay the last good one.
KILLS_AFTER_PUBLISH = [
    Kill("identity", 0.3), Kill("dbt_marts", 2.0), Kill("dbt_marts", 8.0),
    Kill("marts__customer_scores", 0.5), Kill("marts__dim_customer_gx", 0.2), Kill("publish__datamart", 0.05),
]
PUBLISHED_SCHEMAS = ("marts",)
WORKING_SCHEMAS = ("raw", "quarantine")
# identity's incremental state legitimately differs after a second night (it forgets what an
# erasure blanked one night later); the clusters themselves must not
WORKING_TABLES = ("identity.record_clusters", "identity.customer_id_history")


def _finish(env) -> list[str]:
    proc = start_refresh(env)
    out, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, "the refresh after a crash failed:\n" + out[-3000:]
    return out.splitlines()


def test_sigkill_at_twelve_points_never_breaks_the_datamart(refreshed, landing, tmp_path):
    clean_published = table_checksums(refreshed.published_path, PUBLISHED_SCHEMAS)
    clean_working = table_checksums(refreshed.warehouse_path, WORKING_SCHEMAS, WORKING_TABLES)
    clean_accounting = latest_load_accounting(refreshed.published_path)

    home = tmp_path / "home"
    env = refresh_env(home, landing[0], E2E_AS_OF)
    published = home / "datamart.duckdb"

    for kill in KILLS_BEFORE_FIRST_PUBLISH:
        refresh_killed_at(env, kill)
        assert not published.exists(), f"a datamart appeared although no refresh finished (kill at {kill})"

    _finish(env)
    assert table_checksums(published, PUBLISHED_SCHEMAS) == clean_published
    good = file_sha256(published)

    reader = connect(published, read_only=True)  # a BI tool that keeps its connection open
    try:
        customers = reader.execute("SELECT count(*) FROM marts.dim_customer").fetchall()[0][0]
        for kill in KILLS_AFTER_PUBLISH:
            refresh_killed_at(env, kill)
            assert file_sha256(published) == good, f"the published datamart changed after a kill at {kill}"
            assert reader.execute("SELECT count(*) FROM marts.dim_customer").fetchall()[0][0] == customers

        _finish(env)
        # the open connection still reads the file it opened; a reconnect reads the new night
        assert reader.execute("SELECT count(*) FROM marts.dim_customer").fetchall()[0][0] == customers
    finally:
        reader.close()

    assert table_checksums(published, PUBLISHED_SCHEMAS) == clean_published, "content differs from a clean run"
    assert table_checksums(home / "warehouse.duckdb", WORKING_SCHEMAS, WORKING_TABLES) == clean_working, \
        "raw, quarantine or identity rows were duplicated or lost"
    assert latest_load_accounting(published) == clean_accounting
    assert not list(home.glob("*.next*")), "a half-written datamart was left behind"


def test_a_second_refresh_started_meanwhile_refuses_with_a_clear_message(refreshed, landing, tmp_path):
    home = tmp_path / "home"
    env = refresh_env(home, landing[0], E2E_AS_OF)
    first = start_refresh(env)
    assert first.stdout is not None
    for line in first.stdout:  # the first refresh is running once it reports a step
        if line.strip().startswith("▶"):
            break
    second = start_refresh(env)
    out2, _ = second.communicate(timeout=120)
    rest, _ = first.communicate(timeout=900)
    assert second.returncode == 3, out2
    assert "refresh refused: another refresh (pid" in out2 and "is writing" in out2
    assert first.returncode == 0, rest[-3000:]
    # and the night it built equals a clean run's: the refused one wrote nothing
    assert table_checksums(home / "datamart.duckdb", PUBLISHED_SCHEMAS) == \
        table_checksums(refreshed.published_path, PUBLISHED_SCHEMAS)
