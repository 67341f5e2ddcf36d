"""privacy/requests: erasures, objections and access requests, identified by whatever the person gives."""

from __future__ import annotations

from .context import Ctx
from .landing import Row
from .noise import choice_w, format_phone


def plan_privacy(ctx: Ctx) -> None:
    """Who asks what and when (decided before the silos: an erased person stops appearing)."""
    rnd = ctx.rnd("privacy-plan")
    days = ctx.days
    n = round(100 * len(ctx.persons) / 20000 * ctx.frac)
    n = max(n, 2 if days >= 7 else 1)
    cands = [p for p in ctx.persons if (p.crm_join is not None or p.acct_join is not None)]
    plan = []
    tries = 0
    while len(plan) < n and cands and tries < n * 20:
        tries += 1
        p = rnd.choice(cands)
        join = min(x for x in (p.crm_join, p.acct_join) if x is not None)
        lo = max(0, join + 3)
        if lo >= days:
            continue
        day = rnd.randint(lo, days - 1)
        rtype = choice_w(rnd, [("erasure", 0.35), ("objection", 0.5), ("access", 0.15)])
        if any(x[1] is p for x in plan):
            continue
        plan.append((day, p, rtype))
        if rtype == "erasure":
            p.erase_day = day
        elif rtype == "objection":
            p.object_day = day
        if rnd.random() < 0.06 and day + 1 < days:
            plan.append((rnd.randint(day + 1, days - 1), p, rtype))      # asked twice
    for _ in range(max(1, round(2 * ctx.frac))):
        plan.append((rnd.randrange(days), None, rnd.choice(["erasure", "access"])))
    plan.sort(key=lambda x: (x[0], x[1].idx if x[1] is not None else -1))
    ctx.privacy_plan = plan


def generate_privacy(ctx: Ctx) -> None:
    rnd = ctx.rnd("privacy")
    days = ctx.days
    plan = ctx.privacy_plan
    schedule = sorted({d for d, _p, _t in plan} | {d for d in range(days) if ctx.clock.weekday(d) == 0})
    ent = ctx.entity("privacy", "requests", schedule=schedule)
    year = ctx.clock.start.year
    for k, (day, p, rtype) in enumerate(plan, start=1):
        rid = f"DSR-{year}-{k:05d}"
        t = int(ctx.clock.at1(day, rnd.randint(8 * 3600, 20 * 3600)))
        ts = ctx.clock.render1(t, choice_w(rnd, [("offset", 0.5), ("z", 0.3), ("local", 0.2)]))
        if p is None:
            email = f"inconnu{rnd.randint(1, 999)}@{rnd.choice(['gmail.com', 'orange.fr'])}"
            ent.rows.append(Row(day, t, [rid, ts, rtype, email, "", ""]))
            ctx.truth.privacy.append((rid, rtype, ""))
            continue
        crm = [r for r in ctx.crm_by_person.get(p.pid, []) if r.created_day <= day]
        crm_emails = {s["email"].strip().lower() for r in crm for _t, _d, s in r.snapshots if s["email"]}
        used = list(dict.fromkeys(e.strip() for e in ctx.used_emails.get(p.pid, []) if e.strip()))
        other_silo = [e for e in used if e.lower() not in crm_emails]
        true_emails = [c.value for c in p.emails if c.kind in ("personal", "work", "old")]
        phones = [c.value for c in p.phones if c.kind == "mobile" and c.start <= day]
        mode = choice_w(rnd, [("email", 0.45), ("phone", 0.1), ("crm", 0.1), ("email+crm", 0.15),
                              ("email+phone", 0.1), ("all", 0.1)])
        email = phone = crm_id = ""
        if "email" in mode or mode == "all":
            k2 = rnd.random()
            if other_silo and k2 < 0.4:
                email = rnd.choice(other_silo)          # an address from another silo, not the CRM's
            elif used and k2 < 0.85:
                email = rnd.choice(used)
            elif true_emails:
                email = rnd.choice(true_emails)         # one no silo holds
            if email and rnd.random() < 0.2:
                email = email.upper() if rnd.random() < 0.3 else email.capitalize()
        if ("phone" in mode or mode == "all") and phones:
            phone = format_phone(phones[-1], choice_w(rnd, [("spaced", 0.4), ("compact", 0.3),
                                                             ("e164", 0.2), ("intl00_dashes", 0.1)]))
        if ("crm" in mode or mode == "all") and crm:
            crm_id = rnd.choice(crm).crm_id
        if not (email or phone or crm_id):
            if crm:
                crm_id = crm[0].crm_id
            elif used:
                email = used[0]
            elif phones:
                phone = format_phone(phones[-1], "spaced")
            else:
                continue
        ent.rows.append(Row(day, t, [rid, ts, rtype, email, phone, crm_id]))
        ctx.truth.privacy.append((rid, rtype, p.pid))
        if rtype in ("objection", "erasure"):
            ctx.log_consent(p.pid, t, "email", False)
            ctx.log_consent(p.pid, t, "sms", False)
