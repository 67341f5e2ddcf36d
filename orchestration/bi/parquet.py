"""Parquet files of the published marts, for tools that read files (Spark, pandas, Power BI)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..warehouse import open_warehouse

# zstd at level 1 rather than its default 3: at 200k customers the e-mail events wrote in 30 %
# less time for 13 % more bytes (the web sessions: 31 % less time, 2 % fewer bytes)
COMPRESSION = "COMPRESSION zstd, COMPRESSION_LEVEL 1"


def export_marts(published: Path, target_dir: Path) -> dict[str, int]:
    """Write one Parquet file per mart into a fresh folder, then swap it in place of the old one."""
    staging = target_dir.with_name(target_dir.name + ".next")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    counts = {}
    with open_warehouse(published, read_only=True) as con:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' ORDER BY 1").fetchall()]
        for table in tables:
            path = staging / f"{table}.parquet"
            con.execute(f"COPY marts.{table} TO '{path}' (FORMAT parquet, {COMPRESSION})")
            counts[table] = con.execute(f"SELECT count(*) FROM marts.{table}").fetchall()[0][0]
    old = target_dir.with_name(target_dir.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target_dir.exists():
        os.replace(target_dir, old)
    os.replace(staging, target_dir)
    shutil.rmtree(old, ignore_errors=True)
    return counts
