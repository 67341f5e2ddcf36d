"""DATAMART_MEMORY_LIMIT caps every DuckDB the refresh opens: the orchestrator's, dbt's, Splink's."""

import json
import os
import subprocess
import sys
from pathlib import Path

from orchestration.identity.probabilistic import _splink_connection
from orchestration.settings import DBT_PROJECT_DIR
from orchestration.warehouse import connect


def _limit(con) -> str:
    return con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]


def test_the_memory_limit_reaches_the_warehouse_and_splink(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAMART_MEMORY_LIMIT", "1500MB")
    con = connect(tmp_path / "w.duckdb")
    try:
        assert _limit(con) == "1.3 GiB"  # DuckDB prints MiB/GiB: 1500 MB = 1.4 GB = 1.3 GiB
        # spills go next to the warehouse, not to an unknown folder
        assert con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0] == str(tmp_path / "w.duckdb.tmp")
    finally:
        con.close()
    splink = _splink_connection()
    assert _limit(splink) == "1.3 GiB"
    monkeypatch.delenv("DATAMART_MEMORY_LIMIT")
    con = connect(tmp_path / "w.duckdb")
    assert _limit(con) == "3.7 GiB"  # the default, 4 GB, not DuckDB's 80 % of the machine
    con.close()


def test_dbt_runs_under_the_same_limit(tmp_path):
    env = {**os.environ, "DATAMART_MEMORY_LIMIT": "1500MB", "DATAMART_WAREHOUSE_PATH": str(tmp_path / "w.duckdb"),
           "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR)}
    out = subprocess.run([str(Path(sys.executable).with_name("dbt")), "show", "--inline",
                          "select current_setting('memory_limit') as m", "--output", "json", "--log-format", "json",
                          "--target-path", str(tmp_path / "target"), "-q"],
                         cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, check=True).stdout
    previews = [json.loads(line)["data"]["preview"] for line in out.splitlines() if '"preview"' in line]
    assert json.loads(previews[-1]) == [{"m": "1.3 GiB"}]
