"""What each silo exports, day by day, for a population of people.

Every builder returns a DataFrame with the contract's columns plus `_day` (the export day);
identity truth (which record is which person) is collected on the way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import mess
from .people import phone_numbers
from .timeline import day_of, moments, render

CATEGORIES = np.array(["console", "tv", "phone", "laptop", "garden", "kitchen", "toys", "books", "sport", "home"])
BRANDS = np.array(["Acme", "Zenith", "Orbis", "Nova", "Kappa", "Lumio", "Vega", "Terra"])
OCCUPATIONS = np.array(["employee", "manager", "worker", "retired", "student", "self_employed", "unemployed"])
INCOME = np.array(["<20k", "20-35k", "35-50k", "50-75k", ">75k"])
ACQ = np.array(["store", "web", "partner", "contest", "referral"])
INTERESTS = [("console", ["ps5", "switch", "xbox"]), ("housing", ["flat", "house_with_garden", "house"]),
             ("sport", ["running", "football", "cycling"]), ("kids", ["baby", "school", "teen"])]
WEB_PAGES = np.array(["/", "/catalogue", "/product", "/promo", "/cart", "/store-locator", "/faq"])
KEY_PAGES = np.array(["/credit", "/loyalty", "/quote", "/checkout"])


class Silos:
    def __init__(self, people: pd.DataFrame, start: np.datetime64, days: int, rng: np.random.Generator):
        self.p = people
        self.start = start
        self.end = start + np.timedelta64(days - 1, "D")
        self.days = days
        self.rng = rng
        self.truth: list[pd.DataFrame] = []

    # -- helpers -----------------------------------------------------------------------
    def _rand_days(self, n: int, lo: np.ndarray | int = 0, hi: np.ndarray | int | None = None) -> np.ndarray:
        hi = self.days if hi is None else hi
        off = self.rng.integers(lo, np.maximum(np.asarray(lo) + 1, hi), n) if np.ndim(lo) or np.ndim(hi) \
            else self.rng.integers(lo, max(lo + 1, hi), n)
        return self.start + off.astype("timedelta64[D]")

    def _ids(self, prefix: str, n: int, width: int) -> np.ndarray:
        if n == 0:  # np.char.zfill fails on an empty array (a small zone may have no store return)
            return np.array([], dtype=str)
        nums = self.rng.choice(10 ** width, n, replace=False)
        return np.char.add(prefix, np.char.zfill(nums.astype(str), width))

    def _collected(self, kind: str, index) -> None:
        """Mark that some silo holds these people's e-mail (kind "email") or mobile ("mobile"):
        the ESP only ever writes to contacts a silo collected."""
        col = f"{kind}_collected"
        if col not in self.p:
            self.p[col] = False
        self.p.loc[index, col] = True

    def _record_truth(self, source: str, ids, persons, shared=None) -> None:
        n = len(ids)
        self.truth.append(pd.DataFrame({
            "source": source, "source_record_id": np.asarray(ids, dtype=object),
            "person_id": np.asarray(persons, dtype=object),
            "shared": np.zeros(n, bool) if shared is None else np.asarray(shared, bool)}))

    # -- reference ---------------------------------------------------------------------
    def products(self) -> pd.DataFrame:
        n = 400
        rng = self.rng
        self.price = np.round(rng.lognormal(3.2, 0.8, n), 2)
        self.skus = np.char.add("SKU", np.char.zfill(np.arange(10001, 10001 + n).astype(str), 5))
        df = pd.DataFrame({"sku": self.skus, "name": [f"Product {i}" for i in range(n)],
                           "category": CATEGORIES[rng.integers(0, len(CATEGORIES), n)],
                           "brand": BRANDS[rng.integers(0, len(BRANDS), n)],
                           "unit_cost": np.round(self.price * rng.uniform(0.4, 0.7, n), 2), "_day": self.start})
        changed = df.sample(frac=0.05, random_state=1).copy()  # a few catalogue upserts later on
        changed["unit_cost"] = np.round(changed["unit_cost"] * 1.05, 2)
        changed["_day"] = self._rand_days(len(changed), 1)
        return pd.concat([df, changed], ignore_index=True)

    def stores(self) -> pd.DataFrame:
        n = 25
        cities = self.p["city"].drop_duplicates().head(n).to_numpy()
        self.store_ids = np.char.add("S", np.char.zfill(np.arange(1, n + 1).astype(str), 3))
        return pd.DataFrame({"store_id": self.store_ids, "name": [f"Store {c}" for c in cities],
                             "city": cities, "postcode": self.p["postcode"].drop_duplicates().head(n).to_numpy(),
                             "region": self.rng.choice(["IDF", "ARA", "PACA", "NAQ", "OCC"], n),
                             "opened_at": "2015-03-01", "_day": self.start})

    # -- CRM and accounts --------------------------------------------------------------
    def _creation_days(self, n: int, existing_share: float) -> np.ndarray:
        existing = self.rng.random(n) < existing_share
        return np.where(existing, self.start, self._rand_days(n))

    def crm(self) -> pd.DataFrame:
        rng, m = self.rng, self.p[self.p["in_crm"]].copy()
        n = len(m)
        m["crm_id"] = self._ids("CRM", n, 7)
        m["card"] = np.where(m["has_card"], self._ids("LC", n, 9), None)
        self.p.loc[m.index, "crm_id"] = m["crm_id"]
        self.p.loc[m.index, "card"] = m["card"]
        created_day = self._creation_days(n, 0.6)
        created_ts = moments(created_day - np.where(created_day == self.start, rng.integers(0, 900, n), 0)
                             .astype("timedelta64[D]"), rng)
        self.p.loc[m.index, "crm_day"] = created_day
        offline = rng.random(n) < 0.12  # members who never gave an e-mail: partners append one
        m["offline"] = offline
        self.p.loc[m.index, "crm_offline"] = offline
        phone = np.where((rng.random(n) < 0.3) & m["landline"].notna(), m["landline"], m["mobile"])
        first, last = mess.names(m["first_name"].to_numpy(), m["last_name"].to_numpy(), rng, 0.8)
        birth = m["birth_date"].astype(str).to_numpy(dtype=object)
        birth[rng.random(n) < 0.05] = None
        invalid = rng.random(n) < 0.005
        birth[invalid] = [b[:5] + "02-30" if b else b for b in birth[invalid]]
        base = pd.DataFrame({
            "crm_id": m["crm_id"].to_numpy(), "loyalty_card_id": m["card"].to_numpy(),
            "civility": np.where(m["female"], "Mme", "M."), "first_name": first, "last_name": last,
            "birth_date": birth, "email": np.where(offline, None, mess.emails(m["email"].to_numpy(), rng, 0.5)),
            "phone": mess.phones(phone, rng), "address_line": mess.addresses(m["address_line"].to_numpy(), rng),
            "postcode": m["postcode"].to_numpy(), "city": m["city"].to_numpy(), "country": "FR",
            "household_size": m["household_size"].to_numpy(),
            "children_count": np.maximum(0, m["household_size"].to_numpy() - 2),
            "occupation": OCCUPATIONS[rng.integers(0, len(OCCUPATIONS), n)],
            "income_band": INCOME[rng.integers(0, len(INCOME), n)],
            "acquisition_channel": ACQ[rng.integers(0, len(ACQ), n)],
            "created_at": render(created_ts, rng, 0), "updated_at": render(created_ts, rng, 0.05),
            "consent_email": np.where(rng.random(n) < 0.7, "true", "false"),
            "consent_sms": np.where(rng.random(n) < 0.4, "1", "0"),
            "consent_post": np.where(rng.random(n) < 0.5, "true", "false"),
            "_day": created_day,
        })
        base.loc[rng.random(n) < 0.03, "email"] = None
        self._collected("email", m.index[base["email"].notna().to_numpy()])
        # the SMS list is the members whose CRM phone is their mobile (not the household landline)
        self._collected("mobile", m.index[(phone == m["mobile"].to_numpy()) & m["mobile"].notna().to_numpy()])
        self._record_truth("crm", base["crm_id"], m["person_id"])
        # later upserts: a move (new address and phone) or a consent change
        upd = base.sample(frac=0.2, random_state=2).copy()
        first_day = (upd["_day"].to_numpy() - self.start).astype(int) + 1
        upd["_day"] = self._rand_days(len(upd), first_day, self.days)
        keep = upd["_day"].to_numpy() <= self.end
        upd = upd[keep]
        upd_ts = moments(upd["_day"].to_numpy(), rng)
        upd["updated_at"] = render(upd_ts, rng, 0.05)
        moved = rng.random(len(upd)) < 0.5
        upd.loc[moved, "address_line"] = [f"{rng.integers(1, 99)} rue du Marché" for _ in range(moved.sum())]
        upd.loc[moved, "phone"] = mess.phones(phone_numbers(rng, int(moved.sum())), rng)
        upd.loc[~moved, "consent_email"] = np.where(rng.random((~moved).sum()) < 0.5, "true", "false")
        return pd.concat([base, upd], ignore_index=True)

    def accounts(self) -> pd.DataFrame:
        rng, a = self.rng, self.p[self.p["has_account"]].copy()
        n = len(a)
        a["account_id"] = self._ids("A", n, 8)
        self.p.loc[a.index, "account_id"] = a["account_id"]
        created_day = self._creation_days(n, 0.5)
        self.p.loc[a.index, "account_day"] = created_day
        created_ts = moments(created_day, rng)
        first, last = mess.names(a["first_name"].to_numpy(), a["last_name"].to_numpy(), rng, 1.0)
        card = a["card"].to_numpy() if "card" in a else np.full(n, None)
        card = np.where(rng.random(n) < 0.5, card, None)
        email = mess.emails(a["email"].to_numpy(), rng, 1.0)
        placeholder = rng.random(n) < 0.003
        email[placeholder] = "test@test.com"
        df = pd.DataFrame({
            "account_id": a["account_id"].to_numpy(), "email": email, "first_name": first, "last_name": last,
            "phone": np.where(rng.random(n) < 0.5, mess.phones(a["mobile"].to_numpy(), rng), None),
            "birth_date": np.where(rng.random(n) < 0.6, a["birth_date"].astype(str), None),
            "address_line": mess.addresses(a["address_line"].to_numpy(), rng, 1.5),
            "postcode": a["postcode"].to_numpy(), "city": np.where(rng.random(n) < 0.1, np.char.upper(
                a["city"].to_numpy().astype(str)), a["city"].to_numpy()),
            "country": np.where(rng.random(n) < 0.9, "FR", "fr"), "loyalty_card_id": card,
            "created_at": render(created_ts, rng), "updated_at": render(created_ts, rng), "_day": created_day,
        })
        self._collected("email", a.index)
        self._record_truth("ecommerce", df["account_id"], a["person_id"])
        upd = df.sample(frac=0.1, random_state=3).copy()
        upd["_day"] = self._rand_days(len(upd), (upd["_day"].to_numpy() - self.start).astype(int) + 1, self.days)
        upd = upd[upd["_day"].to_numpy() <= self.end]
        upd["updated_at"] = render(moments(upd["_day"].to_numpy(), rng), rng)
        return pd.concat([df, upd], ignore_index=True)

    # -- purchases -----------------------------------------------------------------------
    def purchases(self, clicks: pd.DataFrame) -> pd.DataFrame:
        """One row per purchase event (person, day, channel), from latent rates and campaign clicks."""
        rng, p = self.rng, self.p
        n = len(p)
        first = np.where(rng.random(n) < 0.6, 0, rng.integers(0, self.days, n))
        churn = np.where(rng.random(n) < 0.35, rng.integers(0, self.days + 365, n), self.days + 365)
        span = np.clip(np.minimum(churn, self.days) - first, 0, None)
        count = rng.poisson(p["rate"].to_numpy() * span / 365.0)
        who = np.repeat(np.arange(n), count)
        offset = first[who] + (rng.random(len(who)) * span[who]).astype(int)
        extra = clicks[rng.random(len(clicks)) < 0.25]  # a click brings a purchase within a week
        who = np.concatenate([who, extra["pix"].to_numpy()])
        offset = np.concatenate([offset, extra["offset"].to_numpy() + rng.integers(0, 7, len(extra))])
        keep = offset < self.days
        who, offset = who[keep], offset[keep]
        web_ok = p["has_account"].to_numpy()[who] | (p["email"].notna().to_numpy()[who] & (rng.random(len(who)) < 0.5))
        web = web_ok & (rng.random(len(who)) < p["p_web"].to_numpy()[who])
        return pd.DataFrame({"pix": who, "day": self.start + offset.astype("timedelta64[D]"), "web": web})

    def _lines(self, n_orders: int):
        rng = self.rng
        k = rng.choice([1, 2, 3, 4], n_orders, p=[0.5, 0.3, 0.15, 0.05])
        order_ix = np.repeat(np.arange(n_orders), k)
        line_no = np.arange(len(order_ix)) - np.repeat(np.cumsum(k) - k, k) + 1
        sku_ix = rng.integers(0, len(self.skus), len(order_ix))
        qty = rng.choice([1, 1, 1, 2, 3], len(order_ix))
        price = self.price[sku_ix]
        disc = np.where(rng.random(len(order_ix)) < 0.2, np.round(qty * price * 0.1, 2), 0.0)
        return order_ix, line_no, self.skus[sku_ix], qty, price, disc

    def web_orders(self, buys: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        rng, p = self.rng, self.p
        b = buys[buys["web"]].reset_index(drop=True)
        n = len(b)
        ids = self._ids("W", n, 9)
        account = p["account_id"].to_numpy(dtype=object)[b["pix"]] if "account_id" in p else np.full(n, None)
        account = np.where(pd.isna(account), None, account)
        guest = pd.isna(account)
        guest_email = np.where(guest, mess.emails(p["email"].to_numpy()[b["pix"]], rng, 1.0), None)
        ts = moments(b["day"].to_numpy(), rng, 0, 24)
        oix, line_no, sku, qty, price, disc = self._lines(n)
        bounds = np.r_[0, np.cumsum(np.bincount(oix, minlength=n))]
        items = [{"sku": s_, "quantity": int(q), "unit_price": float(u), "discount": float(d)}
                 for s_, q, u, d in zip(sku, qty, price, disc)]
        lines_json = [items[bounds[i]:bounds[i + 1]] for i in range(n)]
        shipping = [{"address_line": a, "postcode": pc, "city": c, "country": "FR"}
                    for a, pc, c in zip(p["address_line"].to_numpy()[b["pix"]], p["postcode"].to_numpy()[b["pix"]],
                                        p["city"].to_numpy()[b["pix"]])]
        rendered = render(ts, rng)
        self.web_order_index = pd.DataFrame({"order_id": ids, "pix": b["pix"].to_numpy(),
                                             "day": b["day"].to_numpy().astype("datetime64[D]")})
        base = pd.DataFrame({"order_id": ids, "account_id": account, "guest_email": guest_email,
                             "ordered_at": rendered, "status": "placed", "currency": "EUR",
                             "shipping": shipping, "lines": lines_json, "_day": day_of(ts)})
        # status changes, each re-sending the whole order on the day it happened
        fate = rng.random(n)
        versions = [base]
        def later(mask, status, lo, hi):
            v = base[mask].copy()
            v["status"] = status
            v["_day"] = v["_day"].to_numpy() + rng.integers(lo, hi, mask.sum()).astype("timedelta64[D]")
            versions.append(v[v["_day"].to_numpy() <= self.end])
            return v
        cancelled = fate < 0.05
        later(cancelled, "cancelled", 0, 2)
        shipped = ~cancelled
        later(shipped, "shipped", 1, 3)
        later(shipped, "delivered", 3, 6)
        returned = (fate > 0.95)
        later(returned, "returned", 8, 20)
        out = pd.concat(versions, ignore_index=True)
        final = out.sort_values("_day", kind="stable").groupby("order_id")["status"].last()
        self._record_truth("ecommerce", ids[guest], p["person_id"].to_numpy()[b["pix"]][guest])
        truth_lines = pd.DataFrame({
            "order_id": ids[oix], "line_no": line_no, "channel": "web",
            "person_id": p["person_id"].to_numpy()[b["pix"]][oix],
            "local_date": pd.Series(ts.dt.date.to_numpy()[oix]), "sku": sku, "quantity": qty,
            "net_amount": np.round(qty * price - disc, 2), "final_status": final.reindex(ids[oix]).to_numpy()})
        return out, truth_lines

    def receipts(self, buys: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        rng, p = self.rng, self.p
        b = buys[~buys["web"]].reset_index(drop=True)
        walkins = pd.DataFrame({"pix": -1, "day": self._rand_days(int(len(b) * 0.25)), "web": False})
        b = pd.concat([b, walkins], ignore_index=True)
        n = len(b)
        card = p["card"].to_numpy(dtype=object) if "card" in p else np.full(len(p), None)
        shown = np.where((b["pix"] >= 0) & (rng.random(n) < 0.9), card[b["pix"].clip(lower=0)], None)
        shown = np.where(pd.isna(shown), None, shown)
        ids = self._ids("R", n, 9)
        ts = moments(b["day"].to_numpy(), rng, 9, 20)
        oix, line_no, sku, qty, price, disc = self._lines(n)
        # a few lines come back later as a return receipt (negative quantity)
        ret = rng.random(len(oix)) < 0.03
        r_oix = oix[ret]
        r_ids = self._ids("X", ret.sum(), 9)
        r_ts = moments(b["day"].to_numpy()[r_oix] + rng.integers(1, 20, ret.sum()).astype("timedelta64[D]"), rng, 9, 20)
        keep_r = day_of(r_ts) <= self.end
        store = self.store_ids[rng.integers(0, len(self.store_ids), n)]
        main = pd.DataFrame({
            "receipt_id": ids[oix], "store_id": store[oix], "purchased_at": render(ts, rng, 0)[oix],
            "loyalty_card_id": shown[oix], "line_no": line_no, "sku": sku, "quantity": qty,
            "unit_price": price, "discount_amount": disc, "payment_method": rng.choice(["card", "cash", "voucher"], len(oix)),
            "_day": day_of(ts)[oix]})
        returns = pd.DataFrame({
            "receipt_id": r_ids, "store_id": store[r_oix], "purchased_at": render(r_ts, rng, 0),
            "loyalty_card_id": shown[r_oix], "line_no": 1, "sku": sku[ret], "quantity": -qty[ret],
            "unit_price": price[ret], "discount_amount": -disc[ret], "payment_method": "card",
            "_day": day_of(r_ts)})[keep_r]
        df = pd.concat([main, returns], ignore_index=True)
        has_card = p["card"].notna() if "card" in p else pd.Series(False, index=p.index)
        owner = pd.Series(p.loc[has_card, "person_id"].to_numpy(), index=p.loc[has_card, "card"].to_numpy())
        person = owner.reindex(df["loyalty_card_id"]).to_numpy(dtype=object)
        person = np.where(pd.isna(person), None, person)
        truth_lines = pd.DataFrame({
            "order_id": df["receipt_id"], "line_no": df["line_no"], "channel": "store", "person_id": person,
            "local_date": pd.to_datetime(df["_day"]).dt.date, "sku": df["sku"], "quantity": df["quantity"],
            "net_amount": np.round(df["quantity"] * df["unit_price"] - df["discount_amount"], 2),
            "final_status": "store"})
        cards = df["loyalty_card_id"].dropna().unique()
        self._record_truth("pos", cards, owner.reindex(cards).to_numpy())
        for col in ("unit_price", "discount_amount"):  # decimal comma
            df[col] = [f"{v:.2f}".replace(".", ",") for v in df[col]]
        return df, truth_lines

    # -- ESP ------------------------------------------------------------------------------
    def campaigns(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        rng, p = self.rng, self.p
        email_days = np.arange(3, self.days, 7)
        sms_days = np.arange(10, self.days, 30)
        ch = np.concatenate([np.full(len(email_days), "email"), np.full(len(sms_days), "sms")])
        offs = np.concatenate([email_days, sms_days])
        n = len(ch)
        camp = pd.DataFrame({
            "campaign_id": np.char.add("CMP", np.char.zfill(np.arange(1, n + 1).astype(str), 5)),
            "name": [f"Campaign {i}" for i in range(n)], "channel": ch,
            "objective": rng.choice(["promotion", "newsletter", "reactivation", "welcome", "loyalty"], n),
            "sent_at": render(moments(self.start + offs.astype("timedelta64[D]"), rng, 9, 11), rng, 0),
            "offer_code": np.where(rng.random(n) < 0.5, [f"OFF{i:03d}" for i in range(n)], None),
            "_day": self.start + offs.astype("timedelta64[D]")})
        events, clicks = [], []
        # an ESP mails the addresses the CRM, the web shop, the forms and the partner appends
        # collected, and texts the mobiles the CRM holds: nobody else's
        collected = {k: p[f"{k}_collected"].fillna(False).astype(bool).to_numpy() if f"{k}_collected" in p
                     else np.zeros(len(p), bool) for k in ("email", "mobile")}
        reachable_mail = np.flatnonzero(p["email"].notna().to_numpy() & ~p["is_child"].to_numpy() & collected["email"])
        reachable_sms = np.flatnonzero(p["mobile"].notna().to_numpy() & p["in_crm"].to_numpy() & collected["mobile"])
        # each person is addressed the same way every time: one spelling of their address
        mail_as_sent = mess.emails(p["email"].to_numpy(), rng, 0.5)
        sms_as_sent = mess.phones(p["mobile"].to_numpy(), rng)
        for (cid, channel, off) in zip(camp["campaign_id"], ch, offs):
            pool = reachable_mail if channel == "email" else reachable_sms
            who = pool[rng.random(len(pool)) < 0.3]
            react = p["reactivity"].to_numpy()[who]
            u = rng.random((4, len(who)))
            bounce = u[0] < 0.03
            opened = ~bounce & (u[1] < react * 1.5)
            clicked = opened & (u[2] < 0.4)
            unsub = opened & (u[3] < 0.01)
            complaint = ~opened & ~bounce & (u[3] < 0.001)
            recipients = (mail_as_sent if channel == "email" else sms_as_sent)[who]
            base_day = self.start + np.timedelta64(int(off), "D")
            for kind, mask, lag in (("sent", np.ones(len(who), bool), 0), ("delivered", ~bounce, 0),
                                    ("bounce", bounce, 0), ("open", opened, 1), ("click", clicked, 1),
                                    ("unsubscribe", unsub, 2), ("complaint", complaint, 2)):
                k = mask.sum()
                if not k:
                    continue
                d = base_day + rng.integers(0, lag + 1, k).astype("timedelta64[D]")
                events.append(pd.DataFrame({"campaign_id": cid, "recipient": recipients[mask], "event_type": kind,
                                            "day": d, "url": f"https://shop.example/{cid}" if kind == "click" else None,
                                            "pix": who[mask]}))
            clicks.append(pd.DataFrame({"pix": who[clicked], "offset": int(off) + 1}))
        ev = pd.concat(events, ignore_index=True)
        ev = ev[ev["day"].to_numpy() <= self.end].reset_index(drop=True)
        ts = moments(ev["day"].to_numpy(), rng, 8, 23)
        ev.insert(0, "event_id", self._ids("E", len(ev), 9))
        ev["occurred_at"] = render(ts, rng)
        ev["_day"] = day_of(ts)
        rec = ev.drop_duplicates("recipient")[["recipient", "pix"]]
        shared = np.where(np.array([("@" in r) for r in rec["recipient"]]), p["shared_email"].to_numpy()[rec["pix"]], False)
        self._record_truth("esp", rec["recipient"], np.where(shared, None, p["person_id"].to_numpy()[rec["pix"]]), shared)
        events_out = ev[["event_id", "campaign_id", "recipient", "event_type", "occurred_at", "url", "_day"]]
        return camp, events_out, pd.concat(clicks, ignore_index=True)

    # -- web ------------------------------------------------------------------------------
    def web(self) -> pd.DataFrame:
        rng, p = self.rng, self.p
        acc = np.flatnonzero(p["has_account"].to_numpy())
        n_cookies = rng.integers(1, 4, len(acc))
        owner = np.repeat(acc, n_cookies)
        visitors = int(len(p) * 0.3)
        cookie_ids = self._ids("ck_", len(owner) + visitors, 10)
        sessions_per = np.concatenate([rng.poisson(3, len(owner)) + 1, rng.poisson(1.5, visitors) + 1])
        cix = np.repeat(np.arange(len(cookie_ids)), sessions_per)
        day_off = rng.integers(0, self.days, len(cix))
        ev_per = rng.integers(1, 6, len(cix))
        six = np.repeat(np.arange(len(cix)), ev_per)
        is_person = cix[six] < len(owner)
        n = len(six)
        etype = rng.choice(["page_view", "key_page_view", "search", "add_to_cart", "quote_started", "newsletter_signup"],
                           n, p=[0.62, 0.12, 0.12, 0.1, 0.02, 0.02])
        # a cookie logs in on one of its sessions: its account shows from then on (earlier hits are anonymous)
        login_day = np.full(len(cookie_ids), 10 ** 6)
        login_day[:len(owner)] = rng.integers(0, self.days, len(owner))
        first_of_session = np.r_[True, six[1:] != six[:-1]]
        d = day_off[six]
        logged = is_person & (d >= login_day[cix[six]])
        login_event = logged & first_of_session
        etype = np.where(login_event, "login", etype)
        pages = np.where(etype == "key_page_view", KEY_PAGES[rng.integers(0, len(KEY_PAGES), n)],
                         WEB_PAGES[rng.integers(0, len(WEB_PAGES), n)])
        ts = moments(self.start + d.astype("timedelta64[D]"), rng, 0, 24)
        account = np.where(logged, p["account_id"].to_numpy(dtype=object)[owner[np.minimum(cix[six], len(owner) - 1)]], None)
        utm = rng.random(n) < 0.2
        df = pd.DataFrame({
            "event_id": self._ids("WE", n, 10), "anonymous_id": cookie_ids[cix[six]], "account_id": account,
            "occurred_at": render(ts, rng), "event_type": etype, "page_path": pages,
            "utm_source": np.where(utm, rng.choice(["google", "newsletter", "facebook"], n), None),
            "utm_medium": np.where(utm, rng.choice(["cpc", "email", "social"], n), None),
            "utm_campaign": np.where(utm, "spring", None),
            "device": rng.choice(["mobile", "desktop", "tablet"], n), "_day": day_of(ts)})
        persons = np.concatenate([p["person_id"].to_numpy()[owner], np.char.add("V", np.arange(visitors).astype(str))])
        seen = np.unique(cix)
        self._record_truth("web", cookie_ids[seen], persons[seen])
        return df

    # -- call centre, forms, partners, privacy ----------------------------------------------
    def calls(self) -> pd.DataFrame:
        rng, p = self.rng, self.p
        adults = np.flatnonzero(~p["is_child"].to_numpy() & (p["mobile"].notna() | p["landline"].notna()).to_numpy())
        k = rng.poisson(0.25 * self.days / 365, len(adults))
        who = np.repeat(adults, k)
        n = len(who)
        use_land = (rng.random(n) < 0.25) & p["landline"].notna().to_numpy()[who] | p["mobile"].isna().to_numpy()[who]
        number = np.where(use_land, p["landline"].to_numpy()[who], p["mobile"].to_numpy()[who])
        # the same person tends to type/display the number the same way: format per number
        formats = {}
        as_sent = np.empty(n, dtype=object)
        fmt_ix = rng.permutation(n) % len(mess.PHONE_FORMATS)  # every format equally often
        for i, num in enumerate(number):
            as_sent[i] = formats.setdefault(num, mess.PHONE_FORMATS[fmt_ix[i]](num))
        day = self._rand_days(n)
        ts = moments(day, rng, 9, 19)
        crm_id = p["crm_id"].to_numpy(dtype=object)[who] if "crm_id" in p else np.full(n, None)
        crm_id = np.where((rng.random(n) < 0.5) & ~pd.isna(crm_id), crm_id, None)
        reason = rng.choice(["order_status", "complaint", "information", "quote_request", "cancellation"], n)
        # a call about an order names it (the agent types the order number the caller reads out):
        # the caller's latest web order before the call, when there is one
        order_id = np.full(n, None, dtype=object)
        orders = getattr(self, "web_order_index", None)
        about_order = np.isin(reason, ["order_status", "complaint", "cancellation"]) & (rng.random(n) < 0.8)
        if orders is not None and len(orders) and about_order.any():
            asked = pd.DataFrame({"i": np.flatnonzero(about_order), "pix": who[about_order],
                                  "day": day[about_order].astype("datetime64[ns]")}).sort_values("day")
            known = orders.assign(day=orders["day"].astype("datetime64[ns]")).sort_values("day")
            hit = pd.merge_asof(asked, known, on="day", by="pix", direction="backward")
            hit = hit[hit["order_id"].notna()]
            order_id[hit["i"].to_numpy()] = hit["order_id"].to_numpy()
        df = pd.DataFrame({
            "call_id": self._ids("CALL", n, 8), "called_at": render(ts, rng), "caller_phone": as_sent,
            "crm_id": crm_id, "reason": reason,
            "outcome": rng.choice(["resolved", "escalated", "sale"], n, p=[0.7, 0.2, 0.1]), "order_id": order_id,
            "duration_s": rng.integers(30, 1200, n), "_day": day_of(ts)})
        hh_size = p["household_size"].to_numpy()[who]
        shared = use_land & (hh_size > 1)
        rec = pd.DataFrame({"r": as_sent, "person": np.where(shared, None, p["person_id"].to_numpy()[who]),
                            "shared": shared}).drop_duplicates("r")
        self._record_truth("callcenter", rec["r"], rec["person"], rec["shared"])
        return df

    def forms(self) -> pd.DataFrame:
        rng, p = self.rng, self.p
        cand = np.flatnonzero(p["email"].notna().to_numpy() & ~p["is_child"].to_numpy())
        who = cand[rng.random(len(cand)) < 0.12]
        who = np.concatenate([who, who[rng.random(len(who)) < 0.3]])
        n = len(who)
        first, last = mess.names(p["first_name"].to_numpy()[who], p["last_name"].to_numpy()[who], rng, 1.5)
        ftype = rng.choice(["newsletter", "contest", "survey"], n)
        email = mess.emails(p["email"].to_numpy()[who], rng, 1.5)
        email[rng.random(n) < 0.004] = "test@test.com"
        interests = [";".join(f"{k}:{rng.choice(v)}" for k, v in INTERESTS if rng.random() < 0.4) or None
                     for _ in range(n)]
        nps = np.where(ftype == "survey", rng.integers(0, 11, n).astype(str), None)
        nps[(ftype == "survey") & (rng.random(n) < 0.03)] = "dix"
        ts = moments(self._rand_days(n), rng)
        df = pd.DataFrame({"signup_id": self._ids("F", n, 8), "form_type": ftype, "submitted_at": render(ts, rng),
                           "email": email, "first_name": first, "last_name": last,
                           "postcode": p["postcode"].to_numpy()[who],
                           "opt_in": np.where(rng.random(n) < 0.6, "true", "false"), "interests": interests,
                           "nps": nps, "_day": day_of(ts)})
        self._collected("email", p.index[who])
        self._record_truth("forms", df["signup_id"], p["person_id"].to_numpy()[who])
        return df

    def partner_appends(self) -> pd.DataFrame:
        rng, p = self.rng, self.p
        offline = p.get("crm_offline")
        if offline is None:
            return pd.DataFrame()
        who = np.flatnonzero(offline.fillna(False).astype(bool).to_numpy() & p["email"].notna().to_numpy())
        who = who[rng.random(len(who)) < 0.5]
        n = len(who)
        day = np.maximum(p["crm_day"].to_numpy()[who].astype("datetime64[D]"), self._rand_days(n))
        ts = moments(day, rng)
        df = pd.DataFrame({"crm_id": p["crm_id"].to_numpy()[who], "appended_email": p["email"].to_numpy()[who],
                           "opt_in": np.where(rng.random(n) < 0.5, "true", "false"), "appended_at": render(ts, rng),
                           "_day": day_of(ts)})
        self._collected("email", p.index[who])
        self._record_truth("partners", df["crm_id"], p["person_id"].to_numpy()[who])
        return df

    def privacy(self, buyers: np.ndarray | None = None) -> pd.DataFrame:
        rng, p = self.rng, self.p
        cand = np.flatnonzero(p["in_crm"].to_numpy() & p["email"].notna().to_numpy() & ~p["shared_email"].to_numpy())
        who = cand[rng.random(len(cand)) < 0.006]
        if len(who) < 2 and len(cand) >= 2:  # every landing zone exercises both request types
            who = rng.choice(cand, 2, replace=False)
        # the first erasure concerns a buyer, so that keeping their purchases anonymous is exercised
        buying = np.setdiff1d(np.intersect1d(cand, buyers if buyers is not None else []), who[1:2])
        if len(who) and len(buying) and who[0] not in buying:
            who[0] = buying[rng.integers(len(buying))]
        n = len(who)
        kind = np.where(rng.random(n) < 0.5, "erasure", "objection")
        if n >= 2:
            kind[:2] = ["erasure", "objection"]
        ts = moments(self._rand_days(n, self.days // 2), rng)
        by = rng.integers(0, 3, n)
        by = np.where((by == 1) & p["mobile"].isna().to_numpy()[who], 2, by)  # no mobile: name the CRM id
        return pd.DataFrame({
            "request_id": self._ids("GDPR", n, 6), "requested_at": render(ts, rng), "request_type": kind,
            "email": np.where(by == 0, p["email"].to_numpy()[who], None),
            "phone": np.where(by == 1, p["mobile"].to_numpy()[who], None),
            "crm_id": np.where(by == 2, p["crm_id"].to_numpy(dtype=object)[who], None), "_day": day_of(ts)})
