"""The refresh benchmark harness runs end to end (at a tiny scale: figures come from `make bench`)."""

import datetime as dt
import json
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))


def test_the_benchmark_reports_steps_floor_and_ratios(tmp_path):
    import bench_refresh

    report = bench_refresh.main(["--scale", "tiny", "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "cache")])
    assert report["full"]["ok"] and report["incremental"]["ok"], (report["full"]["problems"],
                                                                  report["incremental"]["problems"])
    groups = bench_refresh.summarise(report["full"])["groups"]
    assert {"ingestion", "dbt_staging", "dbt_marts", "checks", "publish"} <= set(groups)
    assert all(g["wall_s"] > 0 and g["cpu_s"] >= 0 for g in groups.values())
    # the plain read and the loader read the same files (the plain read skips what it cannot parse)
    floor, direct = report["floor"]["rows"], report["ingestion_direct"]["rows"]
    assert floor > 0 and abs(direct - floor) <= 0.02 * direct
    assert report["full"]["peak_rss_mb"] > 50
    assert 0 < report["ratios"]["incremental_vs_full"] and report["ratios"]["ingestion_vs_floor"] > 0
    saved = json.loads((tmp_path / "out" / "refresh-tiny.json").read_text())
    assert saved["ratios"] == report["ratios"]
    assert "| one-day night / full refresh |" in (tmp_path / "out" / "refresh-tiny.md").read_text()


def test_the_ingestion_benchmark_compares_each_entity_with_the_plain_read(tmp_path):
    import bench_ingestion

    from orchestration.sample_silos import generate

    landing = tmp_path / "landing"
    generate(landing, customers=300, days=20, start=dt.date(2025, 1, 1), seed=3)
    report = bench_ingestion.main(["--landing", str(landing), "--as-of", "2025-01-20",
                                   "--json", str(tmp_path / "ingestion.json")])
    names = {e["entity"] for e in report["entities"]}
    assert {"esp__events", "ecommerce__orders", "pos__receipts"} <= names
    assert all(e["rows"] > 0 and e["loader"]["wall_s"] > 0 and e["floor"]["wall_s"] > 0 for e in report["entities"])
    assert report["ratio_wall"] > 0
    assert json.loads((tmp_path / "ingestion.json").read_text())["total"] == report["total"]
