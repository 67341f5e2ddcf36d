"""How people really type: accents, case, typos, nicknames, swapped names, e-mail tags,
seven phone formats, street abbreviations. Each function maps an array to a messy array."""

from __future__ import annotations

import numpy as np

from .people import ascii_fold

NICKNAMES = {
    "Alexandre": "Alex", "Catherine": "Cathy", "Christophe": "Chris", "Nicolas": "Nico", "Frédéric": "Fred",
    "Stéphanie": "Steph", "Jean-Baptiste": "JB", "Elisabeth": "Babeth", "Guillaume": "Guigui",
    "Philippe": "Phil", "Sébastien": "Seb", "Maximilien": "Max", "Timothée": "Tim", "Thomas": "Tom",
    "Valentin": "Val", "Mathilde": "Mathou", "Benjamin": "Ben", "Patricia": "Patou",
}
STREET_ABBREV = {"avenue": "av.", "boulevard": "bd", "place": "pl.", "chemin": "ch.", "allée": "all.", "rue": "r."}
PHONE_FORMATS = (
    lambda d: " ".join(d[i:i + 2] for i in range(0, 10, 2)),                    # 06 12 34 56 78
    lambda d: d,                                                               # 0612345678
    lambda d: "+33" + d[1:],                                                   # +33612345678
    lambda d: "+33 " + d[1] + " " + " ".join(d[i:i + 2] for i in range(2, 10, 2)),  # +33 6 12 34 56 78
    lambda d: "0033 " + d[1] + "-" + "-".join(d[i:i + 2] for i in range(2, 10, 2)),  # 0033 6-12-34-56-78
    lambda d: ".".join(d[i:i + 2] for i in range(0, 10, 2)),                    # 06.12.34.56.78
    lambda d: "(0)" + d[1] + " " + " ".join(d[i:i + 2] for i in range(2, 10, 2)),   # (0)6 12 34 56 78
)


def _typo(s: str, r: float) -> str:
    if len(s) < 4:
        return s
    i = 1 + int(r * (len(s) - 2))
    return s[:i] + s[i + 1] + s[i] + s[i + 2:]  # swap two neighbouring letters


def names(first: np.ndarray, last: np.ndarray, rng: np.random.Generator, level: float = 1.0):
    """Messy (first, last) as typed in a silo; level scales how sloppy the silo is."""
    n = len(first)
    u = rng.random((6, n))
    folded_first = np.array(ascii_fold(first), dtype=object)
    folded_last = np.array(ascii_fold(last), dtype=object)
    f = np.where(u[0] < 0.25 * level, folded_first, first.astype(object))
    l_ = np.where(u[0] < 0.25 * level, folded_last, last.astype(object))
    nick = np.array([NICKNAMES.get(x) for x in first], dtype=object)
    f = np.where((u[1] < 0.4 * level) & (nick != None), nick, f)
    f = np.array([_typo(x, r) if t < 0.03 * level else x for x, t, r in zip(f, u[2], u[3])], dtype=object)
    upper = u[4] < 0.15 * level
    l_ = np.where(upper, np.char.upper(l_.astype(str)), l_)
    lower = (u[4] > 1 - 0.05 * level)
    f = np.where(lower, np.char.lower(f.astype(str)), f)
    swap = u[5] < 0.03 * level
    f, l_ = np.where(swap, l_, f), np.where(swap, f, l_)
    spaces = rng.random(n) < 0.04 * level
    f = np.where(spaces, np.char.add(f.astype(str), " "), f)
    return f.astype(str), l_.astype(str)


def emails(values: np.ndarray, rng: np.random.Generator, level: float = 1.0) -> np.ndarray:
    out = values.astype(object).copy()
    ok = np.array([isinstance(v, str) for v in out])
    u = rng.random((3, len(out)))
    tag = ok & (u[0] < 0.08 * level)
    out[tag] = [v.replace("@", "+" + t + "@", 1) for v, t in zip(out[tag], rng.choice(["promo", "shop", "news"], tag.sum()))]
    up = ok & (u[1] < 0.12 * level)
    out[up] = [v[0].upper() + v[1:] if r < 0.5 else v.upper() for v, r in zip(out[up], u[2][up])]
    sp = ok & (u[2] > 1 - 0.03 * level)
    out[sp] = [" " + v for v in out[sp]]
    return out


def phones(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = values.astype(object).copy()
    ok = np.array([isinstance(v, str) for v in out])
    fmt = rng.integers(0, len(PHONE_FORMATS), len(out))
    out[ok] = [PHONE_FORMATS[k](d) for d, k in zip(out[ok], fmt[ok])]
    return out


def addresses(values: np.ndarray, rng: np.random.Generator, level: float = 1.0) -> np.ndarray:
    out = values.astype(object).copy()
    u = rng.random((2, len(out)))
    ab = u[0] < 0.3 * level
    out[ab] = [" ".join(STREET_ABBREV.get(w, w) for w in v.split(" ")) for v in out[ab]]
    up = u[1] < 0.1 * level
    out[up] = [v.upper() for v in out[up]]
    return out
