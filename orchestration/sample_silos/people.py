"""The people behind the silos: households, names, contacts, and who is in which silo.

Faker builds pools of names, streets and cities once; numpy samples them, so a million
people cost seconds, not minutes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from faker import Faker

STREET_TYPES = np.array(["rue", "avenue", "boulevard", "place", "chemin", "allée", "impasse"])
DOMAINS = np.array(["gmail.com", "orange.fr", "free.fr", "hotmail.fr", "yahoo.fr", "laposte.net", "sfr.fr", "outlook.com"])
# Metropolitan French numbers come from allocated blocks only: a number outside them (07 0x–07 2x,
# the overseas blocks 06 39 / 06 9x / 02 62 / 05 90 / 05 94, the unallocated 04 0x) reaches nobody,
# is not a number anyone gives a shop, and no ESP could deliver an SMS to it. Four-digit prefixes.
MOBILE_PREFIXES = np.array([f"06{i:02d}" for i in range(100) if i != 39 and not 90 <= i <= 97]
                           + [f"07{i:02d}" for i in range(30, 100)])
LANDLINE_PREFIXES = np.array([f"0{a}{i:02d}" for a in range(1, 6) for i in range(100)
                              if (a, i) not in {(2, 62), (5, 90), (5, 94)} and not (a == 4 and i < 10)])


def phone_numbers(rng: np.random.Generator, n: int, prefixes: np.ndarray = MOBILE_PREFIXES) -> np.ndarray:
    """n distinct ten-digit national numbers from allocated blocks."""
    k = rng.choice(len(prefixes) * 10 ** 6, n, replace=False)
    if n == 0:  # np.char.zfill fails on an empty array (a tiny zone with no such phone)
        return np.array([], dtype=str)
    return np.char.add(prefixes[k // 10 ** 6], np.char.zfill((k % 10 ** 6).astype(str), 6))


@dataclass
class Pools:
    first_f: np.ndarray
    first_m: np.ndarray
    last: np.ndarray
    streets: np.ndarray
    cities: np.ndarray  # (city, postcode) pairs as two arrays
    postcodes: np.ndarray


def build_pools(seed: int) -> Pools:
    fake = Faker(["fr_FR"])
    fake.seed_instance(seed)
    other = Faker(["pt_PT", "it_IT", "es_ES", "de_DE"])
    other.seed_instance(seed)
    first_f = {fake.first_name_female() for _ in range(1500)} | {other.first_name_female() for _ in range(200)}
    first_m = {fake.first_name_male() for _ in range(1500)} | {other.first_name_male() for _ in range(200)}
    last = {fake.last_name() for _ in range(6000)} | {other.last_name() for _ in range(800)}
    streets = {fake.last_name() for _ in range(1500)} | {fake.street_name().split(" ", 1)[-1] for _ in range(1500)}
    cities = [(fake.city(), fake.postcode()) for _ in range(1200)]
    return Pools(
        first_f=np.array(sorted(first_f)), first_m=np.array(sorted(first_m)), last=np.array(sorted(last)),
        streets=np.array(sorted(streets)), cities=np.array([c for c, _ in cities]),
        postcodes=np.array([p for _, p in cities]),
    )


def ascii_fold(values) -> list[str]:
    import unicodedata

    return ["".join(ch for ch in unicodedata.normalize("NFKD", v) if not unicodedata.combining(ch)) for v in values]


def make_people(n: int, rng: np.random.Generator, pools: Pools) -> pd.DataFrame:
    """One row per real person, with household, identity and silo membership."""
    hh_sizes = rng.choice([1, 2, 3, 4], size=n, p=[0.45, 0.30, 0.15, 0.10])
    household = np.repeat(np.arange(n), hh_sizes)[:n]
    n_hh = household.max() + 1
    hh_rank = np.arange(n) - np.searchsorted(household, household)  # 0 = first adult
    female = rng.random(n) < 0.52
    first = np.where(female, pools.first_f[rng.integers(0, len(pools.first_f), n)],
                     pools.first_m[rng.integers(0, len(pools.first_m), n)])
    hh_last = pools.last[rng.integers(0, len(pools.last), n_hh)]
    last = hh_last[household]
    # some couples keep different last names
    own_last = (hh_rank == 1) & (rng.random(n) < 0.3)
    last = np.where(own_last, pools.last[rng.integers(0, len(pools.last), n)], last)
    hh_size_of = np.bincount(household)[household]
    is_child = (hh_rank >= 2)
    birth_year = np.where(is_child, rng.integers(1998, 2008, n), rng.integers(1945, 1998, n))
    birth = pd.to_datetime(pd.DataFrame({"year": birth_year, "month": rng.integers(1, 13, n),
                                         "day": rng.integers(1, 29, n)})).dt.date
    # twins: the third member copies the second's birth date in some families
    twin = is_child & (hh_rank == 3) & (rng.random(n) < 0.3)
    birth = np.where(twin, np.roll(birth.to_numpy(), 1), birth.to_numpy())
    city_ix = rng.integers(0, len(pools.cities), n_hh)
    street = (rng.integers(1, 180, n_hh).astype(str) + " "
              + STREET_TYPES[rng.integers(0, len(STREET_TYPES), n_hh)] + " "
              + pools.streets[rng.integers(0, len(pools.streets), n_hh)])
    fold_first = np.array([s.lower().replace(" ", "-") for s in ascii_fold(first)])
    fold_last = np.array([s.lower().replace(" ", "") for s in ascii_fold(last)])
    email = (fold_first + np.where(rng.random(n) < 0.5, ".", "") + fold_last
             + np.where(rng.random(n) < 0.3, rng.integers(1, 99, n).astype(str), "") + "@"
             + DOMAINS[rng.integers(0, len(DOMAINS), n)])
    has_email = rng.random(n) < 0.85
    # a family inbox shared by everyone in some multi-person households
    family_hh = (rng.random(n_hh) < 0.10)
    family_email = np.array([f"famille.{x}@{d}" for x, d in zip(
        ascii_fold(hh_last), DOMAINS[rng.integers(0, len(DOMAINS), n_hh)])]).astype(object)
    family_email = np.char.lower(np.char.replace(family_email.astype(str), " ", ""))
    uses_family = family_hh[household] & (hh_size_of > 1) & (rng.random(n) < 0.7)
    email = np.where(uses_family, family_email[household], email)
    has_email |= uses_family
    mobile = phone_numbers(rng, n)
    has_mobile = rng.random(n) < 0.8
    landline = phone_numbers(rng, n_hh, LANDLINE_PREFIXES)
    has_landline = rng.random(n_hh) < 0.5
    people = pd.DataFrame({
        "person_id": np.char.add("P", np.char.zfill(np.arange(1, n + 1).astype(str), 7)),
        "household_id": np.char.add("H", np.char.zfill(household.astype(str), 7)),
        "first_name": first, "last_name": last, "female": female, "birth_date": birth,
        "email": np.where(has_email, email, None), "shared_email": uses_family,
        "mobile": np.where(has_mobile, mobile, None),
        "landline": np.where(has_landline[household], landline[household], None),
        "household_size": hh_size_of, "is_child": is_child,
        "address_line": street[household], "postcode": pools.postcodes[city_ix][household],
        "city": pools.cities[city_ix][household],
    })
    adult = ~is_child
    people["in_crm"] = adult & (rng.random(n) < 0.58)
    people["has_account"] = adult & people["email"].notna() & (rng.random(n) < np.where(people["in_crm"], 0.5, 0.45))
    people["has_card"] = people["in_crm"] & (rng.random(n) < 0.85)
    # latent behaviour: purchase rate per year, channel taste, churn, campaign reactivity
    people["rate"] = np.where(adult, rng.lognormal(0.6, 0.8, n), 0.0)
    people["p_web"] = rng.beta(2, 2, n)
    people["reactivity"] = rng.beta(1.5, 6, n)
    return people
