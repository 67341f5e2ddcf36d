"""The Dagster code location reads like a map: named groups, owners, kinds, checks, schedule."""

import dagster as dg

from orchestration.definitions import defs
from orchestration.ingestion.specs import ENTITIES


def test_every_asset_sits_in_a_named_group_with_an_owner():
    graph = defs.resolve_asset_graph()
    groups = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if not node.is_materializable:
            continue
        groups.setdefault(node.group_name, []).append(key)
        assert node.owners, f"{key.to_user_string()} has no owner"
        assert node.description, f"{key.to_user_string()} has no description"
    assert {"ingestion", "staging", "identity", "marts", "models", "publish"} <= set(groups)
    assert {k.path[-1] for k in groups["ingestion"]} == {e.name for e in ENTITIES}


def test_quality_checks_block_and_publish_waits_for_everything():
    graph = defs.resolve_asset_graph()
    check_keys = graph.asset_check_keys
    gx = {c for c in check_keys if c.name.startswith("gx_")}
    # one gate per raw entity, per checked staging table, the staging keys, four marts, the
    # audience and the scores
    from data_quality.suites import STAGING_RULES

    assert len(gx) == len(ENTITIES) + len(STAGING_RULES) + 1 + 6
    layers = {c.asset_key.path[0] for c in gx}
    assert {"raw", "staging", "intermediate", "marts"} <= layers
    assert all(graph.get_check_spec(c).blocking for c in gx)
    publish = graph.get(dg.AssetKey(["publish", "datamart"]))
    assert {k.to_user_string() for k in publish.parent_keys} >= {
        "marts/dim_customer", "marts/customer_identity_map", "marts/fct_order_lines", "marts/fct_customer_rfm",
        "marts/customer_scores", "marts/marketing_audience"}


def test_nightly_schedule_runs_at_two_paris_time():
    schedule = defs.resolve_schedule_def("nightly_refresh_0200_paris")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Europe/Paris"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.job_name == "nightly_refresh"
