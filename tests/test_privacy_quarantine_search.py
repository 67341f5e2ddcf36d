"""The erasure's search of quarantined lines: the window index finds exactly what a plain
substring test of every line against every value finds."""

import random

import duckdb
import pytest

from orchestration import privacy


def _lines_found(con, values: list[str], direct_max: int, monkeypatch) -> set[int]:
    monkeypatch.setattr(privacy, "DIRECT_MAX_VALUES", direct_max)
    con.execute("CREATE OR REPLACE TEMP TABLE vals AS SELECT unnest(?::VARCHAR[]) AS v", [values])
    return {rid for (rid,) in con.execute(privacy._lines_holding(con, "vals")).fetchall()}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_window_search_finds_exactly_the_lines_holding_a_value(monkeypatch, seed):
    rng = random.Random(seed)
    alphabet = "abcde0123456789@.+-;,é "  # a small alphabet: many shared windows, many near misses
    values = sorted({"".join(rng.choice(alphabet) for _ in range(rng.randint(5, 12))) for _ in range(300)})
    lines = []
    for _ in range(2000):
        line = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        if rng.random() < 0.3:  # plant a value at the start, the end or inside
            v, at = rng.choice(values), rng.randint(0, len(line))
            line = line[:at] + v + line[at:]
        lines.append(line)
    con = duckdb.connect()
    con.execute("CREATE TEMP TABLE q_lines AS SELECT row_number() OVER () AS rid, line FROM (SELECT unnest(?::VARCHAR[]) AS line)",
                [lines])
    expected = {i + 1 for i, line in enumerate(lines) if any(v in line for v in values)}
    assert len(expected) > 500  # the test means something: many lines hold a value
    assert _lines_found(con, values, direct_max=0, monkeypatch=monkeypatch) == expected  # windows
    assert _lines_found(con, values, direct_max=10**6, monkeypatch=monkeypatch) == expected  # direct
