"""python -m tests.independent_silos --out DIR --persons N --days D --start YYYY-MM-DD --seed S [--no-traps]"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date
from pathlib import Path

from .generator import generate


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.independent_silos", description=__doc__)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--persons", type=int, default=20000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--start", type=date.fromisoformat, default=date(2025, 1, 1))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--no-traps", dest="traps", action="store_false")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    counts = generate(a.out, persons=a.persons, days=a.days, start=a.start, seed=a.seed, traps=a.traps)
    counts["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(counts, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
