"""forms/signups (newsletter, contest, survey) and partners/email_appends."""

from __future__ import annotations

import numpy as np

from .common import Sub, email_users, norm_email
from .context import Ctx
from .crm import esp_email
from .data_names import JUNK_NAMES
from .data_places import JUNK_EMAILS
from .landing import Row
from .noise import Style, choice_w, render_email, render_names, strip_accents

STYLE = Style(upper_last=0.02, upper_all=0.05, lower_all=0.25, no_accents=0.35, typo_name=0.03,
              swap_names=0.03, nickname=0.02, spaces=0.04, email_case=0.12, email_tag=0.1, email_typo=0.015,
              email_space=0.02, gmail_dots=0.03)
INTERESTS = {"console": ["ps5", "xbox", "switch", "pc", "none"],
             "housing": ["apartment", "house", "house_with_garden"],
             "project": ["kitchen", "bathroom", "garden", "none", "insulation"],
             "pets": ["dog", "cat", "none"], "tv": ["oled", "qled", "lcd", "none"]}


def _interests(rnd, p) -> str:
    keys = rnd.sample(list(INTERESTS), k=rnd.randint(1, 3))
    hh_seed = p.hh * 31
    out = []
    for k in keys:
        vals = INTERESTS[k]
        v = vals[(hh_seed + len(k) * 7 + (p.idx if k == "console" else 0)) % len(vals)]
        out.append(f"{k}:{v}")
    return ";".join(out)


def generate_forms(ctx: Ctx) -> None:
    rnd = ctx.rnd("forms")
    rng = ctx.rng("forms")
    days = ctx.days
    ent = ctx.entity("forms", "signups", schedule=list(range(days)))
    # contests: two weeks, about every four months
    contest = np.zeros(days, dtype=bool)
    d = 10
    while d < days:
        contest[d:d + 14] = True
        d += 120
    people = [p for p in ctx.persons if p.form_rate > 0]
    counts = ctx.event_counts(rng, np.array([p.form_rate for p in people]), "web")
    who = np.repeat(np.arange(len(people)), counts)
    # extra entries during contests
    extra = rng.poisson(np.array([p.form_rate for p in people]) * 1.2 * contest.sum() / 365.0)
    who = np.concatenate([who, np.repeat(np.arange(len(people)), extra)])
    fdays = ctx.sample_days(rng, int(counts.sum()), "web")
    cdays = np.flatnonzero(contest)
    if len(cdays):
        fdays = np.concatenate([fdays, rng.choice(cdays, size=int(extra.sum()))])
    else:
        who = who[: len(fdays)]
    secs = ctx.sample_seconds(rng, len(who), "web")
    utcs = ctx.clock.at(fdays, secs)
    sid = [0]

    def new_id() -> str:
        sid[0] += 1
        return f"{(sid[0] * 7919) % 10**9:09d}"

    def emit(signup_id, ftype, t, day, email, first, last, postcode, opt, interests, nps):
        ts = ctx.clock.render1(t, "z" if rnd.random() < 0.7 else "localT")
        ent.rows.append(Row(day, t, [signup_id, ftype, ts, email, first, last, postcode, opt, interests, nps]))

    def opt_str(v: bool | None) -> str:
        if v is None:
            return ""
        return ("1" if v else "0") if rnd.random() < 0.8 else ("true" if v else "false")

    for j in np.argsort(utcs, kind="stable"):
        p = people[who[j]]
        day, t = int(fdays[j]), int(utcs[j])
        if p.erase_day is not None and day >= p.erase_day:
            continue
        ftype = "contest" if contest[day] and rnd.random() < 0.7 else choice_w(
            rnd, [("newsletter", 0.55), ("contest", 0.25), ("survey", 0.2)])
        hh = ctx.households[p.hh]
        em = p.main_email_at(day)
        k = rnd.random()
        if k < 0.1 and hh.family_email and any(c.kind == "family" for c in p.emails):
            em = hh.family_email
        elif k < 0.2:
            em = next((c for c in p.emails if c.kind == "work" and c.active(day)), em)
        if em is None:
            continue
        entries = 1 if ftype != "contest" or rnd.random() > 0.1 else rnd.randint(2, 4)
        for e in range(entries):
            st = STYLE if e == 0 else Style(email_tag=0.9, email_case=0.3, lower_all=0.3)
            email = render_email(rnd, em.value, st, tags=("concours", "jeu", "1", "2", "win"))
            has_names = {"newsletter": 0.4, "contest": 0.95, "survey": 0.6}[ftype]
            first = last = ""
            if rnd.random() < has_names:
                first, last = render_names(rnd, p.first, p.last_at(day), STYLE)
                if ftype == "newsletter" and rnd.random() < 0.5:
                    last = ""
            pc = ""
            if rnd.random() < {"newsletter": 0.2, "contest": 0.8, "survey": 0.5}[ftype]:
                pc = ctx.households[p.hh].address_at(day).postcode
                if pc.startswith("0") and rnd.random() < 0.03:
                    pc = pc[1:]
            opt = {"newsletter": rnd.random() < 0.9, "contest": rnd.random() < 0.5,
                   "survey": rnd.random() < 0.3}[ftype]
            if p.object_day is not None and day >= p.object_day:
                opt = False           # the person objected: no new opt-in
            opt_v = None if rnd.random() < 0.03 else opt
            interests = _interests(rnd, p) if ftype in ("contest", "survey") and rnd.random() < 0.8 else ""
            nps = ""
            if ftype == "survey" and rnd.random() < 0.9:
                nps = str(min(10, max(0, int(rnd.gauss(7.5, 2.2)))))
            signup_id = new_id()
            te = t + e * rnd.randint(20, 3000)
            de = int(ctx.clock.day_of1(te))
            if de >= days:
                continue
            emit(signup_id, ftype, te, de, email, first, last, pc, opt_str(opt_v), interests, nps)
            ctx.truth.rec("forms", signup_id, p.pid)
            ctx.use_email(p.pid, email)
            if opt_v and ftype == "newsletter":
                ctx.log_consent(p.pid, te, "email", True)
            if opt_v:
                same = norm_email(email) == norm_email(em.value)
                owners = email_users(ctx, em.value) if same else [p.pid]
                if p.pid not in owners:
                    owners = [p.pid] + owners
                ctx.esp_entries.append(Sub("email", esp_email(rnd, email), em.value, owners, de, 10**6,
                                           same and (em.deliverable or de < em.end), "forms",
                                           [(p.open_p, p.click_p)]))
    # junk entries, mostly in contests (nobody real)
    n_junk = max(1, int(0.03 * len(ent.rows)))
    for _ in range(n_junk):
        day = int(rng.choice(cdays)) if len(cdays) and rnd.random() < 0.8 else rnd.randrange(days)
        t = int(ctx.clock.at1(day, rnd.randint(0, 86399)))
        first, last = rnd.choice(JUNK_NAMES)
        email = rnd.choice(JUNK_EMAILS)
        if rnd.random() < 0.5:
            email = f"{strip_accents(first).lower()}{rnd.randint(1, 9999)}@yopmail.com"
        signup_id = new_id()
        emit(signup_id, "contest" if contest[day] else rnd.choice(["newsletter", "contest"]), t, day, email,
             first, last, rnd.choice(["00000", "12345", "", "75000"]), opt_str(rnd.random() < 0.5), "", "")
        ctx.truth.rec("forms", signup_id, "")


def generate_partners(ctx: Ctx) -> None:
    rnd = ctx.rnd("partners")
    days = ctx.days
    mondays = [d for d in range(days) if ctx.clock.weekday(d) == 0]
    silent = set()
    if days > 90:
        s0 = int(days * 0.3)
        silent = set(range(s0, s0 + 42))    # the partner sent nothing for six weeks
    schedule = [d for d in mondays if d not in silent]
    ent = ctx.entity("partners", "email_appends", schedule=schedule)
    if not schedule:
        return
    namesakes: dict[tuple[str, str], list] = {}
    for p in ctx.persons:
        namesakes.setdefault((strip_accents(p.first).lower(), strip_accents(p.last).lower()), []).append(p)
    for rec in ctx.crm_records:
        if not rec.pid or rec.email_ever:
            continue
        p = ctx.by_pid[rec.pid]
        if not p.emails or rnd.random() > 0.1 * ctx.frac * 1.3:
            continue
        d = rnd.randint(max(0, rec.created_day + 7), max(0, rec.created_day + 7) + days)
        later = [m for m in schedule if m >= d]
        if not later:
            continue
        day = later[0]
        if p.erase_day is not None and day >= p.erase_day:
            continue
        k = rnd.random()
        c = None
        if k < 0.03:
            others = [q for q in namesakes.get((strip_accents(p.first).lower(), strip_accents(p.last).lower()), [])
                      if q.pid != p.pid and q.emails]
            if others:
                c = rnd.choice(others).emails[0]      # the partner matched a namesake
        if c is None:
            olds = [x for x in p.emails if x.kind == "old"]
            if olds and k < 0.2:
                c = rnd.choice(olds)
            else:
                c = next((x for x in p.emails if x.kind in ("personal", "spouse", "family") and x.active(day)),
                         p.emails[0])
        email = c.value if rnd.random() > 0.15 else c.value.upper()
        opt = rnd.random() < 0.7
        t = int(ctx.clock.at1(day, rnd.randint(2 * 3600, 4 * 3600)))
        ent.rows.append(Row(day, t, [rec.crm_id, email, "true" if opt else "false",
                                     ctx.clock.render1(t, "z")]))
        ctx.truth.rec("partners", rec.crm_id, p.pid)
        if opt:
            owners = email_users(ctx, c.value) or [p.pid]
            if p.pid not in owners and c in p.emails:
                owners = [p.pid] + owners
            ctx.esp_entries.append(Sub("email", email.lower(), c.value, owners, day, 10**6,
                                       c.deliverable or day < c.end, "partners",
                                       [(p.open_p, p.click_p)]))
