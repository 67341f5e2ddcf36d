"""Deliberately invalid rows (to be quarantined) and contract-valid oddities (to be accepted).

Bad rows are EXTRA rows (a corrupted re-send of a real row, or a row nobody sent correctly): they
never replace a valid row, so the truth files stay exactly what the valid rows say."""

from __future__ import annotations

import copy
import json

from .context import Ctx
from .landing import COLUMNS, Row

BAD_TS = ["31/02/2025 25:61", "N/A", "hier soir", "2025-13-45 10:00:00", "0000-00-00 00:00:00", "demain"]


def _csv(entity_key, col: str) -> int:
    return COLUMNS[entity_key].index(col)


def _set(vals: list, key, col: str, v: str) -> list:
    out = list(vals)
    out[_csv(key, col)] = v
    return out


def _mutators(key):
    """[(reason, function(rnd, row) -> Row)] for one entity."""
    ts_col = {("crm", "customers"): "updated_at", ("ecommerce", "accounts"): "updated_at",
              ("pos", "receipts"): "purchased_at", ("callcenter", "calls"): "called_at",
              ("esp", "campaigns"): "sent_at", ("esp", "events"): "occurred_at",
              ("forms", "signups"): "submitted_at", ("partners", "email_appends"): "appended_at",
              ("privacy", "requests"): "requested_at"}.get(key)
    id_col = COLUMNS[key][0]
    m = []
    if key not in (("ecommerce", "orders"), ("web", "events")):
        m.append((f"required field missing: {id_col}", lambda rnd, r: _set(r.values, key, id_col, "")))
    if ts_col:
        m.append((f"unparseable timestamp: {ts_col}",
                  lambda rnd, r: _set(r.values, key, ts_col, rnd.choice(BAD_TS))))
        m.append((f"required field missing: {ts_col}", lambda rnd, r: _set(r.values, key, ts_col, "")))
    if key == ("crm", "customers"):
        def split(rnd, r):
            v = list(r.values[:len(COLUMNS[key])])
            i = _csv(key, "address_line")
            line = v[i] or "12 rue de la Paix"
            a, _, b = line.partition(" ")
            return v[:i] + [a, b] + v[i + 1:]
        m.append(("unparseable: wrong number of fields", split))
    if key == ("pos", "receipts"):
        m += [("bad quantity: not an integer", lambda rnd, r: _set(r.values, key, "quantity",
                                                                   rnd.choice(["deux", "1,5x", "abc"]))),
              ("required field missing: quantity", lambda rnd, r: _set(r.values, key, "quantity", "")),
              ("required field missing: sku", lambda rnd, r: _set(r.values, key, "sku", "")),
              ("negative price", lambda rnd, r: _set(r.values, key, "unit_price",
                                                    "-" + (r.values[_csv(key, "unit_price")] or "10,00"))),
              ("required field missing: unit_price", lambda rnd, r: _set(r.values, key, "unit_price", ""))]
    if key == ("callcenter", "calls"):
        m.append(("unknown enum: reason", lambda rnd, r: _set(r.values, key, "reason",
                                                             rnd.choice(["autre", "réclamation", "rappel"]))))
    if key == ("esp", "campaigns"):
        m.append(("unknown enum: channel", lambda rnd, r: _set(r.values, key, "channel",
                                                              rnd.choice(["push", "courrier"]))))
    if key == ("esp", "events"):
        m.append(("unknown enum: event_type", lambda rnd, r: _set(r.values, key, "event_type",
                                                                 rnd.choice(["opened", "soft_bounce", "read"]))))
    if key == ("forms", "signups"):
        m.append(("unknown enum: form_type", lambda rnd, r: _set(r.values, key, "form_type",
                                                                rnd.choice(["quiz", "jeu"]))))
    if key == ("privacy", "requests"):
        m.append(("unknown enum: request_type", lambda rnd, r: _set(r.values, key, "request_type",
                                                                   "rectification")))
    if key == ("ecommerce", "orders"):
        def cur(rnd, r):
            o = copy.deepcopy(r.values)
            o["currency"] = rnd.choice(["USD", "GBP", "CHF"])
            o["order_id"] = o["order_id"] + "X"
            return o

        def status(rnd, r):
            o = copy.deepcopy(r.values)
            o["status"] = rnd.choice(["lost", "en_cours", "refunded"])
            return o

        def neg(rnd, r):
            o = copy.deepcopy(r.values)
            o["order_id"] = o["order_id"] + "N"
            o["lines"][0]["unit_price"] = -abs(o["lines"][0]["unit_price"])
            return o

        def qty(rnd, r):
            o = copy.deepcopy(r.values)
            o["order_id"] = o["order_id"] + "Q"
            o["lines"][0]["quantity"] = rnd.choice(["deux", None])
            return o

        def noid(rnd, r):
            o = copy.deepcopy(r.values)
            o["order_id"] = None
            return o

        def ts(rnd, r):
            o = copy.deepcopy(r.values)
            o["ordered_at"] = rnd.choice(BAD_TS)
            return o

        def trunc(rnd, r):
            s = json.dumps(r.values, ensure_ascii=False)
            return s[: max(10, len(s) // 2)]

        m += [("unsupported currency", cur), ("unknown enum: status", status), ("negative price", neg),
              ("bad quantity", qty), ("required field missing: order_id", noid),
              ("unparseable timestamp: ordered_at", ts), ("unparseable json", trunc)]
    if key == ("web", "events"):
        def wenum(rnd, r):
            o = dict(r.values)
            o["event_type"] = rnd.choice(["scroll", "video_play", "PageView"])
            return o

        def wts(rnd, r):
            o = dict(r.values)
            del o["occurred_at"]
            return o

        def wid(rnd, r):
            o = dict(r.values)
            o["event_id"] = None
            return o

        def wtrunc(rnd, r):
            s = json.dumps(r.values, ensure_ascii=False)
            return s[: max(10, len(s) - 17)]

        m += [("unknown enum: event_type", wenum), ("required field missing: occurred_at", wts),
              ("required field missing: event_id", wid), ("unparseable json", wtrunc)]
    return m


# Entities whose rows are events, not upserts: a corrupted copy gets an id of its own, so that no
# valid row and bad row share a key (for upserted entities, a bad re-send of the same id is fine).
_EVENT_IDS = {("pos", "receipts"): "line_no", ("callcenter", "calls"): "call_id", ("esp", "events"): "event_id",
              ("forms", "signups"): "signup_id", ("privacy", "requests"): "request_id",
              ("web", "events"): "event_id"}


def _fresh_id(key, vals, reason: str, k: int):
    col = _EVENT_IDS.get(key)
    if col is None or reason.startswith("required field missing: " + COLUMNS[key][0]):
        return vals
    if isinstance(vals, str):
        return vals
    if isinstance(vals, dict):
        if vals.get(col):
            vals[col] = f"{vals[col]}b"
        return vals
    i = COLUMNS[key].index(col)
    vals = list(vals)
    vals[i] = str(90 + k % 10) if col == "line_no" else f"{vals[i]}B"
    return vals


def inject_bad_rows(ctx: Ctx, rate: float = 0.002) -> None:
    rnd = ctx.rnd("traps")
    rng = ctx.rng("traps")
    for key, e in ctx.entities.items():
        if not e.rows:
            continue
        muts = _mutators(key)
        if not muts:
            continue
        n = max(int(rng.binomial(len(e.rows), rate)), len(muts) if key[0] not in ("reference",) else 1)
        templates = [r for r in e.rows if not r.bad]
        picks = rng.choice(len(templates), size=n, replace=True)
        for k in range(n):
            reason, fn = muts[k] if k < len(muts) else muts[rnd.randrange(len(muts))]
            t = templates[int(picks[k])]
            vals = fn(rnd, t)
            raw = reason.startswith("unparseable: wrong number")
            vals = _fresh_id(key, vals, reason, k)
            e.rows.append(Row(t.day, t.key + 1, vals, bad=reason, raw=raw))


def contract_oddities(ctx: Ctx) -> None:
    """Valid but implausible values the pipeline must accept (kept, maybe warned about)."""
    rnd = ctx.rnd("oddities")
    crm = ctx.entities.get(("crm", "customers"))
    key = ("crm", "customers")
    if crm and crm.rows:
        for _ in range(max(1, len(crm.rows) // 10000)):
            r = rnd.choice(crm.rows)
            r.values[_csv(key, "household_size")] = "40"
        for v in ("1890-04-12", f"{ctx.clock.start.year + 1}-06-01", "1985-02-30"):
            r = rnd.choice(crm.rows)
            r.values[_csv(key, "birth_date")] = v
    forms = ctx.entities.get(("forms", "signups"))
    fkey = ("forms", "signups")
    if forms:
        surveys = [r for r in forms.rows if r.values[1] == "survey" and not r.bad]
        for r in rnd.sample(surveys, k=min(len(surveys), max(1, len(surveys) // 500))):
            r.values[_csv(fkey, "nps")] = "dix"
