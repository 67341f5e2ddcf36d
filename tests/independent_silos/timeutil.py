"""Europe/Paris wall-clock <-> UTC, without a tz database (EU rule since 1996: summer time from the
last Sunday of March 01:00 UTC to the last Sunday of October 01:00 UTC; +01:00 otherwise).

All timestamps are carried as int64 seconds since the epoch, UTC. Day indices are Paris local
dates counted from the generation's start date (day 0 = start)."""

from __future__ import annotations

import bisect
import time
from datetime import date, timedelta

import numpy as np

_YEARS = np.arange(1900, 2101)


def _last_sunday(year: int, month: int) -> date:
    d = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return d - timedelta(days=(d.weekday() + 1) % 7)


def _epoch_s(d: date) -> int:
    return (d - date(1970, 1, 1)).days * 86400


_DST_START = np.array([_epoch_s(_last_sunday(y, 3)) + 3600 for y in _YEARS], dtype=np.int64)
_DST_END = np.array([_epoch_s(_last_sunday(y, 10)) + 3600 for y in _YEARS], dtype=np.int64)


_BOUNDS = np.sort(np.concatenate([_DST_START, _DST_END]))
_BOUNDS_L = [int(x) for x in _BOUNDS]


def paris_offset(utc: np.ndarray) -> np.ndarray:
    """Offset of Paris (seconds) at the given UTC instants."""
    utc = np.asarray(utc, dtype=np.int64)
    summer = (np.searchsorted(_BOUNDS, utc, side="right") % 2) == 1
    return np.where(summer, 7200, 3600).astype(np.int64)


def paris_offset1(utc: int) -> int:
    return 7200 if bisect.bisect_right(_BOUNDS_L, utc) % 2 else 3600


class Clock:
    def __init__(self, start: date, days: int):
        self.start = start
        self.days = days
        self.start_wall = _epoch_s(start)  # seconds of start 00:00 as a naive wall clock

    # ---- conversions -------------------------------------------------------------------------
    def wall_to_utc(self, wall: np.ndarray) -> np.ndarray:
        wall = np.asarray(wall, dtype=np.int64)
        guess = wall - 3600
        return wall - paris_offset(guess)

    def utc_to_wall(self, utc: np.ndarray) -> np.ndarray:
        utc = np.asarray(utc, dtype=np.int64)
        return utc + paris_offset(utc)

    def at(self, day: np.ndarray, second_of_day: np.ndarray) -> np.ndarray:
        """UTC instants for Paris local (day index, second of day)."""
        day = np.asarray(day, dtype=np.int64)
        return self.wall_to_utc(self.start_wall + day * 86400 + np.asarray(second_of_day, np.int64))

    def day_of(self, utc: np.ndarray) -> np.ndarray:
        """Paris local day index (relative to start) of UTC instants."""
        return (self.utc_to_wall(utc) - self.start_wall) // 86400

    # ---- scalar fast paths --------------------------------------------------------------------
    def at1(self, day: int, second_of_day: int) -> int:
        wall = self.start_wall + int(day) * 86400 + int(second_of_day)
        return wall - paris_offset1(wall - 3600)

    def day_of1(self, utc: int) -> int:
        return (utc + paris_offset1(utc) - self.start_wall) // 86400

    def render1(self, utc: int, style: str) -> str:
        utc = int(utc)
        if style in ("z", "zms"):
            s = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(utc))
            return s + "Z" if style == "z" else f"{s}.{(utc * 7919) % 1000:03d}Z"
        off = paris_offset1(utc)
        s = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(utc + off))
        if style == "local":
            return s.replace("T", " ")
        if style == "localT":
            return s
        return s + ("+02:00" if off == 7200 else "+01:00")

    def date_of_day(self, day: int) -> date:
        return self.start + timedelta(days=int(day))

    def day_str(self, day: int) -> str:
        return (self.start + timedelta(days=int(day))).isoformat()

    def dates(self, days: np.ndarray) -> np.ndarray:
        """YYYY-MM-DD strings for day indices."""
        base = np.datetime64(self.start, "D")
        return np.datetime_as_string(base + np.asarray(days, dtype=np.int64), unit="D")

    def weekday(self, day: np.ndarray) -> np.ndarray:
        return (np.asarray(day, dtype=np.int64) + self.start.weekday()) % 7

    # ---- rendering ---------------------------------------------------------------------------
    def render(self, utc: np.ndarray, style: str | np.ndarray) -> list[str]:
        """ISO-8601 strings. styles: local ('YYYY-MM-DD HH:MM:SS', Paris, no offset), localT,
        offset (Paris wall + '+01:00'/'+02:00'), z (UTC 'Z'), zms (UTC with milliseconds)."""
        utc = np.asarray(utc, dtype=np.int64)
        n = len(utc)
        styles = np.full(n, style, dtype=object) if isinstance(style, str) else np.asarray(style)
        off = paris_offset(utc)
        wall = np.datetime_as_string((utc + off).astype("datetime64[s]"), unit="s")
        z = np.datetime_as_string(utc.astype("datetime64[s]"), unit="s")
        out = [""] * n
        for i in range(n):
            s = styles[i]
            if s == "local":
                out[i] = wall[i].replace("T", " ")
            elif s == "localT":
                out[i] = str(wall[i])
            elif s == "offset":
                out[i] = wall[i] + ("+02:00" if off[i] == 7200 else "+01:00")
            elif s == "z":
                out[i] = z[i] + "Z"
            else:  # zms
                out[i] = f"{z[i]}.{(int(utc[i]) * 7919) % 1000:03d}Z"
        return out
