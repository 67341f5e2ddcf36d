"""The true population: households, persons, their contacts over time and life events.

Everything here is the TRUTH; the silos render it the way each channel would have typed it."""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from .data_names import FEMALE_FIRST, MALE_FIRST, SURNAMES, TAIL_PREFIXES, TAIL_ROOTS, TAIL_SUFFIXES
from .data_places import (
    ADDRESS_COMPLEMENTS,
    CITIES,
    EMAIL_DOMAINS,
    OLD_EMAIL_DOMAINS,
    STREET_NAMES,
    STREET_TYPES,
    WORK_DOMAINS,
)
from .noise import ascii_slug

PAST = -10**6      # "since forever" day index
FOREVER = 10**6    # "still valid"
TOP_SURNAME_SHARE = 0.45  # share of persons carrying one of the typed frequent surnames


@dataclass(slots=True)
class Contact:
    value: str            # canonical: e-mail lowercase, phone E.164
    kind: str             # personal, work, old, family, spouse | mobile, landline, workphone
    start: int = PAST     # first day (index) it is the person's
    end: int = FOREVER    # first day it no longer is
    deliverable: bool = True

    def active(self, day: int) -> bool:
        return self.start <= day < self.end


@dataclass(slots=True)
class Address:
    number: str
    stype: str
    sname: str
    complement: str
    city: str
    postcode: str
    region: str
    city_idx: int

    def line(self) -> str:
        s = f"{self.number} {self.stype} {self.sname}"
        return f"{s} {self.complement}" if self.complement else s


@dataclass(slots=True)
class Person:
    idx: int
    pid: str
    hid: str
    hh: int
    sex: str
    first: str
    last: str
    birth: date
    age: int
    role: str                         # adult, child, grandparent, flatmate
    last_hist: list = field(default_factory=list)   # [(from_day, last_name)]
    emails: list = field(default_factory=list)
    phones: list = field(default_factory=list)
    twin_of: str = ""
    spouse: int = -1
    # behaviour
    store_rate: float = 0.0
    web_order_rate: float = 0.0
    guest_rate: float = 0.0
    call_rate: float = 0.0
    form_rate: float = 0.0
    browse_rate: float = 0.0
    open_p: float = 0.0
    click_p: float = 0.0
    # silo membership plan (day indices; None = never)
    crm_join: int | None = None
    crm_dup_join: int | None = None
    acct_join: int | None = None
    acct2_join: int | None = None
    erase_day: int | None = None
    object_day: int | None = None

    def last_at(self, day: int) -> str:
        name = self.last_hist[0][1] if self.last_hist else self.last
        for d, n in self.last_hist:
            if d <= day:
                name = n
        return name

    def emails_at(self, day: int, kinds=("personal", "spouse", "family", "work")) -> list:
        return [c for c in self.emails if c.start <= day < c.end and c.kind in kinds]

    def main_email_at(self, day: int) -> Contact | None:
        for kinds in (("personal",), ("spouse",), ("family",), ("old",), ("work",)):
            # 'old' addresses were the main one while they were active
            for c in self.emails:
                if c.kind in kinds and c.start <= day < c.end:
                    return c
        return None

    def mobile_at(self, day: int) -> Contact | None:
        for c in self.phones:
            if c.kind == "mobile" and c.start <= day < c.end:
                return c
        return None

    def phone_of_kind(self, day: int, kind: str) -> Contact | None:
        for c in self.phones:
            if c.kind == kind and c.start <= day < c.end:
                return c
        return None


@dataclass(slots=True)
class Household:
    idx: int
    hid: str
    kind: str
    members: list
    addr_hist: list                   # [(from_day, Address)]
    landline: Contact | None = None
    family_email: Contact | None = None
    shared_card: bool = False         # the couple shares one loyalty card
    shared_cookie: bool = False       # one browser used by several members

    def address_at(self, day: int) -> Address:
        a = self.addr_hist[0][1]
        for d, x in self.addr_hist:
            if d <= day:
                a = x
        return a


@dataclass
class Population:
    persons: list
    households: list
    start: date
    days: int
    reassigned_mobiles: int = 0
    twins: int = 0


# ---------------------------------------------------------------------------------------------
class _Cum:
    """Cumulative weights for fast weighted draws with random.Random."""

    def __init__(self, values, weights):
        self.values = list(values)
        self.cum = list(np.cumsum(np.asarray(weights, dtype=float)))

    def draw(self, rnd: random.Random):
        return self.values[bisect.bisect_left(self.cum, rnd.random() * self.cum[-1])]


def _tail_surnames(n: int) -> list[str]:
    out, seen = [], {s for s, _ in SURNAMES}
    rr = random.Random(12345)  # fixed: the tail list is data, independent of the seed
    while len(out) < n:
        p, r, s = rr.choice(TAIL_PREFIXES), rr.choice(TAIL_ROOTS), rr.choice(TAIL_SUFFIXES)
        name = p + r + s
        if len(name.replace(" ", "")) < 4 or name in seen:
            continue
        seen.add(name)
        out.append(name)
    return out


class NameBank:
    def __init__(self):
        self.top = _Cum([s for s, _ in SURNAMES], [c for _, c in SURNAMES])
        tail = _tail_surnames(2000)
        self.tail = _Cum(tail, [1.0 / (i + 300) ** 0.6 for i in range(len(tail))])
        self._first: dict[tuple[str, int], _Cum] = {}

    def surname(self, rnd: random.Random) -> str:
        return self.top.draw(rnd) if rnd.random() < TOP_SURNAME_SHARE else self.tail.draw(rnd)

    def first(self, rnd: random.Random, sex: str, year: int) -> str:
        key = (sex, year)
        if key not in self._first:
            table = FEMALE_FIRST if sex == "F" else MALE_FIRST
            names, weights = [], []
            for name, total, peaks in table:
                # a revival (second peak) is a small fraction of the name's century total
                w = sum(np.exp(-0.5 * ((year - pk) / 11.0) ** 2) * (1.0 if k == 0 else 0.12)
                        for k, pk in enumerate(peaks))
                names.append(name)
                weights.append(total * (w + 0.01))
            self._first[key] = _Cum(names, weights)
        return self._first[key].draw(rnd)


# ---------------------------------------------------------------------------------------------
class Registry:
    """Unique phone numbers and e-mail addresses across the population."""

    def __init__(self, rnd: random.Random):
        self.rnd = rnd
        self.phones: set[str] = set()
        self.emails: set[str] = set()

    def mobile(self) -> str:
        r = self.rnd
        while True:
            if r.random() < 0.7:
                num = "+336" + f"{r.randrange(10**8):08d}"
            else:
                num = "+337" + str(r.randint(3, 9)) + f"{r.randrange(10**7):07d}"
            if num not in self.phones:
                self.phones.add(num)
                return num

    def landline(self, prefix: str) -> str:
        r = self.rnd
        while True:
            num = "+33" + prefix + f"{r.randrange(10**6):06d}"
            if num not in self.phones:
                self.phones.add(num)
                return num

    def box(self) -> str:
        r = self.rnd
        while True:
            num = "+339" + r.choice("5578") + f"{r.randrange(10**7):07d}"
            if num not in self.phones:
                self.phones.add(num)
                return num

    def email(self, local: str, domain: str) -> str:
        """A new address; unique as a mailbox (gmail ignores dots: jean.dupont = jeandupont)."""
        def key(loc: str) -> str:
            return (loc.replace(".", "") if domain == "gmail.com" else loc) + "@" + domain

        loc, r = local, self.rnd
        while key(loc) in self.emails:
            loc = f"{local}{r.randint(1, 999)}"
        self.emails.add(key(loc))
        return f"{loc}@{domain}"


_DOMAINS = _Cum([d for d, _ in EMAIL_DOMAINS], [w for _, w in EMAIL_DOMAINS])


def _personal_local(rnd: random.Random, first: str, last: str, birth: date) -> str:
    f = ascii_slug(first, keep="-")
    f0 = ascii_slug(first)[:1]
    lname = ascii_slug(last)
    yy = f"{birth.year % 100:02d}"
    k = rnd.random()
    if k < 0.35:
        return f"{f}.{lname}"
    if k < 0.45:
        return f"{f}{lname}"
    if k < 0.53:
        return f"{f0}.{lname}"
    if k < 0.60:
        return f"{lname}.{f}"
    if k < 0.70:
        return f"{f}.{lname}{yy}"
    if k < 0.74:
        return f"{f}_{lname}"
    if k < 0.82:
        return f"{f}.{lname}{rnd.randint(1, 99)}"
    if k < 0.85:
        return f"{lname}{f0}"
    if k < 0.89:
        return f"{f}{birth.year}"
    if k < 0.94:
        return f"{f}{lname[:3]}{rnd.randint(10, 99)}"
    words = ["titi", "lulu", "choupette", "zebulon", "pitchoun", "loulou", "bibi", "kiki", "nono"]
    return f"{rnd.choice(words)}{rnd.randint(1, 99)}"


# ---------------------------------------------------------------------------------------------
def _adult_age(rnd: random.Random, kind: str) -> int:
    if kind == "single":
        k = rnd.random()
        if k < 0.38:
            return rnd.randint(20, 35)
        if k < 0.62:
            return rnd.randint(36, 60)
        return min(95, rnd.randint(61, 80) + int(rnd.expovariate(0.12)))
    if kind == "flatshare":
        return rnd.randint(19, 31)
    if kind in ("family", "single_parent", "family_gp"):
        return rnd.randint(26, 56)
    # couple without children: young couples and empty-nesters
    return rnd.randint(22, 34) if rnd.random() < 0.35 else rnd.randint(50, 85)


def _birth(rnd: random.Random, start: date, age: int) -> date:
    return start - timedelta(days=age * 365 + rnd.randint(0, 364))


def _address(rnd: random.Random, city_idx: int) -> Address:
    city, postcodes, region, _pop, _pref = CITIES[city_idx]
    k = rnd.random()
    number = str(rnd.randint(1, 40) if k < 0.7 else rnd.randint(41, 250))
    if rnd.random() < 0.05:
        number += rnd.choice(["bis", "ter", " bis", "B"])
    st = _STYPES.draw(rnd)
    comp = ""
    if rnd.random() < 0.12:
        comp = rnd.choice(ADDRESS_COMPLEMENTS).format(n=rnd.randint(1, 60), b=rnd.choice("ABCDE"),
                                                     last="Martin")
        if "chez" in comp:
            comp = ""
    return Address(number, st, rnd.choice(STREET_NAMES), comp, city, rnd.choice(postcodes), region,
                   city_idx)


_STYPES = _Cum([t for t, _, _ in STREET_TYPES], [w for _, w, _ in STREET_TYPES])
_CITY = _Cum(range(len(CITIES)), [c[3] for c in CITIES])


def build_population(n_persons: int, start: date, days: int, seed: int) -> Population:
    rnd = random.Random(seed * 1000 + 1)
    names = NameBank()
    reg = Registry(random.Random(seed * 1000 + 2))
    width = max(6, len(str(n_persons)))
    persons: list[Person] = []
    households: list[Household] = []

    kinds = [("single", 0.36), ("couple", 0.26), ("family", 0.24), ("single_parent", 0.08),
             ("family_gp", 0.03), ("flatshare", 0.03)]
    kind_cum = _Cum([k for k, _ in kinds], [w for _, w in kinds])

    def new_person(hh: Household, sex: str, age: int, last: str, role: str, first: str | None = None,
                   birth: date | None = None) -> Person:
        b = birth or _birth(rnd, start, age)
        fn = first or names.first(rnd, sex, b.year)
        p = Person(idx=len(persons), pid=f"P{len(persons) + 1:0{width}d}", hid=hh.hid, hh=hh.idx,
                   sex=sex, first=fn, last=last, birth=b, age=(start - b).days // 365, role=role)
        persons.append(p)
        hh.members.append(p.idx)
        return p

    while len(persons) < n_persons:
        kind = kind_cum.draw(rnd)
        hh = Household(idx=len(households), hid=f"H{len(households) + 1:0{width}d}", kind=kind,
                       members=[], addr_hist=[(PAST, _address(rnd, _CITY.draw(rnd)))])
        households.append(hh)
        if kind == "single":
            age = _adult_age(rnd, kind)
            sex = "F" if rnd.random() < (0.62 if age > 70 else 0.5) else "M"
            new_person(hh, sex, age, names.surname(rnd), "adult")
        elif kind == "flatshare":
            for _ in range(rnd.choice([2, 2, 3])):
                new_person(hh, rnd.choice("FM"), _adult_age(rnd, kind), names.surname(rnd), "flatmate")
        else:
            two_adults = kind != "single_parent"
            age = _adult_age(rnd, kind)
            s1 = names.surname(rnd)
            if two_adults:
                same_sex = rnd.random() < 0.04
                a = new_person(hh, "M" if not same_sex else rnd.choice("FM"), age, s1, "adult")
                maiden = names.surname(rnd)
                takes = (not same_sex) and rnd.random() < (0.75 if age > 40 else 0.5)
                b = new_person(hh, "F" if not same_sex else a.sex,
                               max(18, age + int(rnd.gauss(-2, 3))), s1 if takes else maiden, "adult")
                a.spouse, b.spouse = b.idx, a.idx
                child_last = s1 if rnd.random() < 0.92 else f"{s1}-{maiden}"
                young = min(a.age, b.age)
            else:
                a = new_person(hh, "F" if rnd.random() < 0.82 else "M", age, s1, "adult")
                child_last, young = s1, a.age
            if kind in ("family", "single_parent", "family_gp"):
                n_kids = rnd.choice([1, 1, 2, 2, 2, 3]) if kind != "single_parent" else rnd.choice([1, 1, 2])
                for _ in range(n_kids):
                    kage = rnd.randint(0, max(0, min(25, young - 20)))
                    new_person(hh, rnd.choice("FM"), kage, child_last, "child")
            if kind == "family_gp":
                new_person(hh, "F" if rnd.random() < 0.7 else "M", min(96, young + rnd.randint(25, 34)),
                           s1, "grandparent")
    # trim the last household to the exact size
    while len(persons) > n_persons:
        p = persons.pop()
        households[p.hh].members.remove(p.idx)
        if not households[p.hh].members:
            households.pop()
    for p in persons:
        if p.spouse >= len(persons):
            p.spouse = -1

    # --- twins: ~0.5 % of persons have a twin (same surname, birth date, address) -------------
    n_pairs = max(1, round(0.0025 * n_persons))
    fams = [h for h in households if sum(persons[i].role == "child" for i in h.members) >= 1]
    rnd.shuffle(fams)
    twins = 0
    for h in fams:
        if twins >= n_pairs:
            break
        kids = [persons[i] for i in h.members if persons[i].role == "child"]
        if len(kids) >= 2:
            a, b = kids[0], kids[1]
        else:
            continue
        b.birth, b.age = a.birth, a.age
        b.last = a.last
        while b.first == a.first:
            b.first = names.first(rnd, b.sex, b.birth.year)
        a.twin_of, b.twin_of = b.pid, a.pid
        twins += 1

    _contacts(rnd, reg, persons, households)
    reassigned = _life_events(rnd, reg, persons, households, days)
    _behaviour(random.Random(seed * 1000 + 3), persons, households, days)
    return Population(persons, households, start, days, reassigned, twins)


# ---------------------------------------------------------------------------------------------
def _contacts(rnd: random.Random, reg: Registry, persons: list, households: list) -> None:
    for h in households:
        addr = h.addr_hist[0][1]
        members = [persons[i] for i in h.members]
        oldest = max(p.age for p in members)
        if rnd.random() < (0.3 + 0.5 * (oldest > 60)):
            if rnd.random() < 0.35:
                num = reg.box()
            else:
                num = reg.landline(rnd.choice(CITIES[addr.city_idx][4]))
            h.landline = Contact(num, "landline")
        for p in members:
            if p.age >= 12 and h.landline:
                p.phones.append(Contact(h.landline.value, "landline"))
            # e-mails
            p_mail = 0.95 if 16 <= p.age <= 70 else (0.75 if 70 < p.age <= 80 else (0.4 if p.age > 80 else 0.0))
            if rnd.random() < p_mail:
                dom = _DOMAINS.draw(rnd)
                if p.age > 60 and rnd.random() < 0.4:
                    dom = rnd.choice(["orange.fr", "wanadoo.fr", "free.fr", "laposte.net", "sfr.fr"])
                p.emails.append(Contact(reg.email(_personal_local(rnd, p.first, p.last, p.birth), dom),
                                        "personal"))
            if 24 <= p.age <= 64 and rnd.random() < 0.25:
                local = f"{ascii_slug(p.first, keep='-')}.{ascii_slug(p.last)}"
                p.emails.append(Contact(reg.email(local, rnd.choice(WORK_DOMAINS)), "work"))
            if p.age >= 28 and rnd.random() < 0.2:
                end = -rnd.randint(60, 2500)
                local = _personal_local(rnd, p.first, p.last, p.birth)
                p.emails.append(Contact(reg.email(local, rnd.choice(OLD_EMAIL_DOMAINS)), "old",
                                        start=end - rnd.randint(700, 4000), end=end,
                                        deliverable=rnd.random() < 0.4))
            # phones
            p_mob = 0.97 if 16 <= p.age <= 75 else (0.8 if p.age > 75 else (0.5 if p.age >= 12 else 0))
            if rnd.random() < p_mob:
                p.phones.append(Contact(reg.mobile(), "mobile"))
            if 24 <= p.age <= 64 and rnd.random() < 0.15:
                # a work line: a desk number or a company mobile (a second mobile)
                num = (reg.mobile() if rnd.random() < 0.5
                       else reg.landline(rnd.choice(CITIES[rnd.randrange(len(CITIES))][4])))
                p.phones.append(Contact(num, "workphone"))
        adults = [p for p in members if p.age >= 18]
        # a family inbox, used by the adults (and teenagers) of the household
        if len(members) >= 2 and rnd.random() < 0.14:
            surname = ascii_slug(adults[0].last if adults else members[0].last)
            firsts = [ascii_slug(p.first) for p in adults[:2]]
            pats = [f"famille.{surname}", f"{surname}.famille", f"les{surname}", f"fam.{surname}",
                    f"famille{surname}"]
            if len(firsts) == 2:
                pats += [f"{firsts[0]}.et.{firsts[1]}", f"{firsts[0]}{firsts[1]}.{surname}"]
            addr_ = reg.email(rnd.choice(pats), rnd.choice(["orange.fr", "free.fr", "gmail.com", "sfr.fr",
                                                            "laposte.net", "wanadoo.fr"]))
            h.family_email = Contact(addr_, "family")
            for p in members:
                if p.age >= 15 and (p.age >= 18 or rnd.random() < 0.3):
                    p.emails.append(Contact(addr_, "family"))
        # one spouse's address used by both (the other has none of their own)
        couple = [p for p in adults if p.spouse >= 0]
        if len(couple) == 2:
            a, b = couple
            own_a = [c for c in a.emails if c.kind == "personal"]
            own_b = [c for c in b.emails if c.kind == "personal"]
            if own_a and not own_b:
                b.emails.append(Contact(own_a[0].value, "spouse"))
            elif own_b and not own_a:
                a.emails.append(Contact(own_b[0].value, "spouse"))
            elif own_a and own_b and a.age > 55 and rnd.random() < 0.15:
                # older couples: one abandons their own address for the spouse's
                own_b[0].kind = "old"
                own_b[0].end = -rnd.randint(100, 2000)
                own_b[0].start = own_b[0].end - 3000
                b.emails.append(Contact(own_a[0].value, "spouse"))
            if (a.age >= 18 and b.age >= 18 and rnd.random() < 0.12):
                h.shared_card = True
        if len(adults) >= 2 and rnd.random() < 0.12:
            h.shared_cookie = True


def _life_events(rnd: random.Random, reg: Registry, persons: list, households: list, days: int) -> int:
    frac = days / 365.0
    # moves
    for h in households:
        if rnd.random() < 0.07 * frac and days > 2:
            d = rnd.randint(1, days - 1)
            old = h.addr_hist[0][1]
            city = old.city_idx if rnd.random() < 0.6 else _CITY.draw(rnd)
            h.addr_hist.append((d, _address(rnd, city)))
            if h.landline and rnd.random() < 0.6:
                # the landline changes with the move (a new geographic number)
                end_old = d
                new = Contact(reg.landline(rnd.choice(CITIES[city][4])), "landline", start=d)
                h.landline.end = end_old
                for i in h.members:
                    for c in persons[i].phones:
                        if c.kind == "landline" and c.value == h.landline.value:
                            c.end = end_old
                    if persons[i].age >= 12:
                        persons[i].phones.append(Contact(new.value, "landline", start=d))
                h.landline = new
    adults = [p for p in persons if p.age >= 18]
    # new personal e-mail address during the window
    for p in adults:
        own = [c for c in p.emails if c.kind == "personal" and c.end == FOREVER]
        if own and rnd.random() < 0.04 * frac and days > 2:
            d = rnd.randint(1, days - 1)
            own[0].end = d
            own[0].kind = "old"
            own[0].deliverable = rnd.random() < 0.7
            dom = _DOMAINS.draw(rnd)
            p.emails.append(Contact(reg.email(_personal_local(rnd, p.first, p.last, p.birth), dom),
                                    "personal", start=d))
    # stale mobiles: A's old number (before the window) now belongs to an unrelated B
    with_mobile = [p for p in adults if p.mobile_at(0)]
    reassigned = 0
    n_stale = round(0.03 * len(with_mobile))
    for _ in range(n_stale):
        a, b = rnd.choice(with_mobile), rnd.choice(with_mobile)
        if a.hh == b.hh or a.idx == b.idx:
            continue
        bm = b.mobile_at(0)
        if bm is None or bm.start != PAST:
            continue
        end = -rnd.randint(120, 1500)
        bm.start = end + rnd.randint(30, 100)
        a.phones.append(Contact(bm.value, "mobile", start=end - rnd.randint(500, 3000), end=end))
        reassigned += 1
    # mobile changes during the window; the freed number goes to someone else later
    for p in adults:
        m = p.mobile_at(0)
        if m and m.end == FOREVER and rnd.random() < 0.05 * frac and days > 70:
            d = rnd.randint(1, days - 1)
            m.end = d
            p.phones.append(Contact(reg.mobile(), "mobile", start=d))
            if d + 60 < days - 1 and rnd.random() < 0.5:
                other = rnd.choice(adults)
                om = other.mobile_at(d + 60)
                if other.hh != p.hh and om and om.end == FOREVER:
                    d2 = rnd.randint(d + 60, days - 1)
                    om.end = d2
                    other.phones.append(Contact(m.value, "mobile", start=d2))
                    reassigned += 1
    # a married woman starts using her husband's name (usage name) during the window
    for p in adults:
        if (p.sex == "F" and p.spouse >= 0 and persons[p.spouse].last != p.last
                and not p.last_hist and rnd.random() < 0.03 * frac and days > 2):
            d = rnd.randint(1, days - 1)
            p.last_hist = [(PAST, p.last), (d, persons[p.spouse].last)]
            p.last = persons[p.spouse].last
    return reassigned


def _behaviour(rnd: random.Random, persons: list, households: list, days: int) -> None:
    """Propensities and silo membership plan."""
    for p in persons:
        a = p.age
        if a < 16:
            continue
        adult = a >= 18
        act = rnd.lognormvariate(0, 0.8)
        p.store_rate = (1.35 if adult else 0.2) * rnd.gammavariate(0.9, 1 / 0.9) * (0.6 if a > 80 else 1)
        web_aff = 1.0 if a < 45 else (0.7 if a < 60 else (0.35 if a < 75 else 0.1))
        p.web_order_rate = (2.1 * web_aff / 0.75) * rnd.gammavariate(0.8, 1 / 0.8) if adult else 0.0
        p.guest_rate = 0.38 * web_aff * rnd.gammavariate(0.6, 1 / 0.6) if adult else 0.05
        p.call_rate = 0.135 * rnd.gammavariate(0.7, 1 / 0.7) * (1.5 if a > 60 else 1)
        p.form_rate = 0.28 * rnd.gammavariate(0.5, 1 / 0.5) * (1.4 if a < 45 else 0.7)
        p.browse_rate = 0.75 * web_aff * rnd.gammavariate(0.7, 1 / 0.7) * act ** 0.3
        p.open_p = min(0.9, rnd.betavariate(1.3, 3.5))
        p.click_p = min(0.6, rnd.betavariate(1.2, 7))
        if adult:
            p_crm = 0.9 if 25 <= a <= 80 else 0.7
            if rnd.random() < p_crm:
                p.crm_join = (-rnd.randint(1, 8 * 365) if rnd.random() < 0.75 else rnd.randint(0, 364))
                if p.crm_join >= days:
                    p.crm_join = None
                if p.crm_join is not None and rnd.random() < 0.04:
                    d = rnd.randint(p.crm_join + 30, max(p.crm_join + 31, days + 200))
                    p.crm_dup_join = d if d < days else None
            p_acc = 0.72 * web_aff / 0.9
            if rnd.random() < min(0.85, p_acc):
                p.acct_join = (-rnd.randint(1, 6 * 365) if rnd.random() < 0.72 else rnd.randint(0, 364))
                if p.acct_join >= days:
                    p.acct_join = None
                if p.acct_join is not None and rnd.random() < 0.05:
                    d = rnd.randint(p.acct_join + 20, max(p.acct_join + 21, days + 300))
                    p.acct2_join = d if d < days else None
