"""BI tools that embed DuckDB 1.x open the published datamart (it is written in storage v1.5)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(duckdb.__version__, con.execute("SELECT count(*) FROM marts.dim_customer").fetchall()[0][0])
"""


def _uv() -> list[str] | None:
    found = shutil.which("uv") or (str(Path.home() / ".local/bin/uv") if (Path.home() / ".local/bin/uv").exists()
                                   else None)
    return [found] if found else None


def test_a_duckdb_1x_reader_opens_the_published_file(refreshed):
    uv = _uv()
    if uv is None:
        pytest.skip("uv is not installed: cannot make a DuckDB 1.x environment")
    run = subprocess.run([*uv, "run", "--no-project", "--isolated", "--python", "python3.11", "--with", "duckdb==1.5.6",
                          "python", "-c", READER, str(refreshed.published_path)],
                         check=False, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"})
    if run.returncode != 0 and ("Failed to fetch" in run.stderr or "dns error" in run.stderr.lower()):
        pytest.skip("no package index reachable for duckdb 1.5")
    assert run.returncode == 0, run.stderr[-2000:]
    version, customers = run.stdout.split()
    assert version.startswith("1.") and int(customers) > 0
