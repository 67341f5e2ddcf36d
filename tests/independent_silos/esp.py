"""esp/campaigns and esp/events: e-mail and SMS campaigns over the list built from CRM, forms, partners."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .common import Sub
from .context import Ctx
from .landing import Row
from .noise import choice_w

MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre"]
SEEDS = ["seed1@esp-monitor.net", "seed2@esp-monitor.net", "boite.test@maxidom.fr"]


@dataclass
class Campaign:
    campaign_id: str
    name: str
    channel: str
    objective: str
    day: int
    utc: int
    offer: str
    holdout: float | None


def generate_esp(ctx: Ctx) -> None:
    rnd = ctx.rnd("esp")
    rng = ctx.rng("esp")
    days = ctx.days
    camp_ent = ctx.entity("esp", "campaigns")
    ev_ent = ctx.entity("esp", "events", schedule=list(range(days)))
    ctx.esp_clicks = []

    # ---- campaigns -------------------------------------------------------------------------
    n = max(2, round(100 * ctx.frac))
    cdays = sorted({int(x) for x in rng.choice(
        [d for d in range(days) if ctx.clock.weekday(d) != 6] or [0], size=n, replace=True)})
    if ctx.peak_day not in cdays:
        cdays.append(ctx.peak_day)
    cdays = sorted(cdays)
    campaigns: list[Campaign] = []
    year = ctx.clock.start.year
    for k, d in enumerate(cdays, start=1):
        dt = ctx.clock.date_of_day(d)
        if d == ctx.peak_day:
            obj, ch = "promotion", "email"
        else:
            obj = choice_w(rnd, [("promotion", 0.4), ("newsletter", 0.3), ("reactivation", 0.1),
                                 ("welcome", 0.1), ("loyalty", 0.1)])
            ch = "sms" if rnd.random() < 0.2 and obj != "newsletter" else "email"
        label = {"promotion": "Promo", "newsletter": "Newsletter", "reactivation": "On ne vous oublie pas",
                 "welcome": "Bienvenue", "loyalty": "Club fidélité"}[obj]
        name = f"{label} {MONTHS[dt.month - 1]} {dt.year} #{k}"
        if d == ctx.peak_day:
            name = f"Black Friday {dt.year}" if ctx.peak_is_black_friday else f"Journée spéciale {dt.year}"
        offer = ""
        if obj in ("promotion", "reactivation", "loyalty") or (obj == "welcome" and rnd.random() < 0.7):
            offer = rnd.choice(["PROMO10", "PROMO15", "BIENVENUE10", "FIDELITE20", "RETOUR15", "JOUR J"]) \
                if d != ctx.peak_day else f"BF{dt.year}"
        holdout = rnd.choice([0.05, 0.1, 0.1, 0.2]) if rnd.random() < 0.4 else None
        sec = rnd.choice([8 * 3600, 9 * 3600 + 1800, 10 * 3600, 18 * 3600, 11 * 3600 + 900])
        t = int(ctx.clock.at1(d, sec))
        campaigns.append(Campaign(f"CMP{year}{k:04d}" if rnd.random() > 0.05 else f"cmp-{year}-{k:04d}",
                                  name, ch, obj, d, t, offer, holdout))
    camp_ent.schedule = sorted({c.day for c in campaigns} | {d for d in range(days) if d % 28 == 27})
    for c in campaigns:
        hs = "" if c.holdout is None else f"{c.holdout:g}"
        camp_ent.rows.append(Row(c.day, c.utc, [c.campaign_id, c.name, c.channel, c.objective,
                                                ctx.clock.render1(c.utc, "offset"), c.offer, hs]))
    ctx.campaigns = campaigns

    # ---- the list ---------------------------------------------------------------------------
    subs: list[Sub] = ctx.esp_entries
    if not subs:
        return
    rec_ids: dict[tuple[str, str], int] = {}
    rec_of = np.empty(len(subs), dtype=np.int64)
    for i, s in enumerate(subs):
        rec_of[i] = rec_ids.setdefault((s.channel, s.recipient), len(rec_ids))
    recipients = [None] * len(rec_ids)
    owners: list[list] = [[] for _ in range(len(rec_ids))]
    for (ch, r), i in rec_ids.items():
        recipients[i] = r
    for i, s in enumerate(subs):
        for o in s.owners:
            if o not in owners[rec_of[i]]:
                owners[rec_of[i]].append(o)
    start = np.array([s.start for s in subs])
    end = np.array([s.end for s in subs], dtype=np.int64)
    is_email = np.array([s.channel == "email" for s in subs])
    deliver = np.array([s.deliverable for s in subs])
    open_p = np.array([s.engagement[0][0] for s in subs])
    click_p = np.array([s.engagement[0][1] for s in subs])
    stop = np.full(len(subs), 10**6, dtype=np.int64)   # objection synced / erasure / suppressed
    for i, s in enumerate(subs):
        for o in s.owners:
            p = ctx.by_pid[o]
            for dd in (p.erase_day, p.object_day):
                if dd is not None:
                    stop[i] = min(stop[i], dd + 2)
    removed = np.full(len(rec_ids), 10**6, dtype=np.int64)   # per recipient (unsub, hard bounce)
    got_event = np.zeros(len(rec_ids), dtype=bool)
    seed_events = []
    eid = [0]

    def ev_id() -> str:
        eid[0] += 1
        return f"{eid[0]:010d}"

    ev_rows = ev_ent.rows
    for c in campaigns:
        d = c.day
        email = c.channel == "email"
        active = (start <= d) & (end > d) & (stop > d) & (is_email == email) & (removed[rec_of] > d)
        if c.objective == "welcome":
            active &= start >= d - 30
            frac = 1.0
        else:
            frac = {"promotion": 0.22, "newsletter": 0.4, "reactivation": 0.08, "loyalty": 0.15}[c.objective]
            if d == ctx.peak_day:
                frac = 0.6
        idx = np.flatnonzero(active)
        idx = idx[rng.random(len(idx)) < frac]
        # one message per recipient
        _u, first = np.unique(rec_of[idx], return_index=True)
        idx = idx[np.sort(first)]
        if not len(idx):
            continue
        m = len(idx)
        t_send = c.utc + np.sort(rng.integers(0, max(60, m // 2), size=m))
        held = rng.random(m) < (c.holdout or 0.0)
        rows_t, rows_type, rows_i = [], [], []

        def add(mask, times, etype, rows_t=rows_t, rows_type=rows_type, rows_i=rows_i):
            rows_t.append(times[mask])
            rows_type.append(np.full(int(mask.sum()), etype, dtype=object))
            rows_i.append(np.flatnonzero(mask))

        add(held, t_send, "held_out")
        sent = ~held
        add(sent, t_send, "sent")
        bounce = sent & (~deliver[idx] | (rng.random(m) < 0.005))
        t_del = t_send + rng.integers(1, 120, size=m)
        add(bounce, t_del, "bounce")
        dlv = sent & ~bounce
        add(dlv, t_del, "delivered")
        hard = bounce & ~deliver[idx]
        removed[rec_of[idx[hard]]] = np.minimum(removed[rec_of[idx[hard]]], d + 1)
        if email:
            opened = dlv & (rng.random(m) < open_p[idx])
            late = rng.random(m) < 0.3
            t_open = t_del + np.where(late, rng.exponential(2 * 86400, size=m),
                                      rng.exponential(4 * 3600, size=m)).astype(np.int64) + 30
            add(opened, t_open, "open")
            clicked = opened & (rng.random(m) < click_p[idx] * 2.5)
        else:
            opened = dlv
            t_open = t_del
            clicked = dlv & (rng.random(m) < click_p[idx] * 0.6)
        t_click = t_open + rng.integers(5, 600, size=m)
        add(clicked, t_click, "click")
        unsub = dlv & (rng.random(m) < (0.004 if email else 0.006))
        t_unsub = t_open + rng.integers(10, 900, size=m)
        add(unsub, t_unsub, "unsubscribe")
        compl = dlv & ~unsub & (rng.random(m) < (0.0005 if email else 0.0))
        add(compl, t_unsub + 5, "complaint")
        gone = unsub | compl
        removed[rec_of[idx[gone]]] = np.minimum(removed[rec_of[idx[gone]]], d + 1)
        times = np.concatenate(rows_t)
        types = np.concatenate(rows_type)
        which = np.concatenate(rows_i)
        fdays = ctx.clock.day_of(times)
        keep = fdays < days
        times, types, which, fdays = times[keep], types[keep], which[keep], fdays[keep]
        ts = ctx.clock.render(times, "z" if rnd.random() < 0.7 else "zms")
        slug = c.name.lower().replace(" ", "-").replace("#", "")
        url = f"https://www.maxidom.fr/operations/{slug}?utm_source=esp&utm_medium={c.channel}" \
              f"&utm_campaign={c.campaign_id}"
        for k in range(len(times)):
            i = idx[which[k]]
            r = rec_of[i]
            etype = types[k]
            ev_rows.append(Row(int(fdays[k]), int(times[k]), [ev_id(), c.campaign_id, recipients[r], etype,
                                                               ts[k], url if etype == "click" else ""]))
            got_event[r] = True
            if etype in ("unsubscribe", "complaint"):
                ctx.log_consent(owners[r][0], int(times[k]), c.channel, False)
            elif etype == "click":
                ctx.esp_clicks.append((owners[r][0], int(times[k]), c))
        # seed-list addresses the platform adds to every e-mail campaign (nobody real)
        if email:
            for sd in SEEDS:
                seed_events.append((c, sd))
                for etype, dt in (("sent", 0), ("delivered", 3), ("open", 400)):
                    tt = c.utc + dt
                    fd = int(ctx.clock.day_of1(tt))
                    if fd < days:
                        ev_rows.append(Row(fd, tt, [ev_id(), c.campaign_id, sd, etype,
                                                    ctx.clock.render1(tt, "z"), ""]))
                        ctx.truth.rec("esp", sd, "")
    for r in np.flatnonzero(got_event):
        for o in owners[r]:
            ctx.truth.rec("esp", recipients[r], o)
