"""web/events (jsonl): analytics hits with cookies, logins, campaign landings, bots."""

from __future__ import annotations

import numpy as np

from .context import Ctx
from .landing import Row
from .noise import choice_w

PAGES = {"page_view": ["/", "/promotions", "/univers/cuisine", "/univers/jardin", "/univers/tv-son",
                       "/univers/informatique", "/magasins", "/aide/livraison", "/blog/idees-deco"],
         "key_page_view": ["/produit/{sku}", "/produit/{sku}", "/devis/cuisine", "/devis/salle-de-bain",
                           "/carte-fidelite"],
         "search": ["/recherche?q=ps5", "/recherche?q=lave+linge", "/recherche?q=tondeuse",
                    "/recherche?q=tv+oled", "/recherche?q=perceuse", "/recherche?q=frigo"],
         "add_to_cart": ["/panier/ajout?sku={sku}"], "quote_started": ["/devis/cuisine/etape-1",
                                                                      "/devis/salle-de-bain/etape-1"],
         "login": ["/compte/connexion"], "newsletter_signup": ["/newsletter/inscription"]}
SOURCES = [((None, None), 0.45), (("google", "cpc"), 0.2), (("google", "organic"), 0.2),
           (("facebook", "social"), 0.07), (("instagram", "social"), 0.04), (("comparateur", "affiliate"), 0.04)]


class _Cookies:
    """Browsers of one person (or of a shared family computer) and their cookie ids over time."""

    def __init__(self, ctx: Ctx, rng):
        self.ctx, self.rng = ctx, rng
        self.n = 0

    def new_id(self) -> str:
        self.n += 1
        b = self.rng.integers(0, 2**63, size=2)
        if self.rng.random() < 0.2:
            return f"{int(b[0]) % 10**10}.{1700000000 + int(b[1]) % 10**8}"
        h = f"{int(b[0]):016x}{int(b[1]):016x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def generate_web(ctx: Ctx) -> None:
    rnd = ctx.rnd("web")
    rng = ctx.rng("web")
    days = ctx.days
    ent = ctx.entity("web", "events", schedule=list(range(days)))
    ck = _Cookies(ctx, ctx.rng("web-cookies"))
    skus = [p.sku for p in ctx.products[:300]]
    omit_utm_until = days // 2
    session_key_from = days // 3
    eid = [0]

    # browsers: person -> list of [device, [(from_day, cookie)], users]
    browsers: dict[str, list] = {}
    shared_browser: dict[int, list] = {}
    for h in ctx.households:
        if h.shared_cookie:
            users = [ctx.persons[i].pid for i in h.members if ctx.persons[i].age >= 16]
            if len(users) >= 2:
                shared_browser[h.idx] = ["desktop", [(-10**6, ck.new_id())], users]
    for p in ctx.persons:
        if p.browse_rate <= 0 and p.pid not in ctx.accounts_by_person:
            continue
        bl = []
        for _ in range(choice_w(rnd, [(1, 0.5), (2, 0.38), (3, 0.12)])):
            dev = choice_w(rnd, [("mobile", 0.55), ("desktop", 0.35), ("tablet", 0.1)])
            hist = [(-10**6, ck.new_id())]
            for _r in range(np.random.default_rng(rnd.randrange(2**32)).poisson(0.5 * ctx.frac)):
                hist.append((rnd.randrange(days), ck.new_id()))       # cookies cleared
            hist.sort()
            bl.append([dev, hist, [p.pid]])
        if p.hh in shared_browser and p.pid in shared_browser[p.hh][2]:
            bl.append(shared_browser[p.hh])
        browsers[p.pid] = bl

    def cookie_of(b, day: int) -> str:
        c = b[1][0][1]
        for d, x in b[1]:
            if d <= day:
                c = x
        return c

    def emit_session(users: list, pid: str | None, b, t0: int, n_ev: int, account_id: str | None,
                     logged_from_start: bool, utm, order_end: bool = False) -> None:
        day0 = int(ctx.clock.day_of1(t0))
        if day0 < 0 or day0 >= days:
            return
        cookie = cookie_of(b, day0) if b is not None else ck.new_id()
        device = b[0] if b is not None else choice_w(rnd, [("mobile", 0.6), ("desktop", 0.4)])
        if rnd.random() < 0.03:
            device = None
        logged = logged_from_start and account_id is not None
        t = t0
        session_id = f"s{rnd.randrange(16**10):010x}"
        types = []
        for k in range(n_ev):
            if order_end and k >= n_ev - 3:
                et = ["key_page_view", "login" if account_id and not logged else "add_to_cart",
                      "add_to_cart"][k - (n_ev - 3)]
            elif k == 0:
                et = "page_view"
            else:
                et = choice_w(rnd, [("page_view", 0.45), ("key_page_view", 0.22), ("search", 0.15),
                                    ("add_to_cart", 0.08), ("quote_started", 0.03),
                                    ("login", 0.05 if account_id else 0.0), ("newsletter_signup", 0.01)])
            types.append(et)
        times = []
        for et in types:
            times.append(t)
            t += int(rnd.expovariate(1 / 45)) + 2
        tstyle = "zms" if rnd.random() < 0.9 else "offset"
        for k, et in enumerate(types):
            if et == "login" and account_id:
                logged = True
            day = ctx.clock.day_of1(times[k])
            if day >= days:
                break
            path = rnd.choice(PAGES[et]).format(sku=rnd.choice(skus))
            eid[0] += 1
            obj = {"event_id": f"{eid[0] * 2654435761 % 16**12:012x}", "anonymous_id": cookie,
                   "account_id": account_id if logged else None, "occurred_at": ctx.clock.render1(times[k], tstyle),
                   "event_type": et, "page_path": path}
            src, med, camp = (utm if k == 0 else (None, None, None))
            if src is not None or day >= omit_utm_until:
                obj["utm_source"], obj["utm_medium"], obj["utm_campaign"] = src, med, camp
            obj["device"] = device
            if day >= session_key_from:
                obj["session_id"] = session_id          # an extra key the contract does not list
            ent.rows.append(Row(day, times[k] * 16 + (eid[0] % 16), obj))
        for u in users:
            ctx.truth.rec("web", cookie, u)

    # ordinary browsing sessions
    people = [p for p in ctx.persons if p.browse_rate > 0]
    counts = ctx.event_counts(rng, np.array([p.browse_rate for p in people]), "web")
    who = np.repeat(np.arange(len(people)), counts)
    sdays = ctx.sample_days(rng, len(who), "web")
    secs = ctx.sample_seconds(rng, len(who), "web")
    utcs = ctx.clock.at(sdays, secs)
    for j in range(len(who)):
        p = people[who[j]]
        bl = browsers.get(p.pid)
        if not bl:
            continue
        b = rnd.choice(bl)
        accs = ctx.accounts_by_person.get(p.pid, [])
        day = int(sdays[j])
        acc = next((a for a in accs if a.join <= day < a.deleted_day), None)
        src = choice_w(rnd, SOURCES)
        utm = (src[0], src[1], "generique" if src[1] == "cpc" else None)
        users = b[2]
        emit_session(users, p.pid, b, int(utcs[j]), 1 + int(rng.geometric(0.3)), acc.account_id if acc else None,
                     rnd.random() < 0.25, utm)
    # sessions that end in an order
    for b_person, account_id, t0 in ctx.web_orders:
        bl = browsers.get(b_person.pid)
        if not bl or rnd.random() < 0.3:
            continue
        b = rnd.choice(bl)
        n = 2 + int(rng.geometric(0.5))
        emit_session(b[2], b_person.pid, b, t0 - 60 * n - rnd.randint(60, 900), n, account_id,
                     rnd.random() < 0.4, (None, None, None), order_end=True)
    # landings from campaign clicks
    for pid, t, c in ctx.esp_clicks:
        bl = browsers.get(pid)
        if not bl or rnd.random() < 0.2:
            continue
        b = rnd.choice(bl)
        acc = next((a for a in ctx.accounts_by_person.get(pid, []) if a.join <= c.day < a.deleted_day), None)
        emit_session(b[2], pid, b, t + rnd.randint(1, 20), 1 + int(rng.geometric(0.4)),
                     acc.account_id if acc else None, rnd.random() < 0.3,
                     ("esp", c.channel, c.campaign_id))
    # visitors who are none of our persons, and a crawler
    n_anon = int(rng.poisson(0.35 * len(ctx.persons) * ctx.frac))
    adays = ctx.sample_days(rng, n_anon, "web")
    at = ctx.clock.at(adays, ctx.sample_seconds(rng, n_anon, "web"))
    for j in range(n_anon):
        src = choice_w(rnd, SOURCES)
        emit_session([""], None, None, int(at[j]), 1 + int(rng.geometric(0.45)), None, False,
                     (src[0], src[1], None))
    for _ in range(max(1, round(ctx.frac * 6))):
        bot = [None, [(-10**6, ck.new_id())], [""]]
        bot[0] = "desktop"
        d = rnd.randrange(days)
        emit_session([""], None, bot, int(ctx.clock.at1(d, 3 * 3600)),
                     rnd.randint(80, 200), None, False, (None, None, None))
