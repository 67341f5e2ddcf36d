"""reference/products and reference/stores."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from .context import Ctx
from .data_places import CITIES
from .landing import Row

CATALOGUE = {
    # category: (price range, [name templates], weight)
    "tv_video": ((199, 1990), ['Téléviseur OLED {s}"', 'TV LED 4K {s}"', "Barre de son {w} W",
                              "Vidéoprojecteur Full HD", "Support mural TV"], 0.08),
    "gaming": ((29, 549), ["Console de salon nouvelle génération", "Manette sans fil", "Casque gaming",
                           "Jeu vidéo aventure", "Console portable"], 0.07),
    "computing": ((15, 1490), ['Ordinateur portable 15,6"', "Souris sans fil", "Imprimante jet d'encre",
                               "Écran 27\" QHD", "Clé USB 128 Go", "Disque dur externe 2 To"], 0.1),
    "phones": ((9, 1190), ["Smartphone 128 Go", "Coque de protection", "Chargeur USB-C {w} W",
                           "Écouteurs sans fil", "Montre connectée"], 0.1),
    "appliances": ((279, 1890), ["Lave-linge {k} kg", "Réfrigérateur combiné", "Lave-vaisselle 60 cm",
                                 "Four encastrable", "Sèche-linge pompe à chaleur", "Congélateur armoire"],
                   0.09),
    "small_appliances": ((19, 699), ["Aspirateur balai", "Cafetière expresso", "Robot pâtissier",
                                     "Friteuse sans huile", "Bouilloire", "Grille-pain"], 0.14),
    "kitchen": ((49, 2990), ["Plan de travail chêne", "Meuble haut 60 cm", "Évier inox, 1 bac",
                             "Hotte aspirante", "Cuisine équipée (pack)"], 0.07),
    "bathroom": ((39, 1290), ["Meuble vasque", "Paroi de douche", "Mitigeur thermostatique",
                              "Colonne de douche"], 0.05),
    "garden": ((9, 1490), ["Tondeuse thermique", "Salon de jardin 6 places", "Barbecue à gaz",
                           "Tuyau d'arrosage 25 m", "Taille-haie", "Abri de jardin"], 0.1),
    "diy": ((5, 499), ["Perceuse visseuse 18V", "Coffret d'embouts", "Escabeau 5 marches",
                       "Peinture blanche 10 L", "Scie sauteuse", "Niveau laser"], 0.15),
    "services": ((19, 199), ["Extension de garantie 2 ans", "Livraison et installation",
                             "Reprise de l'ancien appareil"], 0.05),
}
BRANDS = ["Norvik", "Techline", "Valmont", "Ardea", "Kelto", "Brisa", "Oxalis", "Quadro", "Sirius",
          "Vortex", "Maison Duclos", "Verdano", "Fortis", "Lumio", "Atelier Nord", "Zenka"]
STORE_BRAND = "Maxidom"
STORE_QUARTERS = {"Paris": ["Bercy", "Montparnasse", "La Villette"], "Lyon": ["Part-Dieu", "Confluence"],
                  "Marseille": ["La Valentine", "Prado"], "Toulouse": ["Purpan", "Labège"]}


@dataclass
class Product:
    sku: str
    name: str
    category: str
    brand: str
    cost: float
    price: float
    popularity: float
    added_day: int


@dataclass
class Store:
    store_id: str
    name: str
    city: str
    city_idx: int
    postcode: str
    region: str
    opened: date
    open_day: int            # first day index it trades (can be negative)
    sunday: bool


def _price(cost: float, rng) -> float:
    p = cost * rng.uniform(1.35, 1.9)
    return float(np.floor(p) + 0.99) if p > 20 else round(p, 1) - 0.01


def generate_reference(ctx: Ctx) -> None:
    rng = ctx.rng("reference")
    rnd = ctx.rnd("reference")
    cats = list(CATALOGUE)
    cw = np.array([CATALOGUE[c][2] for c in cats])
    used: set[str] = set()

    def new_product(day: int) -> Product:
        cat = cats[rng.choice(len(cats), p=cw / cw.sum())]
        (lo, hi), names, _w = CATALOGUE[cat]
        name = rnd.choice(names).format(s=rnd.choice([43, 50, 55, 65, 77]), w=rnd.choice([20, 25, 45, 300]),
                                        k=rnd.choice([7, 8, 9, 10]))
        brand = rnd.choice(BRANDS)
        if rnd.random() < 0.3:
            name = f"{name} {brand} {rnd.choice(['Pro', 'Plus', 'Eco', 'Max', 'S', 'X2'])}"
        while True:
            sku = f"{int(rng.integers(1, 9_999_999)):07d}"
            if sku not in used:
                used.add(sku)
                break
        price_target = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
        cost = round(price_target / rng.uniform(1.35, 1.9), 2)
        return Product(sku, name, cat, brand, cost, _price(cost, rng), float(rng.pareto(1.2) + 0.05), day)

    products = [new_product(-1) for _ in range(480)]
    ent = ctx.entity("reference", "products", schedule=[0])
    for p in products:
        ent.rows.append(Row(0, len(ent.rows), [p.sku, p.name, p.category, p.brand, f"{p.cost:.2f}"]))
    # monthly: a few new products and cost changes (upsert on sku)
    d = 1
    while d < ctx.days:
        dt = ctx.clock.date_of_day(d)
        if dt.day == 1:
            ent.schedule.append(d)
            for _ in range(rnd.randint(6, 12)):
                p = new_product(d)
                products.append(p)
                ent.rows.append(Row(d, len(ent.rows), [p.sku, p.name, p.category, p.brand, f"{p.cost:.2f}"]))
            for p in rnd.sample(products, k=max(1, len(products) // 30)):
                p.cost = round(p.cost * rnd.uniform(0.95, 1.08), 2)
                name = p.name if rnd.random() < 0.9 else p.name.upper()
                ent.rows.append(Row(d, len(ent.rows), [p.sku, name, p.category, p.brand, f"{p.cost:.2f}"]))
        d += 1
    ctx.products = products

    # stores
    sent = ctx.entity("reference", "stores", schedule=[0])
    stores: list[Store] = []
    order = sorted(range(len(CITIES)), key=lambda i: -CITIES[i][3])
    n = 0
    for ci in order[:26]:
        city, pcs, region, _pop, _pref = CITIES[ci]
        quarters = STORE_QUARTERS.get(city, [""])
        for q in quarters[:2] if city in STORE_QUARTERS else quarters:
            n += 1
            opened = date(rnd.randint(1994, 2023), rnd.randint(1, 12), rnd.randint(1, 28))
            name = f"{STORE_BRAND} {city}" + (f" {q}" if q else "")
            stores.append(Store(f"{n * 7 % 1000:03d}", name, city, ci, rnd.choice(pcs), region, opened,
                                (opened - ctx.clock.start).days, rnd.random() < 0.12))
    # one store opens during the window (announced a week before)
    if ctx.days > 20:
        ci = order[26]
        city, pcs, region, _pop, _pref = CITIES[ci]
        od = rnd.randint(max(1, ctx.days // 3), max(2, ctx.days - 5))
        opened = ctx.clock.date_of_day(od)
        s = Store(f"{(n + 1) * 7 % 1000:03d}", f"{STORE_BRAND} {city}", city, ci, pcs[0], region, opened, od,
                  False)
        stores.append(s)
    for s in stores:
        ann = 0 if s.open_day < 7 else s.open_day - 7
        if ann not in sent.schedule:
            sent.schedule.append(ann)
        sent.rows.append(Row(ann, len(sent.rows), [s.store_id, s.name, s.city, s.postcode, s.region,
                                                   s.opened.isoformat()]))
    # a store renamed later (upsert on store_id)
    if ctx.days > 40:
        s = stores[3]
        d = rnd.randint(10, ctx.days - 1)
        sent.schedule.append(d)
        sent.rows.append(Row(d, 0, [s.store_id, s.name + " (ex-Centre)", s.city, s.postcode, s.region,
                                    s.opened.isoformat()]))
    ctx.stores = stores
