"""Shared state of one generation: clock, seasonality, random streams, cross-silo indexes."""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from .data_places import FIXED_HOLIDAYS
from .landing import Entity, Truth
from .population import Population
from .timeutil import Clock


def black_friday(year: int) -> date:
    d = date(year, 11, 1)
    first_fri = d + timedelta(days=(4 - d.weekday()) % 7)
    return first_fri + timedelta(days=21)


@dataclass
class Ctx:
    pop: Population
    clock: Clock
    seed: int
    traps: bool
    truth: Truth = field(default_factory=Truth)
    entities: dict = field(default_factory=dict)
    # cross-silo indexes, filled by the silos as they are generated
    crm_by_person: dict = field(default_factory=dict)      # pid -> [CrmRecord]
    crm_records: list = field(default_factory=list)
    accounts_by_person: dict = field(default_factory=dict)  # pid -> [Account]
    accounts: list = field(default_factory=list)
    orders_by_person: dict = field(default_factory=dict)    # pid -> [(order_id, day)]
    used_emails: dict = field(default_factory=dict)         # pid -> [rendered e-mails given anywhere]
    used_phones: dict = field(default_factory=dict)         # pid -> [rendered phones given anywhere]
    esp_entries: list = field(default_factory=list)         # subscriptions of the ESP list
    consent_log: dict = field(default_factory=dict)         # pid -> [(utc, channel, bool)]
    products: list = field(default_factory=list)
    stores: list = field(default_factory=list)
    campaigns: list = field(default_factory=list)

    def __post_init__(self):
        self.days = self.clock.days
        self.frac = self.days / 365.0
        self.persons = self.pop.persons
        self.households = self.pop.households
        self.by_pid = {p.pid: p for p in self.persons}
        self._weights: dict[str, np.ndarray] = {}
        self.peak_day, self.peak_is_black_friday = self._peak()
        self.holidays = self._holidays()

    # ---- random streams: one per named part, independent of the order parts are generated ----
    def rnd(self, name: str) -> random.Random:
        return random.Random(self.seed * 7919 + zlib.crc32(name.encode()))

    def rng(self, name: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, zlib.crc32(name.encode())])

    def entity(self, source: str, entity: str, **kw) -> Entity:
        key = (source, entity)
        if key not in self.entities:
            self.entities[key] = Entity(source, entity, **kw)
        return self.entities[key]

    def log_consent(self, pid: str, utc: int, channel: str, value: bool) -> None:
        if pid:
            self.consent_log.setdefault(pid, []).append((int(utc), channel, bool(value)))

    def use_email(self, pid: str, rendered: str) -> None:
        if pid and rendered:
            self.used_emails.setdefault(pid, []).append(rendered)

    def use_phone(self, pid: str, rendered: str) -> None:
        if pid and rendered:
            self.used_phones.setdefault(pid, []).append(rendered)

    # ---- calendar --------------------------------------------------------------------------
    def _peak(self) -> tuple[int, bool]:
        for y in (self.clock.start.year, self.clock.start.year + 1):
            d = (black_friday(y) - self.clock.start).days
            if 0 <= d < self.days:
                return d, True
        return max(0, int(self.days * 0.8) - 1), False

    def _holidays(self) -> set[int]:
        out = set()
        for y in range(self.clock.start.year, self.clock.start.year + 3):
            for m, dd in FIXED_HOLIDAYS:
                d = (date(y, m, dd) - self.clock.start).days
                if 0 <= d < self.days:
                    out.add(d)
        return out

    def weights(self, channel: str) -> np.ndarray:
        """Relative activity per day of the window (mean 1 over a year from the start)."""
        if channel in self._weights:
            return self._weights[channel]
        n = max(self.days, 365)
        idx = np.arange(n)
        dates = [self.clock.start + timedelta(days=int(i)) for i in idx]
        wd = np.array([d.weekday() for d in dates])
        month = np.array([d.month for d in dates])
        dom = np.array([d.day for d in dates])
        if channel == "store":
            w = np.array([0.8, 0.85, 1.0, 0.9, 1.1, 1.7, 0.12])[wd]
        elif channel == "web":
            w = np.array([1.1, 1.0, 1.0, 0.95, 0.9, 0.85, 1.15])[wd]
        elif channel == "calls":
            w = np.array([1.25, 1.1, 1.0, 1.0, 1.0, 0.5, 0.0])[wd]
        else:
            w = np.ones(n)
        season = np.ones(n)
        season[(month == 1) & (dom >= 8)] = 1.4      # winter sales
        season[(month == 2) & (dom <= 4)] = 1.3
        season[(month == 6) & (dom >= 25)] = 1.3     # summer sales
        season[(month == 7) & (dom <= 20)] = 1.2
        season[(month == 8)] = 0.75
        season[(month == 12) & (dom <= 24)] = 1.6    # Christmas
        season[(month == 12) & (dom > 24)] = 0.9
        if channel != "calls":
            w = w * season
        for y in (self.clock.start.year, self.clock.start.year + 1):
            bf = (black_friday(y) - self.clock.start).days
            if 0 <= bf < n:
                w[bf] *= {"store": 3.5, "web": 8.0, "calls": 2.0}.get(channel, 1.0)
                if bf + 3 < n:
                    w[bf + 3] *= {"web": 3.0}.get(channel, 1.0)      # cyber monday
        if not self.peak_is_black_friday and self.days > 0:
            w[self.peak_day] *= {"store": 3.0, "web": 6.0}.get(channel, 1.0)
        if channel in ("store", "calls"):
            for d in self._holidays_any(n):
                w[d] = 0.0
        w = w / w[:365].mean()
        self._weights[channel] = w[: self.days].copy()
        return self._weights[channel]

    def _holidays_any(self, n: int) -> list[int]:
        out = []
        for y in range(self.clock.start.year, self.clock.start.year + 3):
            for m, dd in FIXED_HOLIDAYS:
                d = (date(y, m, dd) - self.clock.start).days
                if 0 <= d < n:
                    out.append(d)
        return out

    # ---- sampling --------------------------------------------------------------------------
    def event_counts(self, rng: np.random.Generator, rates_per_year: np.ndarray, channel: str) -> np.ndarray:
        w = self.weights(channel)
        return rng.poisson(np.asarray(rates_per_year, float) * w.sum() / 365.0)

    def sample_days(self, rng: np.random.Generator, n: int, channel: str) -> np.ndarray:
        w = self.weights(channel)
        cum = np.cumsum(w)
        if n == 0 or cum[-1] <= 0:
            return np.zeros(n, dtype=np.int64)
        return np.minimum(np.searchsorted(cum, rng.random(n) * cum[-1], side="right"), self.days - 1)

    def sample_seconds(self, rng: np.random.Generator, n: int, profile: str) -> np.ndarray:
        """Second of the local day, by channel profile."""
        hours = np.arange(24)
        if profile == "store":
            w = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2.2, 2.6, 2.0, 1.6, 2.0, 2.6, 3.0, 3.2, 2.9, 1.8,
                          0.3, 0, 0, 0], float)
        elif profile == "web":
            w = np.array([0.6, 0.3, 0.15, 0.1, 0.1, 0.15, 0.4, 0.9, 1.3, 1.5, 1.6, 1.7, 1.9, 1.8, 1.6,
                          1.6, 1.7, 1.9, 2.2, 2.6, 3.0, 3.1, 2.5, 1.4], float)
        elif profile == "office":
            w = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0.5, 2.0, 2.5, 2.3, 1.2, 1.5, 2.2, 2.3, 2.0, 1.5, 0.8,
                          0, 0, 0, 0, 0], float)
        else:
            w = np.ones(24)
        h = rng.choice(hours, size=n, p=w / w.sum())
        return h * 3600 + rng.integers(0, 3600, size=n)

    def fmt_money(self, x: float, comma: bool = False) -> str:
        s = f"{x:.2f}"
        return s.replace(".", ",") if comma else s
