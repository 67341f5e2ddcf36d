"""The refresh benchmark harness runs end to end (at a tiny scale: figures come from `make bench`)."""

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
