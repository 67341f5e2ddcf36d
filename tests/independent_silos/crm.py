"""crm/customers: loyalty members typed in by store staff, upserted over time."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .common import Sub, birth_str, bool_str, email_users, norm_email
from .context import Ctx
from .data_places import ACQUISITION_CHANNELS, INCOME_BANDS, OCCUPATIONS
from .landing import COLUMNS, Row
from .noise import (
    Style,
    choice_w,
    format_phone,
    render_city,
    render_email,
    render_names,
    render_phone,
    render_postcode,
    render_street,
)
from .population import Person

STYLE = Style(upper_last=0.5, upper_all=0.08, lower_all=0.02, no_accents=0.3, typo_name=0.02,
              swap_names=0.015, nickname=0.003, spaces=0.02, hyphen_space=0.3, email_case=0.08,
              email_typo=0.012, email_space=0.01,
              phone_formats=(("spaced", 0.5), ("compact", 0.22), ("dots", 0.1), ("e164", 0.05),
                             ("intl00_dashes", 0.03), ("paren", 0.02), ("lost_zero", 0.03), ("dashes", 0.05)),
              street_abbrev=0.4, street_upper=0.25, street_comma=0.15, city_upper=0.5, city_alias=0.25,
              postcode_lost_zero=0.03)
COLS = COLUMNS[("crm", "customers")]


@dataclass
class CrmRecord:
    crm_id: str
    pid: str
    created_day: int
    cards: list = field(default_factory=list)       # [(from_day, card_id)]
    snapshots: list = field(default_factory=list)   # [(utc, day, state dict)]
    email_ever: bool = False

    def card_at(self, day: int) -> str:
        card = ""
        for d, c in self.cards:
            if d <= day:
                card = c
        return card


class _Ids:
    def __init__(self, rnd, width: int, prefix: str = ""):
        self.rnd, self.width, self.prefix, self.used = rnd, width, prefix, set()

    def new(self) -> str:
        while True:
            v = f"{self.prefix}{self.rnd.randrange(10 ** self.width):0{self.width}d}"
            if v not in self.used:
                self.used.add(v)
                return v


def _civility(rnd, p: Person) -> str:
    k = rnd.random()
    if k < 0.05:
        return ""
    if p.sex == "F":
        if p.age > 60 and p.spouse < 0 and rnd.random() < 0.08:
            return "Mlle"
        return choice_w(rnd, [("Mme", 0.88), ("Madame", 0.05), ("MME", 0.05), ("Mme.", 0.02)])
    return choice_w(rnd, [("M.", 0.8), ("M", 0.08), ("Mr", 0.07), ("Monsieur", 0.05)])


def render_phone_of(rnd, p: Person, day: int, mobile_share: float = 0.8):
    """(rendered, canonical, kind) of the number a person gives, or blanks."""
    m = p.mobile_at(day)
    land = p.phone_of_kind(day, "landline")
    work = p.phone_of_kind(day, "workphone")
    k = rnd.random()
    c = None
    if m and (k < mobile_share or not land):
        c = m
    elif land:
        c = land
    if work and rnd.random() < 0.02:
        c = work
    if c is None:
        return "", "", ""
    return render_phone(rnd, c.value, STYLE), c.value, c.kind


def esp_email(rnd, rendered: str) -> str:
    s = rendered.strip()
    return s.lower() if rnd.random() < 0.7 else s


def esp_phone(rnd, e164: str) -> str:
    return format_phone(e164, choice_w(rnd, [("no_plus", 0.5), ("e164", 0.3), ("compact", 0.2)]))


def generate_crm(ctx: Ctx) -> None:
    rnd = ctx.rnd("crm")
    days = ctx.days
    ent = ctx.entity("crm", "customers", schedule=list(range(days)), extras=["source_system"],
                     extras_from=days // 2 if days > 10 else days)
    ids = _Ids(rnd, 8)
    cards = _Ids(rnd, 11, prefix="04")
    next_year = ctx.clock.start.year + 1
    bool_switch = days // 3
    ts_switch = days // 2
    store_secs = lambda: rnd.randint(9 * 3600 + 600, 19 * 3600 + 1800)

    def utc(day: int, sec: int) -> int:
        return int(ctx.clock.at1(day, sec))

    def state_for(p: Person, day: int, email_day: int) -> dict:
        hh = ctx.households[p.hh]
        first, last = render_names(rnd, p.first, p.last_at(day), STYLE)
        st = {"civility": _civility(rnd, p), "first_name": first, "last_name": last,
              "birth_date": birth_str(rnd, p, 0.15, next_year, ctx.traps)}
        em = p.main_email_at(email_day)
        if em and rnd.random() < 0.3 and hh.family_email and any(c.kind == "family" for c in p.emails):
            em = next(c for c in p.emails if c.kind == "family")
        if em and rnd.random() < 0.82:
            st["email"], st["email_canon"] = render_email(rnd, em.value, STYLE), em.value
        else:
            st["email"], st["email_canon"] = "", ""
        if rnd.random() < 0.88:
            st["phone"], st["phone_canon"], st["phone_kind"] = render_phone_of(rnd, p, email_day)
        else:
            st["phone"], st["phone_canon"], st["phone_kind"] = "", "", ""
        _set_address(st, p, day)
        st["country"] = choice_w(rnd, [("FR", 0.6), ("France", 0.25), ("FRANCE", 0.08), ("", 0.07)])
        size = len(hh.members)
        kids = sum(ctx.persons[i].role == "child" for i in hh.members)
        k = rnd.random()
        st["household_size"] = ("" if k < 0.25 else str(size + rnd.choice([-1, 1])) if k < 0.29 else str(size))
        st["children_count"] = "" if rnd.random() < 0.35 else str(kids)
        st["occupation"] = ("Retraité" if p.age > 64 and rnd.random() < 0.8 else rnd.choice(OCCUPATIONS)) \
            if rnd.random() < 0.6 else ""
        st["income_band"] = rnd.choice(INCOME_BANDS) if rnd.random() < 0.4 else ""
        st["acquisition_channel"] = choice_w(rnd, [(c, w) for c, w in zip(ACQUISITION_CHANNELS,
                                                                        [0.6, 0.2, 0.05, 0.05, 0.05, 0.05])])
        st["consent_email"] = (rnd.random() < 0.62) if st["email"] else (rnd.random() < 0.1)
        st["consent_sms"] = (rnd.random() < 0.42) if st["phone"] else False
        st["consent_post"] = rnd.random() < 0.5
        for c in ("consent_email", "consent_sms", "consent_post"):
            if rnd.random() < 0.04:
                st[c] = None  # blank: the member never answered
        return st

    def _set_address(st: dict, p: Person, day: int) -> None:
        a = ctx.households[p.hh].address_at(day)
        if rnd.random() < 0.05:
            st["address_line"] = st["postcode"] = st["city"] = ""
            return
        st["address_line"] = render_street(rnd, a.number, a.stype, a.sname, a.complement, STYLE)
        st["postcode"] = render_postcode(rnd, a.postcode, STYLE)
        st["city"] = render_city(rnd, a.city, a.postcode, STYLE)

    def emit(rec: CrmRecord, st: dict, t: int, day: int, file_day: int | None = None) -> None:
        fd = max(0, day) if file_day is None else file_day
        bstyle = "10" if fd < bool_switch else "tf"
        tstyle = "local" if fd < ts_switch else "offset"
        created, updated = ctx.clock.render1(st["created_utc"], tstyle), ctx.clock.render1(t, tstyle)
        vals = [rec.crm_id, st["card"], st["civility"], st["first_name"], st["last_name"], st["birth_date"],
                st["email"], st["phone"], st["address_line"], st["postcode"], st["city"], st["country"],
                st["household_size"], st["children_count"], st["occupation"], st["income_band"],
                st["acquisition_channel"], created, updated, bool_str(st["consent_email"], bstyle),
                bool_str(st["consent_sms"], bstyle), bool_str(st["consent_post"], bstyle),
                "STORE-POS" if st["acquisition_channel"] == "store" else "CRM-WEB"]
        ent.rows.append(Row(fd, t, vals))

    def make_record(p: Person, join: int, primary: bool) -> None:
        rec = CrmRecord(ids.new(), p.pid, join)
        if rnd.random() < 0.93:
            rec.cards.append((join, cards.new()))
        if join < 0:
            last_pre = rnd.randint(join, -1)
            email_day = last_pre if rnd.random() < 0.5 else join
        else:
            last_pre, email_day = join, join
        st = state_for(p, join, email_day)
        if not primary and rnd.random() < 0.5:
            # the second record was opened with another of the person's addresses
            others = [c for c in p.emails if c.start <= join < c.end and c.value != st["email_canon"]]
            if others:
                c = rnd.choice(others)
                st["email"], st["email_canon"] = render_email(rnd, c.value, STYLE), c.value
        st["created_utc"] = utc(join, store_secs())
        st["card"] = rec.card_at(join)
        first_t = max(st["created_utc"], utc(last_pre, store_secs())) if last_pre > join else st["created_utc"]
        # events during the window
        events: list[tuple[int, str, object]] = []
        lo = max(0, join + 1)
        hh = ctx.households[p.hh]
        for d, _a in hh.addr_hist[1:]:
            if d >= lo and rnd.random() < 0.7:
                events.append((d + int(rnd.expovariate(1 / 12)), "move", None))
        for c in p.emails:
            if c.kind == "personal" and c.start >= lo and c.start > -10**5 and rnd.random() < 0.5:
                events.append((c.start + int(rnd.expovariate(1 / 20)), "email", c))
        for c in p.phones:
            if c.kind == "mobile" and lo <= c.start < 10**5 and rnd.random() < 0.5:
                events.append((c.start + int(rnd.expovariate(1 / 20)), "phone", c))
        for d, _n in p.last_hist[1:]:
            if d >= lo and rnd.random() < 0.7:
                events.append((d + int(rnd.expovariate(1 / 30)), "name", None))
        if rnd.random() < 0.06 * ctx.frac:
            d = rnd.randint(lo, lo + days)
            if p.object_day is None or d < p.object_day:
                events.append((d, "consent", None))
        if rec.cards and rnd.random() < 0.02 * ctx.frac:
            events.append((rnd.randint(lo, lo + days), "card", None))
        for _ in range(np.random.default_rng(rnd.randrange(2**32)).poisson(0.2 * ctx.frac)):
            events.append((rnd.randint(lo, lo + days), "touch", None))
        if p.object_day is not None and p.object_day >= lo and rnd.random() < 0.6:
            events.append((p.object_day + rnd.randint(0, 3), "objection", None))
        cut = days if p.erase_day is None else min(days, p.erase_day)
        events = sorted((e for e in events if e[0] < cut), key=lambda e: (e[0], e[1]))

        ctx.crm_records.append(rec)
        ctx.crm_by_person.setdefault(p.pid, []).append(rec)
        ctx.truth.rec("crm", rec.crm_id, p.pid)
        rows: list[tuple[int, int, dict]] = []
        rows.append((first_t, max(0, join), dict(st)))
        last_t = first_t
        for d, kind, arg in events:
            t = max(utc(d, store_secs()), last_t + rnd.randint(30, 600))
            d = int(ctx.clock.day_of1(t))
            if d >= cut:
                break
            st = dict(st)
            if kind == "move":
                _set_address(st, p, d)
            elif kind == "email":
                st["email"], st["email_canon"] = render_email(rnd, arg.value, STYLE), arg.value
            elif kind == "phone":
                st["phone"], st["phone_canon"], st["phone_kind"] = render_phone(rnd, arg.value, STYLE), \
                    arg.value, "mobile"
            elif kind == "name":
                _f, st["last_name"] = render_names(rnd, p.first, p.last_at(d), STYLE)
            elif kind == "consent":
                ch = rnd.choice(["consent_email", "consent_sms"])
                st[ch] = not bool(st[ch])
            elif kind == "card":
                rec.cards.append((d, cards.new()))
                st["card"] = rec.card_at(d)
            elif kind == "objection":
                st["consent_email"] = st["consent_sms"] = st["consent_post"] = False
            else:
                if rnd.random() < 0.3:
                    st["household_size"] = str(len(hh.members))
            rows.append((t, d, st))
            last_t = t
        for i, (t, d, s) in enumerate(rows):
            emit(rec, s, t, d)
            if i and ctx.traps and rnd.random() < 0.004 and d + 1 < days:
                # a stale version re-sent later (older updated_at): the latest updated_at must win
                pt, pd, ps = rows[i - 1]
                emit(rec, ps, pt, pd, file_day=min(days - 1, d + rnd.randint(1, 10)))
        rec.snapshots = rows
        # consent truth and the e-mail / SMS lists fed to the ESP
        prev_e = prev_s = None
        for t, d, s in rows:
            if s["consent_email"] is not None and s["consent_email"] != prev_e:
                ctx.log_consent(p.pid, t, "email", s["consent_email"])
                prev_e = s["consent_email"]
            if s["consent_sms"] is not None and s["consent_sms"] != prev_s:
                ctx.log_consent(p.pid, t, "sms", s["consent_sms"])
                prev_s = s["consent_sms"]
            ctx.use_email(p.pid, s["email"])
            ctx.use_phone(p.pid, s["phone"])
            rec.email_ever = rec.email_ever or bool(s["email"])
        _subs(ctx, rnd, p, rows, days)

    for p in ctx.persons:
        if p.crm_join is None:
            continue
        make_record(p, p.crm_join, True)
        if p.crm_dup_join is not None and (p.erase_day is None or p.crm_dup_join < p.erase_day):
            make_record(p, p.crm_dup_join, False)

    # staff test members (nobody real)
    for i in range(max(1, round(len(ctx.persons) / 8000))):
        d = rnd.randrange(days)
        t = utc(d, store_secs())
        cid = ids.new()
        st = {"civility": "", "first_name": rnd.choice(["TEST", "Test", "CLIENT"]),
              "last_name": rnd.choice(["MAGASIN", "Caisse 2", "TEST", "DIVERS"]), "birth_date": "",
              "email": rnd.choice(["test@maxidom.fr", "", "caisse@maxidom.fr"]), "phone": "",
              "address_line": "", "postcode": "", "city": "", "country": "FR", "household_size": "",
              "children_count": "", "occupation": "", "income_band": "", "acquisition_channel": "store",
              "consent_email": False, "consent_sms": False, "consent_post": False, "created_utc": t,
              "card": cards.new()}
        rec = CrmRecord(cid, "", d, [(d, st["card"])])
        rec.snapshots = [(t, d, st)]
        ctx.crm_records.append(rec)
        emit(rec, st, t, d)
        ctx.truth.rec("crm", cid, "")
    assert len(COLS) == 22


def _subs(ctx: Ctx, rnd, p: Person, rows: list, days: int) -> None:
    """E-mail and SMS list entries from a CRM record's history of consents and contacts."""
    for ch, key, canon_key, cons in (("email", "email", "email_canon", "consent_email"),
                                     ("sms", "phone", "phone_canon", "consent_sms")):
        cur = None
        for i, (t, d, s) in enumerate(rows):
            d_end = rows[i + 1][1] if i + 1 < len(rows) else 10**6
            ok = bool(s[cons]) and bool(s[key])
            if ch == "sms" and ok and s.get("phone_kind") != "mobile" and rnd.random() < 0.85:
                ok = False  # the ESP does not text a landline (usually)
            if ok and cur is not None and cur.canonical == s[canon_key]:
                cur.end = d_end
                continue
            if ok:
                if ch == "email":
                    rec_str = esp_email(rnd, s[key])
                    same = norm_email(s[key]) == norm_email(s[canon_key])
                    owners = email_users(ctx, s[canon_key]) if same else [p.pid]
                    if p.pid not in owners:
                        owners = [p.pid] + owners
                    deliv = same and _deliverable(ctx, p, s[canon_key], d)
                else:
                    rec_str = esp_phone(rnd, s[canon_key])
                    owners = [p.pid]
                    if s.get("phone_kind") == "landline":
                        owners = [ctx.persons[i].pid for i in ctx.households[p.hh].members
                                  if ctx.persons[i].age >= 16] or [p.pid]
                    deliv = s.get("phone_kind") == "mobile"
                cur = Sub(ch, rec_str, s[canon_key], owners, d, d_end, deliv, "crm",
                          [(p.open_p, p.click_p)])
                ctx.esp_entries.append(cur)
            else:
                cur = None


def _deliverable(ctx: Ctx, p: Person, canonical: str, day: int) -> bool:
    for c in p.emails:
        if c.value == canonical:
            return c.deliverable or day < c.end
    return True
