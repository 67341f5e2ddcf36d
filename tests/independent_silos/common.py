"""Helpers shared by the silos."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from .population import Person


def norm_email(s: str) -> str:
    """What the mailbox really is: case, spaces, +tag and gmail dots do not matter."""
    s = s.strip().lower()
    local, _, dom = s.partition("@")
    local = local.split("+", 1)[0]
    if dom in ("gmail.com", "googlemail.com"):
        local = local.replace(".", "")
        dom = "gmail.com"
    return f"{local}@{dom}"


def email_users(ctx, canonical: str) -> list[str]:
    """pids of every person who has this address among their true addresses."""
    idx = getattr(ctx, "_email_index", None)
    if idx is None:
        idx = {}
        for p in ctx.persons:
            for c in p.emails:
                idx.setdefault(norm_email(c.value), []).append(p.pid)
        ctx._email_index = idx
    return list(dict.fromkeys(idx.get(norm_email(canonical), [])))


@dataclass
class Sub:
    """An address or number the ESP can send to, with when it may be used."""
    channel: str           # email | sms
    recipient: str         # as the ESP will send it
    canonical: str         # the real address / E.164 behind it
    owners: list           # pids who produced it (the giver and the co-users of a shared inbox)
    start: int             # day index from which it is on the list
    end: int               # day index from which it is no longer (consent withdrawn, ...)
    deliverable: bool
    source: str
    engagement: list = field(default_factory=list)  # (open_p, click_p) of the reader


def bool_str(v: bool | None, style: str) -> str:
    if v is None:
        return ""
    if style == "10":
        return "1" if v else "0"
    return "true" if v else "false"


def birth_str(rnd: random.Random, p: Person, missing: float, next_year: int, odd: bool = True) -> str:
    """A birth date as a silo holds it: usually right, sometimes blank, swapped, impossible."""
    if rnd.random() < missing:
        return ""
    b = p.birth
    k = rnd.random()
    if not odd:
        return b.isoformat()
    if k < 0.004 and b.day <= 12 and b.day != b.month:
        return date(b.year, b.day, b.month).isoformat()       # day and month swapped
    if k < 0.006:
        return f"{b.year}-02-30"                              # does not parse -> null, row kept
    if k < 0.008:
        return f"1890-{b.month:02d}-{min(b.day, 28):02d}"      # implausible but parses
    if k < 0.009:
        return f"{next_year}-{b.month:02d}-{min(b.day, 28):02d}"
    if k < 0.012:
        return f"{b.year}-{b.month:02d}-01"                    # only the month known
    return b.isoformat()
