"""generate(): the whole landing zone plus the truth files."""

from __future__ import annotations

import csv
import shutil
from datetime import date
from pathlib import Path

from .callcenter import generate_calls
from .context import Ctx
from .crm import generate_crm
from .ecommerce import generate_accounts, generate_orders
from .esp import generate_esp
from .forms import generate_forms, generate_partners
from .landing import Landing
from .population import build_population
from .pos import generate_pos
from .privacy import generate_privacy, plan_privacy
from .reference import generate_reference
from .timeutil import Clock
from .traps import contract_oddities, inject_bad_rows
from .web import generate_web


def generate(out: Path, persons: int = 20000, days: int = 365, start: date = date(2025, 1, 1), seed: int = 7,
             traps: bool = True) -> dict:
    """Write out/landing/<source>/<entity>/<YYYY-MM-DD>.<ext> and out/truth/*.csv; return counts."""
    if persons < 1 or days < 1:
        raise ValueError("persons and days must be positive")
    out = Path(out)
    landing_dir, truth_dir = out / "landing", out / "truth"
    for d in (landing_dir, truth_dir):
        if d.exists():
            shutil.rmtree(d)
    clock = Clock(start, days)
    pop = build_population(persons, start, days, seed)
    ctx = Ctx(pop, clock, seed, traps)
    plan_privacy(ctx)
    generate_reference(ctx)
    generate_crm(ctx)
    generate_accounts(ctx)
    generate_orders(ctx)
    generate_pos(ctx)
    generate_forms(ctx)
    generate_partners(ctx)
    generate_esp(ctx)
    generate_web(ctx)
    generate_calls(ctx)
    generate_privacy(ctx)
    if traps:
        contract_oddities(ctx)
        inject_bad_rows(ctx)
    landing = Landing(landing_dir, clock)
    for key in sorted(ctx.entities):
        landing.write(ctx.entities[key])
    _write_truth(ctx, truth_dir, landing)
    return {
        "persons": len(pop.persons),
        "households": len(pop.households),
        "twins_pairs": pop.twins,
        "reassigned_mobiles": pop.reassigned_mobiles,
        "files": landing.files,
        "rows": dict(sorted(landing.rows.items())),
        "rows_total": sum(landing.rows.values()),
        "bad_rows": len(landing.bad_rows),
        "records": len(ctx.truth.records_rows()),
        "purchases": len(ctx.truth.purchases),
        "privacy_requests": len(ctx.truth.privacy),
        "crm_members": len({r.crm_id for r in ctx.crm_records}),
        "accounts": len(ctx.accounts),
        "orders": sum(1 for p in ctx.truth.purchases if p["channel"] == "web"),
        "receipts": sum(1 for p in ctx.truth.purchases if p["channel"] == "store"),
        "campaigns": len(ctx.campaigns),
        "peak_day": clock.day_str(ctx.peak_day),
    }


def _write(path: Path, header: list[str], rows) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def _write_truth(ctx: Ctx, truth_dir: Path, landing: Landing) -> None:
    truth_dir.mkdir(parents=True, exist_ok=True)
    _write(truth_dir / "records.csv", ["source", "source_record_id", "person_id"], ctx.truth.records_rows())
    last = ctx.days - 1
    rows = []
    for p in ctx.persons:
        a = ctx.households[p.hh].address_at(last)
        log = sorted(ctx.consent_log.get(p.pid, []))
        ce = next((v for _t, ch, v in reversed(log) if ch == "email"), None)
        cs = next((v for _t, ch, v in reversed(log) if ch == "sms"), None)
        emails = list(dict.fromkeys(c.value for c in p.emails))
        phones = list(dict.fromkeys(c.value for c in p.phones))
        rows.append([p.pid, p.hid, p.first, p.last, p.birth.isoformat(), p.sex, "|".join(emails), "|".join(phones),
                     a.line(), a.postcode, a.city, p.twin_of,
                     "" if ce is None else str(ce).lower(), "" if cs is None else str(cs).lower()])
    _write(truth_dir / "persons.csv", ["person_id", "household_id", "first_name", "last_name", "birth_date", "sex",
                                       "emails", "phones", "address_line", "postcode", "city", "twin_of",
                                       "consent_email", "consent_sms"], rows)
    cols = ["purchase_id", "channel", "person_id", "household_id", "local_date", "net_amount", "counts",
            "actual_person_id", "kind", "status_history"]
    purchases = sorted(ctx.truth.purchases, key=lambda x: (x["local_date"], x["purchase_id"]))
    _write(truth_dir / "purchases.csv", cols, [[x[c] for c in cols] for x in purchases])
    _write(truth_dir / "privacy.csv", ["request_id", "request_type", "person_id"], ctx.truth.privacy)
    _write(truth_dir / "bad_rows.csv", ["file", "line", "reason"], sorted(landing.bad_rows))
