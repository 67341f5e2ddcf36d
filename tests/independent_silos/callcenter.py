"""callcenter/calls: calls from mobiles, household landlines, work phones and unknown numbers."""

from __future__ import annotations

import numpy as np

from .context import Ctx
from .landing import Row
from .noise import choice_w, format_phone, strip_accents

FORMATS = [("e164", 0.6), ("compact", 0.25), ("intl00", 0.1), ("no_plus", 0.05)]


def generate_calls(ctx: Ctx) -> None:
    rnd = ctx.rnd("calls")
    rng = ctx.rng("calls")
    days = ctx.days
    ent = ctx.entity("callcenter", "calls", schedule=list(range(days)), crlf=True)
    known_numbers = {c.value for p in ctx.persons for c in p.phones}
    namesakes: dict[tuple[str, str], list] = {}
    for rec in ctx.crm_records:
        if rec.pid:
            p = ctx.by_pid[rec.pid]
            namesakes.setdefault((strip_accents(p.first).lower(), strip_accents(p.last).lower()), []).append(rec)
    wk = ctx.weights("calls")
    seq = [0]

    def call_id() -> str:
        seq[0] += 1
        return f"CALL-{(seq[0] * 48271) % 10**8:08d}"

    def office_time(day: int) -> tuple[int, int] | None:
        for _ in range(7):
            if 0 <= day < days and wk[day] > 0:
                sec = int(ctx.sample_seconds(np.random.default_rng(rnd.randrange(2**32)), 1, "office")[0])
                return day, int(ctx.clock.at1(day, sec))
            day += 1
        return None

    def emit(t: int, day: int, phone: str, crm_id: str, reason: str, outcome: str, order_id: str) -> None:
        dur = "" if rnd.random() < 0.03 else str(int(rnd.lognormvariate(5.3, 0.7)))
        ent.rows.append(Row(day, t, [call_id(), ctx.clock.render1(t, "local"), phone, crm_id,
                                     reason, outcome, order_id, dur]))

    def person_call(p, day: int, reason: str, order_id: str = "") -> None:
        slot = office_time(day)
        if slot is None:
            return
        day, t = slot
        m, land, work = p.mobile_at(day), p.phone_of_kind(day, "landline"), p.phone_of_kind(day, "workphone")
        k = rnd.random()
        c = None
        if k < 0.03:
            c = None                                    # hidden number
        elif k < 0.08 and work:
            c = work
        elif k < 0.3 and land:
            c = land
        else:
            c = m or land
        phone = format_phone(c.value, choice_w(rnd, FORMATS)) if c else ""
        crm_id = ""
        recs = [r for r in ctx.crm_by_person.get(p.pid, []) if r.created_day <= day]
        if recs and rnd.random() < 0.55:
            crm_id = rnd.choice(recs).crm_id
            if c is land and p.spouse >= 0 and rnd.random() < 0.2:
                sp = [r for r in ctx.crm_by_person.get(ctx.persons[p.spouse].pid, []) if r.created_day <= day]
                if sp:
                    crm_id = sp[0].crm_id              # calling about the spouse's account
            if rnd.random() < 0.01:
                others = [r for r in namesakes.get((strip_accents(p.first).lower(),
                                                    strip_accents(p.last).lower()), []) if r.pid != p.pid]
                if others:
                    crm_id = rnd.choice(others).crm_id  # the agent picked a namesake
        if reason == "quote_request":
            outcome = choice_w(rnd, [("resolved", 0.45), ("escalated", 0.15), ("sale", 0.35), ("", 0.05)])
        else:
            outcome = choice_w(rnd, [("resolved", 0.72), ("escalated", 0.16), ("sale", 0.1), ("", 0.02)])
        emit(t, day, phone, crm_id, reason, outcome, order_id)
        if phone:
            ctx.truth.rec("callcenter", phone, p.pid)
            ctx.use_phone(p.pid, phone)

    # calls about a web order
    for pid, orders in ctx.orders_by_person.items():
        p = ctx.by_pid[pid]
        for oid, d0 in orders:
            if rnd.random() < 0.1:
                day = max(0, d0) + rnd.randint(1, 10)
                if day >= days or (p.erase_day is not None and day >= p.erase_day and rnd.random() > 0.2):
                    continue
                reason = choice_w(rnd, [("order_status", 0.6), ("complaint", 0.25), ("cancellation", 0.15)])
                ref = oid if rnd.random() < 0.9 else ("" if rnd.random() < 0.5 else oid.lower()[1:])
                person_call(p, day, reason, ref)
    # other calls
    callers = [p for p in ctx.persons if p.call_rate > 0 and p.age >= 18]
    counts = ctx.event_counts(rng, np.array([p.call_rate for p in callers]), "calls")
    who = np.repeat(np.arange(len(callers)), counts)
    cdays = ctx.sample_days(rng, len(who), "calls")
    for j in range(len(who)):
        p = callers[who[j]]
        day = int(cdays[j])
        if p.erase_day is not None and day >= p.erase_day and rnd.random() > 0.2:
            continue
        reason = choice_w(rnd, [("information", 0.5), ("quote_request", 0.35), ("complaint", 0.15)])
        person_call(p, day, reason)
    # wrong numbers, prospects, robocalls: numbers that are nobody's
    n_junk = int(rng.poisson(0.015 * len(ctx.persons) * ctx.frac)) + 1
    for _ in range(n_junk):
        slot = office_time(rnd.randrange(days))
        if slot is None:
            continue
        day, t = slot
        while True:
            num = "+33" + rnd.choice(["6", "7", "1", "4", "9"]) + f"{rnd.randrange(10**8):08d}"
            if num not in known_numbers:
                break
        phone = format_phone(num, choice_w(rnd, FORMATS))
        emit(t, day, phone, "", rnd.choice(["information", "quote_request"]),
             choice_w(rnd, [("resolved", 0.8), ("", 0.2)]), "")
        ctx.truth.rec("callcenter", phone, "")
