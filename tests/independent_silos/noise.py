"""How people type the same thing differently in each silo: case, accents, spaces, typos, swapped
names, nicknames, phone formats, e-mail case and +tags, street abbreviations."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

from .data_names import NICKNAMES
from .data_places import ARRONDISSEMENT_CITIES, CITY_ALIASES, DOMAIN_TYPOS, STREET_TYPES

_ABBREV = {full: abbrs for full, _share, abbrs in STREET_TYPES}

# AZERTY neighbours for typos.
_ROWS = ["azertyuiop", "qsdfghjklm", "wxcvbn"]
_NEIGH: dict[str, str] = {}
for _r, _row in enumerate(_ROWS):
    for _i, _c in enumerate(_row):
        near = ""
        if _i > 0:
            near += _row[_i - 1]
        if _i + 1 < len(_row):
            near += _row[_i + 1]
        for _rr in (_r - 1, _r + 1):
            if 0 <= _rr < len(_ROWS) and _i < len(_ROWS[_rr]):
                near += _ROWS[_rr][_i]
        _NEIGH[_c] = near


def strip_accents(s: str) -> str:
    s = s.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae")
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def ascii_slug(s: str, keep: str = "") -> str:
    """lowercase ascii letters/digits for e-mail local parts ('Le Gall' -> 'legall')."""
    s = strip_accents(s).lower()
    return "".join(c for c in s if c.isalnum() or c in keep)


def typo(rnd: random.Random, s: str) -> str:
    """One realistic keyboard slip (drop, double, swap, neighbour key)."""
    letters = [i for i, c in enumerate(s) if c.isalpha()]
    if len(letters) < 3:
        return s
    i = rnd.choice(letters[1:])
    k = rnd.random()
    if k < 0.3:
        return s[:i] + s[i + 1:]
    if k < 0.5:
        return s[:i] + s[i] + s[i:]
    if k < 0.75 and i + 1 < len(s) and s[i + 1].isalpha() and s[i + 1] != s[i]:
        return s[:i] + s[i + 1] + s[i] + s[i + 2:]
    c = s[i]
    near = _NEIGH.get(c.lower())
    if not near:
        return s[:i] + s[i + 1:]
    r = rnd.choice(near)
    return s[:i] + (r.upper() if c.isupper() else r) + s[i + 1:]


@dataclass(frozen=True)
class Style:
    """Probabilities of each way of typing a person's data in one silo."""
    upper_last: float = 0.0      # DUPONT
    upper_all: float = 0.0       # JEAN DUPONT
    lower_all: float = 0.0       # jean dupont
    no_accents: float = 0.1      # Helene instead of Hélène
    typo_name: float = 0.01
    swap_names: float = 0.01
    nickname: float = 0.005
    spaces: float = 0.01         # leading/trailing/double spaces
    hyphen_space: float = 0.2    # Jean Pierre for Jean-Pierre (compound first names)
    email_case: float = 0.05     # Jean.Dupont@Gmail.com
    email_tag: float = 0.0       # jean.dupont+promo@gmail.com
    email_typo: float = 0.005
    email_space: float = 0.005
    gmail_dots: float = 0.0      # jeandupont@gmail.com for jean.dupont@gmail.com
    phone_formats: tuple = (("spaced", 1.0),)
    street_abbrev: float = 0.3
    street_upper: float = 0.05
    street_comma: float = 0.2    # "12, rue ..."
    complement: float = 0.08
    city_upper: float = 0.2
    city_alias: float = 0.2
    postcode_lost_zero: float = 0.0


def _choice_w(rnd: random.Random, pairs) -> str:
    x = rnd.random() * sum(w for _, w in pairs)
    for v, w in pairs:
        x -= w
        if x <= 0:
            return v
    return pairs[-1][0]


def _space(rnd: random.Random, s: str) -> str:
    k = rnd.random()
    if k < 0.4:
        return s + " "
    if k < 0.7:
        return " " + s
    return s.replace(" ", "  ", 1) if " " in s else s + "  "


def render_names(rnd: random.Random, first: str, last: str, st: Style) -> tuple[str, str]:
    if rnd.random() < st.nickname and first in NICKNAMES:
        first = rnd.choice(NICKNAMES[first])
    if "-" in first and rnd.random() < st.hyphen_space:
        first = first.replace("-", " " if rnd.random() < 0.8 else "")
    if rnd.random() < st.no_accents:
        first, last = strip_accents(first), strip_accents(last)
    if rnd.random() < st.typo_name:
        if rnd.random() < 0.5:
            first = typo(rnd, first)
        else:
            last = typo(rnd, last)
    k = rnd.random()
    if k < st.upper_all:
        first, last = first.upper(), last.upper()
    elif k < st.upper_all + st.lower_all:
        first, last = first.lower(), last.lower()
    elif k < st.upper_all + st.lower_all + st.upper_last:
        last = last.upper()
    if rnd.random() < st.spaces:
        if rnd.random() < 0.5:
            first = _space(rnd, first)
        else:
            last = _space(rnd, last)
    if rnd.random() < st.swap_names:
        first, last = last, first
    return first, last


def render_email(rnd: random.Random, addr: str, st: Style, tags=("promo", "shop", "news", "web")) -> str:
    local, _, domain = addr.partition("@")
    if domain == "gmail.com" and "." in local and rnd.random() < st.gmail_dots:
        local = local.replace(".", "")
    if rnd.random() < st.email_tag and domain in ("gmail.com", "outlook.fr", "outlook.com",
                                                  "icloud.com", "hotmail.fr", "laposte.net"):
        local = f"{local}+{rnd.choice(tags)}"
    if rnd.random() < st.email_typo:
        if domain in DOMAIN_TYPOS and rnd.random() < 0.5:
            domain = rnd.choice(DOMAIN_TYPOS[domain])
        else:
            local = typo(rnd, local)
    if rnd.random() < st.email_case:
        k = rnd.random()
        if k < 0.5:
            local = ".".join(p[:1].upper() + p[1:] for p in local.split("."))
            domain = domain[:1].upper() + domain[1:]
        elif k < 0.8:
            local, domain = local.upper(), domain.upper()
        else:
            domain = domain[:1].upper() + domain[1:]
    out = f"{local}@{domain}"
    if rnd.random() < st.email_space:
        out = _space(rnd, out).replace("  ", " ")
    return out


def format_phone(e164: str, fmt: str) -> str:
    """e164 like +33612345678 -> the named format."""
    nat = "0" + e164[3:]
    pairs = [nat[i:i + 2] for i in range(0, 10, 2)]
    sub = e164[3:]
    if fmt == "spaced":
        return " ".join(pairs)
    if fmt == "compact":
        return nat
    if fmt == "dots":
        return ".".join(pairs)
    if fmt == "dashes":
        return "-".join(pairs)
    if fmt == "e164":
        return e164
    if fmt == "e164_spaced":
        return "+33 " + sub[0] + " " + " ".join(sub[i:i + 2] for i in range(1, 9, 2))
    if fmt == "intl00":
        return "0033" + sub
    if fmt == "intl00_dashes":
        return "0033 " + sub[0] + "-" + "-".join(sub[i:i + 2] for i in range(1, 9, 2))
    if fmt == "no_plus":
        return "33" + sub
    if fmt == "paren":
        return "+33 (0)" + sub[0] + " " + " ".join(sub[i:i + 2] for i in range(1, 9, 2))
    if fmt == "lost_zero":
        return sub
    raise ValueError(fmt)


def render_phone(rnd: random.Random, e164: str, st: Style) -> str:
    return format_phone(e164, _choice_w(rnd, st.phone_formats))


def render_street(rnd: random.Random, number: str, stype: str, sname: str, complement: str,
                  st: Style) -> str:
    t = stype
    if rnd.random() < st.street_abbrev:
        t = rnd.choice(_ABBREV.get(stype, [stype]))
    sep = ", " if rnd.random() < st.street_comma else " "
    line = f"{number}{sep}{t} {sname}"
    if rnd.random() < st.no_accents:
        line = strip_accents(line)
    if rnd.random() < st.street_upper:
        line = strip_accents(line).upper() if rnd.random() < 0.7 else line.upper()
    if complement and rnd.random() < 0.85:
        line = f"{complement}, {line}" if rnd.random() < 0.4 else f"{line} {complement}"
    if rnd.random() < st.spaces:
        line = _space(rnd, line)
    return line


def render_city(rnd: random.Random, city: str, postcode: str, st: Style) -> str:
    c = city
    if city in ARRONDISSEMENT_CITIES and rnd.random() < 0.35:
        arr = int(postcode[-2:]) if city != "Lyon" else int(postcode[-1:])
        suffix = rnd.choice(["{n}e", "{n}", "{n}ème", "{n:02d}"]).format(n=arr)
        c = f"{city} {suffix}"
    elif city in CITY_ALIASES and rnd.random() < st.city_alias:
        c = rnd.choice(CITY_ALIASES[city])
    if rnd.random() < st.no_accents:
        c = strip_accents(c)
    if rnd.random() < st.city_upper:
        c = c.upper()
    if rnd.random() < st.spaces:
        c = _space(rnd, c)
    return c


def render_postcode(rnd: random.Random, postcode: str, st: Style) -> str:
    if postcode.startswith("0") and rnd.random() < st.postcode_lost_zero:
        return postcode[1:]
    return postcode


def choice_w(rnd: random.Random, pairs):
    return _choice_w(rnd, pairs)
