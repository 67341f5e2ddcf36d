"""ecommerce/accounts (customers typing their own data) and ecommerce/orders (jsonl, status upserts)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np

from .common import birth_str, norm_email
from .context import Ctx
from .landing import Row
from .noise import Style, choice_w, render_city, render_email, render_names, render_phone, render_street
from .population import Person

STYLE = Style(upper_last=0.03, upper_all=0.03, lower_all=0.12, no_accents=0.15, typo_name=0.01,
              swap_names=0.01, nickname=0.02, spaces=0.03, hyphen_space=0.2, email_case=0.1, email_tag=0.08,
              email_typo=0.008, email_space=0.01, gmail_dots=0.02,
              phone_formats=(("compact", 0.45), ("spaced", 0.3), ("e164", 0.12), ("dots", 0.08),
                             ("intl00", 0.03), ("e164_spaced", 0.02)),
              street_abbrev=0.25, street_upper=0.05, street_comma=0.25, city_upper=0.15, city_alias=0.15)
RELAYS = ["Relais Colis - Tabac Le Balto", "Point Relais - Presse du Centre", "Locker Gare",
          "Relais - Supérette Proxi", "Pickup - Fleuriste Les Roses"]


@dataclass
class Account:
    account_id: str
    owner: str                     # pid who opened it
    users: list                    # pids who use it (a shared family account has several)
    join: int
    email: str                     # as typed
    email_canon: str
    rows: list = field(default_factory=list)   # [(utc, day, state)]
    deleted_day: int = 10**6


def _ts_style(rnd) -> str:
    return choice_w(rnd, [("offset", 0.5), ("z", 0.4), ("zms", 0.1)])


def generate_accounts(ctx: Ctx) -> None:
    rnd = ctx.rnd("accounts")
    days = ctx.days
    ent = ctx.entity("ecommerce", "accounts", schedule=list(range(days)))
    used_ids: set[str] = set()
    taken: set[str] = set()    # normalised e-mails that already have an account
    next_year = ctx.clock.start.year + 1

    def utc(day: int, sec: int) -> int:
        return int(ctx.clock.at1(day, sec))

    def new_id() -> str:
        while True:
            v = str(rnd.randint(100000, 9999999))
            if v not in used_ids:
                used_ids.add(v)
                return v

    def address(st: dict, p: Person, day: int) -> None:
        a = ctx.households[p.hh].address_at(day)
        if rnd.random() < 0.25:
            st["address_line"] = st["postcode"] = st["city"] = ""
            return
        st["address_line"] = render_street(rnd, a.number, a.stype, a.sname, a.complement, STYLE)
        st["postcode"], st["city"] = a.postcode, render_city(rnd, a.city, a.postcode, STYLE)

    def emit(acc: Account, st: dict, t: int, day: int) -> None:
        style = _ts_style(rnd)
        created, updated = ctx.clock.render1(st["created_utc"], style), ctx.clock.render1(t, style)
        vals = [acc.account_id, st["email"], st["first_name"], st["last_name"], st["phone"], st["birth_date"],
                st["address_line"], st["postcode"], st["city"], st["country"], st["card"], created, updated]
        ent.rows.append(Row(max(0, day), t, vals))

    def open_account(p: Person, join: int, second: bool) -> None:
        hh = ctx.households[p.hh]
        cands = []
        main = p.main_email_at(join)
        if hh.family_email and any(c.kind == "family" for c in p.emails) and rnd.random() < 0.2:
            cands.append(hh.family_email.value)
        if second:
            cands += [c.value for c in p.emails if c.start <= join < c.end and c.kind in ("work", "personal")]
            rnd.shuffle(cands)
        if main:
            cands.append(main.value)
        cands += [c.value for c in p.emails if c.start <= join < c.end]
        email = next((c for c in cands if norm_email(c) not in taken), None)
        if email is None:
            return
        taken.add(norm_email(email))
        users = [p.pid]
        if hh.family_email and email == hh.family_email.value:
            users += [ctx.persons[i].pid for i in hh.members
                      if ctx.persons[i].pid != p.pid and ctx.persons[i].age >= 18
                      and any(c.value == email for c in ctx.persons[i].emails)]
        elif p.spouse >= 0 and any(c.kind == "spouse" and c.value == email
                                   for c in p.emails + ctx.persons[p.spouse].emails):
            users.append(ctx.persons[p.spouse].pid)
        rendered = render_email(rnd, email, STYLE)
        acc = Account(new_id(), p.pid, users, join, rendered, email)
        first, last = render_names(rnd, p.first, p.last_at(join), STYLE)
        st = {"email": rendered, "first_name": first, "last_name": last,
              "birth_date": birth_str(rnd, p, 0.7, next_year, ctx.traps)}
        st["phone"] = ""
        if rnd.random() < 0.6:
            c = p.mobile_at(join) or p.phone_of_kind(join, "landline")
            if c:
                st["phone"] = render_phone(rnd, c.value, STYLE)
        address(st, p, join)
        st["country"] = choice_w(rnd, [("FR", 0.55), ("France", 0.4), ("", 0.05)])
        card = ""
        crm = ctx.crm_by_person.get(p.pid, [])
        if crm and rnd.random() < 0.22:
            card = crm[0].card_at(max(join, crm[0].created_day))
        elif hh.shared_card and p.spouse >= 0 and rnd.random() < 0.3:
            sp = ctx.crm_by_person.get(ctx.persons[p.spouse].pid, [])
            if sp:
                card = sp[0].card_at(max(join, sp[0].created_day))
        st["card"] = card
        sec = int(ctx.sample_seconds(np.random.default_rng(rnd.randrange(2**32)), 1, "web")[0])
        st["created_utc"] = utc(join, sec)
        first_t = st["created_utc"]
        if join < 0 and rnd.random() < 0.5:
            first_t = max(first_t, utc(rnd.randint(join, -1), 12 * 3600))
        rows = [(first_t, max(0, join), dict(st))]
        events = []
        lo = max(0, join + 1)
        for d, _a in ctx.households[p.hh].addr_hist[1:]:
            if d >= lo and rnd.random() < 0.6:
                events.append((d + int(rnd.expovariate(1 / 25)), "move"))
        if any(c.kind == "personal" and c.start >= lo for c in p.emails) and rnd.random() < 0.4:
            newc = next(c for c in p.emails if c.kind == "personal" and c.start >= lo)
            events.append((newc.start + int(rnd.expovariate(1 / 30)), "email"))
        if not st["phone"] and rnd.random() < 0.1 * ctx.frac:
            events.append((rnd.randint(lo, lo + days), "phone"))
        if not st["card"] and crm and rnd.random() < 0.05 * ctx.frac:
            events.append((rnd.randint(lo, lo + days), "card"))
        if rnd.random() < 0.05 * ctx.frac:
            events.append((rnd.randint(lo, lo + days), "name"))
        cut = days if p.erase_day is None else min(days, p.erase_day)
        last_t = first_t
        for d, kind in sorted(e for e in events if e[0] < cut):
            t = max(utc(d, 10 * 3600 + rnd.randint(0, 40000)), last_t + 60)
            d = int(ctx.clock.day_of1(t))
            if d >= cut:
                break
            st = dict(st)
            if kind == "move":
                address(st, p, d)
            elif kind == "email":
                newc = next(c for c in p.emails if c.kind == "personal" and c.start >= lo)
                if norm_email(newc.value) in taken:
                    continue
                taken.add(norm_email(newc.value))
                st["email"] = render_email(rnd, newc.value, STYLE)
            elif kind == "phone":
                c = p.mobile_at(d)
                if not c:
                    continue
                st["phone"] = render_phone(rnd, c.value, STYLE)
            elif kind == "card":
                st["card"] = crm[0].card_at(d)
            else:
                st["first_name"], st["last_name"] = render_names(rnd, p.first, p.last_at(d), STYLE)
            rows.append((t, d, st))
            last_t = t
        for t, d, s in rows:
            emit(acc, s, t, d)
            for u in acc.users:
                ctx.use_email(u, s["email"])
            ctx.use_phone(p.pid, s["phone"])
        acc.rows = rows
        if p.erase_day is not None:
            acc.deleted_day = p.erase_day
        ctx.accounts.append(acc)
        for u in users:
            ctx.accounts_by_person.setdefault(u, []).append(acc)
            ctx.truth.rec("ecommerce", acc.account_id, u)

    for p in ctx.persons:
        if p.acct_join is not None:
            open_account(p, p.acct_join, False)
            if p.acct2_join is not None and (p.erase_day is None or p.acct2_join < p.erase_day):
                open_account(p, p.acct2_join, True)
    # test accounts (nobody real)
    for _ in range(max(1, round(len(ctx.persons) / 10000))):
        d = rnd.randrange(days)
        t = utc(d, 11 * 3600)
        acc = Account(new_id(), "", [], d, "qa.test@maxidom.fr", "")
        st = {"email": f"qa.test{rnd.randint(1, 99)}@maxidom.fr", "first_name": "Test", "last_name": "Recette",
              "birth_date": "", "phone": "", "address_line": "", "postcode": "", "city": "", "country": "FR",
              "card": "", "created_utc": t}
        emit(acc, st, t, d)
        ctx.truth.rec("ecommerce", acc.account_id, "")


# ---------------------------------------------------------------------------------------------
class _Catalogue:
    def __init__(self, products):
        order = sorted(range(len(products)), key=lambda i: products[i].added_day)
        self.products = [products[i] for i in order]
        self.added = [p.added_day for p in self.products]
        self.cum = np.cumsum([p.popularity for p in self.products])

    def draw(self, rnd, day: int, category: str | None = None):
        n = bisect.bisect_right(self.added, day)
        n = max(n, 1)
        for _ in range(4):
            i = int(np.searchsorted(self.cum[:n], rnd.random() * self.cum[n - 1], side="right"))
            p = self.products[min(i, n - 1)]
            if category is None or p.category == category:
                return p
        return p


def order_lines(ctx: Ctx, rnd, cat: _Catalogue, day: int, store: bool) -> list[tuple]:
    n = choice_w(rnd, [(1, 0.6), (2, 0.25), (3, 0.1), (4, 0.04), (5, 0.01)]) if not store else \
        choice_w(rnd, [(1, 0.35), (2, 0.3), (3, 0.17), (4, 0.1), (5, 0.05), (6, 0.03)])
    out = []
    promo = 0.8 if day == ctx.peak_day else 1.0
    for _ in range(n):
        p = cat.draw(rnd, day)
        q = choice_w(rnd, [(1, 0.88), (2, 0.09), (3, 0.03)])
        if p.price < 20 and rnd.random() < 0.3:
            q += rnd.randint(1, 3)
        price = round(p.price * promo, 2) if promo != 1 and rnd.random() < 0.7 else p.price
        disc = 0.0
        if rnd.random() < 0.12:
            disc = round(q * price * rnd.uniform(0.05, 0.3), 2)
        out.append((p.sku, q, price, disc))
    return out


def _shipping(ctx: Ctx, rnd, p: Person, day: int) -> dict:
    a = ctx.households[p.hh].address_at(day)
    k = rnd.random()
    country = choice_w(rnd, [("FR", 0.7), ("France", 0.3)])
    if k < 0.08:
        return {"address_line": f"{rnd.choice(RELAYS)}, {a.number} {a.stype} {a.sname}", "postcode": a.postcode,
                "city": a.city, "country": country}
    if k < 0.12:
        # a gift sent to someone else
        other = ctx.households[rnd.randrange(len(ctx.households))].address_at(day)
        a = other
    return {"address_line": render_street(rnd, a.number, a.stype, a.sname, a.complement, STYLE),
            "postcode": a.postcode, "city": render_city(rnd, a.city, a.postcode, STYLE), "country": country}


def generate_orders(ctx: Ctx) -> None:
    rnd = ctx.rnd("orders")
    rng = ctx.rng("orders")
    days = ctx.days
    ent = ctx.entity("ecommerce", "orders", schedule=list(range(days)))
    cat = _Catalogue(ctx.products)
    ctx.catalogue = cat
    ctx.web_orders = []
    n_id = [0]

    def new_order_id() -> str:
        n_id[0] += 1
        return f"W{ctx.clock.start.year % 100:02d}{n_id[0] * 37 % 10**7:07d}"

    buyers, kinds, accts = [], [], []
    for p in ctx.persons:
        for acc in ctx.accounts_by_person.get(p.pid, []):
            buyers.append(p)
            kinds.append("account")
            accts.append(acc)
        if p.guest_rate > 0:
            buyers.append(p)
            kinds.append("guest")
            accts.append(None)
    rates = np.array([(b.web_order_rate / max(1, len(ctx.accounts_by_person.get(b.pid, []))))
                      if k == "account" else b.guest_rate for b, k in zip(buyers, kinds)])
    counts = ctx.event_counts(rng, rates, "web")
    # orders placed in the week before the window, whose later statuses arrive inside it
    pre = rng.poisson(rates * 7 / 365.0)
    total = int(counts.sum())
    who = np.repeat(np.arange(len(buyers)), counts)
    odays = ctx.sample_days(rng, total, "web")
    who = np.concatenate([who, np.repeat(np.arange(len(buyers)), pre)])
    odays = np.concatenate([odays, -rng.integers(1, 8, size=int(pre.sum()))])
    secs = ctx.sample_seconds(rng, len(who), "web")
    utcs = ctx.clock.at(odays, secs)
    order = np.argsort(utcs, kind="stable")
    guests_test = max(1, round(len(ctx.persons) / 5000))
    for j in order:
        b, kind, acc = buyers[who[j]], kinds[who[j]], accts[who[j]]
        t0, d0 = int(utcs[j]), int(odays[j])
        if b.erase_day is not None and d0 >= b.erase_day:
            continue
        if kind == "account" and (d0 < acc.join or d0 >= acc.deleted_day):
            continue
        hh = ctx.households[b.hh]
        household = ""
        if kind == "account":
            account_id, guest_email = acc.account_id, None
            if len(acc.users) > 1:
                household = b.hid
            if rnd.random() < 0.04:
                # logged out: ordered as a guest with the account's address
                account_id, guest_email = None, acc.email if rnd.random() < 0.7 else render_email(
                    rnd, acc.email_canon, STYLE)
        else:
            account_id = None
            em = b.main_email_at(d0)
            if hh.family_email and any(c.kind == "family" for c in b.emails) and rnd.random() < 0.25:
                em = hh.family_email
            if em is None:
                continue
            guest_email = render_email(rnd, em.value, STYLE)
            if em.kind in ("family", "spouse"):
                household = b.hid
        oid = new_order_id()
        lines = order_lines(ctx, rnd, cat, max(d0, 0), store=False)
        net = round(sum(q * pr - di for _s, q, pr, di in lines), 2)
        # status flow
        r = rnd.random()
        flow = [("placed", t0)]
        t = t0
        if r < 0.04:
            flow.append(("cancelled", t + rnd.randint(600, 36 * 3600)))
        else:
            t += rnd.randint(8 * 3600, 3 * 86400)
            flow.append(("shipped", t))
            t += rnd.randint(20 * 3600, 5 * 86400)
            flow.append(("delivered", t))
            if r > 0.94:
                flow.append(("returned", t + rnd.randint(3 * 86400, 20 * 86400)))
        shipping = _shipping(ctx, rnd, b, max(d0, 0))
        currency = "EUR" if rnd.random() > 0.03 else None
        emitted = []
        for status, ts in flow:
            d = int(ctx.clock.day_of1(ts))
            if d < 0 or d >= days:
                continue
            obj = {"order_id": oid, "account_id": account_id, "guest_email": guest_email,
                   "ordered_at": ctx.clock.render1(t0, _ts_style(rnd)), "status": status,
                   "currency": currency, "shipping": shipping,
                   "lines": [{"sku": s, "quantity": q, "unit_price": pr, "discount": di}
                             for s, q, pr, di in lines]}
            if d >= days // 2:
                obj["channel"] = "app" if rnd.random() < 0.3 else "site"   # extra key, newer exports
            if guest_email is None and rnd.random() < 0.5:
                del obj["guest_email"]
            ent.rows.append(Row(d, ts, obj))
            emitted.append((status, ctx.clock.day_str(d)))
        if not emitted:
            continue
        ctx.orders_by_person.setdefault(b.pid, []).append((oid, d0))
        if account_id is None:
            ctx.truth.rec("ecommerce", oid, b.pid)
            ctx.use_email(b.pid, guest_email)
        ctx.web_orders.append((b, account_id, t0))
        ctx.truth.purchases.append({
            "purchase_id": oid, "channel": "web", "person_id": b.pid, "household_id": household,
            "local_date": ctx.clock.day_str(d0), "net_amount": f"{net:.2f}",
            "counts": "true" if emitted[-1][0] in ("placed", "shipped", "delivered") else "false",
            "actual_person_id": b.pid, "kind": "order",
            "status_history": "|".join(f"{s}:{d}" for s, d in emitted)})
    # checkout tests by the QA team (nobody real)
    for _ in range(guests_test):
        d = rnd.randrange(days)
        ts = int(ctx.clock.at1(d, 10 * 3600))
        oid = new_order_id()
        obj = {"order_id": oid, "account_id": None, "guest_email": "test@maxidom.fr",
               "ordered_at": ctx.clock.render1(ts, "z"), "status": "cancelled",
               "currency": "EUR", "shipping": {"address_line": "1 rue du Test", "postcode": "75001",
                                                "city": "Paris", "country": "FR"},
               "lines": [{"sku": ctx.products[0].sku, "quantity": 1, "unit_price": ctx.products[0].price,
                          "discount": 0.0}]}
        ent.rows.append(Row(d, ts, obj))
        ctx.truth.rec("ecommerce", oid, "")
