"""pos/receipts: one row per receipt line, `;` delimiter, decimal comma, returns as negative quantities."""

from __future__ import annotations

import numpy as np

from .context import Ctx
from .data_places import PAYMENT_METHODS
from .ecommerce import order_lines
from .landing import Row
from .noise import choice_w

STAFF_CARD = "0000000000000"


def _card_for(ctx: Ctx, p, day: int) -> tuple[str, bool]:
    """(card the person shows at the till on that day, is it a card the couple shares?)."""
    def card_of(q) -> str:
        recs = [r for r in ctx.crm_by_person.get(q.pid, []) if r.created_day <= day and r.cards]
        if not recs:
            return ""
        if len(recs) > 1 and (hash_int(q.idx, day) % 10) < 6:
            return recs[1].card_at(day)
        return recs[0].card_at(day)

    hh = ctx.households[p.hh]
    if hh.shared_card and p.spouse >= 0:
        sp = ctx.persons[p.spouse]
        holder = min((p, sp), key=lambda q: q.idx)
        other = sp if holder is p else p
        card = card_of(holder) or card_of(other)
        if card:
            return card, True
    return card_of(p), False


def hash_int(a: int, b: int) -> int:
    return (a * 2654435761 + b * 40503) & 0xFFFFFFFF


def generate_pos(ctx: Ctx) -> None:
    rnd = ctx.rnd("pos")
    rng = ctx.rng("pos")
    days = ctx.days
    ent = ctx.entity("pos", "receipts", schedule=list(range(days)), extras=["till_id"],
                     extras_from=(2 * days) // 3 if days > 10 else days, sep=";")
    cat = ctx.catalogue
    stores = ctx.stores
    by_city: dict[int, list] = {}
    by_region: dict[str, list] = {}
    for s in stores:
        by_city.setdefault(s.city_idx, []).append(s)
        by_region.setdefault(s.region, []).append(s)
    sunday_stores = [s for s in stores if s.sunday] or stores[:1]
    store_style = {s.store_id: choice_w(rnd, [("local", 0.7), ("localT", 0.2), ("offset", 0.1)]) for s in stores}
    pay = [(m, w) for m, w in PAYMENT_METHODS]
    seq: dict[tuple[str, int], int] = {}

    def pick_store(p, day: int):
        if p is not None:
            a = ctx.households[p.hh].address_at(day)
            near = by_city.get(a.city_idx) or by_region.get(a.region) or stores
            s = rnd.choice(near) if rnd.random() < 0.85 else rnd.choice(stores)
        else:
            s = rnd.choice(stores)
        if s.open_day > day:
            s = rnd.choice([x for x in stores if x.open_day <= day] or stores)
        return s

    def receipt(store, day: int) -> str:
        k = (store.store_id, day)
        seq[k] = seq.get(k, 0) + 1
        return f"{store.store_id}-{ctx.clock.date_of_day(day).strftime('%Y%m%d')}-{seq[k]:04d}"

    def emit(rid: str, store, t: int, day: int, card: str, lines: list, payment: str) -> None:
        file_day = day
        if rnd.random() < 0.005 and day + 1 < days:
            file_day = min(days - 1, day + rnd.randint(1, 3))   # the store synced late
        ts = ctx.clock.render1(t, store_style[store.store_id])
        till = f"T{rnd.randint(1, 12):02d}"
        for i, (sku, q, price, disc) in enumerate(lines, start=1):
            d_s = ctx.fmt_money(disc, comma=True) if disc else ("" if rnd.random() < 0.5 else "0,00")
            ent.rows.append(Row(file_day, t * 100 + i, [rid, store.store_id, ts, card, str(i), sku, str(q),
                                                       ctx.fmt_money(price, comma=True), d_s, payment, till]))

    def purchase(rid, day, lines, person, household, kind, actual):
        net = round(sum(q * pr - di for _s, q, pr, di in lines), 2)
        ctx.truth.purchases.append({"purchase_id": rid, "channel": "store", "person_id": person,
                                    "household_id": household, "local_date": ctx.clock.day_str(day),
                                    "net_amount": f"{net:.2f}", "counts": "true", "actual_person_id": actual,
                                    "kind": kind, "status_history": ""})

    shoppers = [p for p in ctx.persons if p.store_rate > 0]
    rates = np.array([p.store_rate for p in shoppers])
    counts = ctx.event_counts(rng, rates, "store")
    who = np.repeat(np.arange(len(shoppers)), counts)
    walk = int(rng.poisson(0.25 * len(ctx.persons) * ctx.weights("store").sum() / 365))
    who = np.concatenate([who, -np.ones(walk, dtype=np.int64)])
    rdays = ctx.sample_days(rng, len(who), "store")
    secs = ctx.sample_seconds(rng, len(who), "store")
    returns = []
    for j in np.argsort(ctx.clock.at(rdays, secs), kind="stable"):
        p = shoppers[who[j]] if who[j] >= 0 else None
        day, sec = int(rdays[j]), int(secs[j])
        store = pick_store(p, day)
        if ctx.clock.weekday(day) == 6 and not store.sunday:
            if rnd.random() < 0.5:
                store = rnd.choice(sunday_stores)
            elif day > 0:
                day -= 1
            else:
                continue
        if store.open_day > day:
            continue
        t = int(ctx.clock.at1(day, sec))
        card, shared = ("", False)
        if p is not None:
            card, shared = _card_for(ctx, p, day)
            if card and (rnd.random() > 0.85 or (p.erase_day is not None and day >= p.erase_day)):
                card, shared = "", False
        lines = order_lines(ctx, rnd, cat, day, store=True)
        payment = choice_w(rnd, pay)
        kind = "sale"
        if rnd.random() < 0.01 and lines:
            # an exchange: something brought back on the same receipt
            back = ctx.catalogue.draw(rnd, day)
            lines = [(back.sku, -1, back.price, 0.0)] + lines
            kind = "exchange"
        rid = receipt(store, day)
        emit(rid, store, t, day, card, lines, payment)
        if card:
            ctx.truth.rec("pos", card, p.pid)
        purchase(rid, day, lines, p.pid if card else "", p.hid if shared and card else "", kind,
                 p.pid if p else "")
        if rnd.random() < 0.04:
            plain = [ln for ln in lines if ln[1] > 0 and ln[3] == 0]
            if plain:
                returns.append((t, day, store, card, shared, p, rnd.choice(plain)))
    for t, day, store, card, shared, p, (sku, q, price, _d) in returns:
        rd = day + rnd.randint(2, 30)
        if rd >= days:
            continue
        if ctx.clock.weekday(rd) == 6 and not store.sunday:
            rd = rd + 1 if rd + 1 < days else rd - 1
        if rd in ctx.holidays or rd <= day:
            continue
        st = store if rnd.random() < 0.8 else pick_store(p, rd)
        if st.open_day > rd:
            st = store
        rt = int(ctx.clock.at1(rd, rnd.randint(10 * 3600, 18 * 3600)))
        c = card if rnd.random() < 0.85 else ""
        rid = receipt(st, rd)
        lines = [(sku, -rnd.randint(1, q), price, 0.0)]
        emit(rid, st, rt, rd, c, lines, choice_w(rnd, [("CB", 0.6), ("avoir", 0.4)]))
        if c:
            ctx.truth.rec("pos", c, p.pid)
        purchase(rid, rd, lines, p.pid if c and p else "", p.hid if (c and shared and p) else "", "return",
                 p.pid if p else "")
    # the staff test card scanned at a till now and then (nobody real)
    for _ in range(max(1, round(len(ctx.persons) / 5000))):
        day = rnd.randrange(days)
        if ctx.clock.weekday(day) == 6 or day in ctx.holidays:
            continue
        store = rnd.choice([s for s in stores if s.open_day <= day] or stores)
        t = int(ctx.clock.at1(day, 9 * 3600 + 120))
        rid = receipt(store, day)
        lines = order_lines(ctx, rnd, cat, day, store=True)[:1]
        emit(rid, store, t, day, STAFF_CARD, lines, "CB")
        ctx.truth.rec("pos", STAFF_CARD, "")
        purchase(rid, day, lines, "", "", "sale", "")
