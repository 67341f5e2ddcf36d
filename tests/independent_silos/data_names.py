"""French names, typed in from public frequency tables (approximate).

Surnames: the most frequent French surnames in the order of the public rankings (INSEE births
1891-1990 as republished by Geneanet / the French Wikipedia "Liste des noms de famille les plus
courants en France"). The counts are APPROXIMATE bearers (rounded, Zipf-shaped from the ranks),
typed from memory of those tables: good enough for realistic collisions, not for statistics.

First names: frequent French first names per sex with an approximate total (thousands of births,
INSEE "fichier des prénoms" 1900-2020, rounded) and the birth year(s) around which they peaked.
A person's first name is drawn with weight total x bump(birth year - peak), so that a woman born
in 1968 is often a Nathalie, Isabelle or Sylvie and a boy born in 2012 a Léo, Gabriel or Lucas.
"""

# (surname as it is spelt, approximate number of bearers)
SURNAMES: list[tuple[str, int]] = [
    ("Martin", 235000), ("Bernard", 105000), ("Thomas", 95000), ("Petit", 92000), ("Robert", 90000),
    ("Richard", 88000), ("Durand", 85000), ("Dubois", 84000), ("Moreau", 80000), ("Laurent", 78000),
    ("Simon", 77000), ("Michel", 76000), ("Lefèvre", 73000), ("Leroy", 70000), ("Roux", 67000),
    ("David", 66000), ("Bertrand", 64000), ("Morel", 63000), ("Fournier", 62000), ("Girard", 61000),
    ("Bonnet", 60000), ("Dupont", 59000), ("Lambert", 58000), ("Fontaine", 57000), ("Rousseau", 56000),
    ("Vincent", 55000), ("Muller", 54000), ("Lefebvre", 53000), ("Faure", 52000), ("André", 51000),
    ("Mercier", 50000), ("Blanc", 49000), ("Guérin", 48000), ("Boyer", 47000), ("Garnier", 46000),
    ("Chevalier", 45000), ("François", 44000), ("Legrand", 43500), ("Gauthier", 43000),
    ("Garcia", 42500), ("Perrin", 42000), ("Robin", 41500), ("Clément", 41000), ("Morin", 40500),
    ("Nicolas", 40000), ("Henry", 39500), ("Roussel", 39000), ("Mathieu", 38500), ("Gautier", 38000),
    ("Masson", 37500), ("Marchand", 37000), ("Duval", 36500), ("Denis", 36000), ("Dumont", 35500),
    ("Marie", 35000), ("Lemaire", 34500), ("Noël", 34000), ("Meyer", 33500), ("Dufour", 33000),
    ("Meunier", 32500), ("Brun", 32000), ("Blanchard", 31500), ("Giraud", 31000), ("Joly", 30500),
    ("Rivière", 30000), ("Lucas", 29500), ("Brunet", 29000), ("Gaillard", 28500), ("Barbier", 28000),
    ("Arnaud", 27500), ("Martinez", 27000), ("Gérard", 26500), ("Roche", 26000), ("Renard", 25500),
    ("Schmitt", 25000), ("Roy", 24800), ("Leroux", 24600), ("Colin", 24400), ("Vidal", 24200),
    ("Caron", 24000), ("Picard", 23800), ("Roger", 23600), ("Fabre", 23400), ("Aubert", 23200),
    ("Lemoine", 23000), ("Renaud", 22800), ("Dumas", 22600), ("Lacroix", 22400), ("Olivier", 22200),
    ("Philippe", 22000), ("Bourgeois", 21800), ("Pierre", 21600), ("Benoît", 21400), ("Rey", 21200),
    ("Leclerc", 21000), ("Payet", 20800), ("Rolland", 20600), ("Leclercq", 20400),
    ("Guillaume", 20200), ("Lecomte", 20000), ("Lopez", 19800), ("Jean", 19600), ("Dupuy", 19400),
    ("Guillot", 19200), ("Hubert", 19000), ("Berger", 18800), ("Carpentier", 18600),
    ("Sanchez", 18400), ("Dupuis", 18200), ("Moulin", 18000), ("Louis", 17800), ("Deschamps", 17600),
    ("Huet", 17400), ("Vasseur", 17200), ("Perez", 17000), ("Boucher", 16800), ("Fleury", 16600),
    ("Royer", 16400), ("Klein", 16200), ("Jacquet", 16000), ("Adam", 15800), ("Paris", 15600),
    ("Poirier", 15400), ("Marty", 15200), ("Aubry", 15000), ("Guyot", 14800), ("Carré", 14600),
    ("Charles", 14400), ("Renault", 14200), ("Charpentier", 14000), ("Ménard", 13800),
    ("Maillard", 13600), ("Baron", 13400), ("Bertin", 13200), ("Bailly", 13000), ("Hervé", 12800),
    ("Schneider", 12600), ("Fernandez", 12400), ("Le Gall", 12200), ("Collet", 12000),
    ("Léger", 11800), ("Bouvier", 11600), ("Julien", 11400), ("Prévost", 11200), ("Millet", 11000),
    ("Perrot", 10800), ("Daniel", 10600), ("Le Roux", 10400), ("Cousin", 10200), ("Germain", 10000),
    ("Breton", 9900), ("Besson", 9800), ("Langlois", 9700), ("Rémy", 9600), ("Le Goff", 9500),
    ("Pelletier", 9400), ("Lévêque", 9300), ("Perrier", 9200), ("Leblanc", 9100), ("Barré", 9000),
    ("Lebrun", 8900), ("Marchal", 8800), ("Weber", 8700), ("Mallet", 8600), ("Hamon", 8500),
    ("Boulanger", 8400), ("Jacob", 8300), ("Monnier", 8200), ("Michaud", 8100), ("Rodriguez", 8000),
    ("Guichard", 7900), ("Gillet", 7800), ("Étienne", 7700), ("Grondin", 7600), ("Poulain", 7500),
    ("Tessier", 7400), ("Chevallier", 7300), ("Collin", 7200), ("Chauvin", 7100), ("Da Silva", 7000),
    ("Bouchet", 6900), ("Gay", 6800), ("Lemaître", 6700), ("Bénard", 6600), ("Maréchal", 6500),
    ("Humbert", 6400), ("Reynaud", 6300), ("Antoine", 6200), ("Hoarau", 6100), ("Perret", 6000),
    ("Barthélemy", 5900), ("Cordier", 5800), ("Pichon", 5700), ("Lejeune", 5600), ("Gilbert", 5500),
    ("Lamy", 5400), ("Delaunay", 5300), ("Pasquier", 5200), ("Carlier", 5100), ("Laporte", 5000),
]

# Pieces for the long tail of rarer surnames (built, not typed): real French surname stems and
# endings, so that the tail looks French (Tessault, Bourdier, Le Chauvel...) and each name stays rare.
TAIL_PREFIXES = [""] * 14 + ["Le ", "Le ", "La ", "Du "]
TAIL_ROOTS = ["Bouch", "Chap", "Charr", "Fourn", "Gaut", "Lab", "Lec", "Mor", "Pell", "Rich", "Tess", "Vach",
              "Baill", "Bourd", "Chauv", "Coll", "Cout", "Forg", "Jacqu", "Lamb", "Marc", "Mich", "Pouj",
              "Rob", "Rouss", "Thib", "Vall", "Verd", "Berth", "Bess", "Bonn", "Brun", "Cham", "Chen",
              "Clav", "Cresp", "Dum", "Ferr", "Font", "Gal", "Garn", "Gill", "Gir", "Grang", "Guill", "Hum",
              "Lar", "Laur", "Maill", "Mart", "Mass", "Mén", "Nic", "Pag", "Parr", "Perr", "Pich", "Poir",
              "Ren", "Roch", "Rol", "Sauv", "Tard", "Teyss", "Vid", "Vill", "Aub", "Barr", "Bert", "Blanch",
              "Boud", "Carr", "Chab", "Cord", "Dauph", "Esc", "Fav", "Gauth", "Jourd", "Lefr", "Mall", "Ouv"]
TAIL_SUFFIXES = ["ard", "aud", "eau", "et", "ier", "in", "on", "ot", "ault", "elle", "y", "ais", "ant", "as",
                 "ès", "ol", "ou", "ac", "at", "ert", "iot", "el", "oux", "ellier", "erie", "ignon"]

# (first name, approximate thousands of births 1900-2020, peak birth years: the main peak first,
# then a revival if any)
FEMALE_FIRST: list[tuple[str, int, tuple[int, ...]]] = [
    ("Marie", 1500, (1925,)), ("Jeanne", 500, (1920, 2015)), ("Françoise", 500, (1950,)),
    ("Monique", 400, (1945,)), ("Catherine", 400, (1958,)), ("Nathalie", 380, (1968,)),
    ("Isabelle", 370, (1965,)), ("Jacqueline", 350, (1935,)), ("Anne", 330, (1965,)),
    ("Sylvie", 330, (1963,)), ("Martine", 320, (1955,)), ("Madeleine", 300, (1920,)),
    ("Nicole", 300, (1947,)), ("Suzanne", 280, (1920,)), ("Christine", 280, (1960,)),
    ("Marguerite", 250, (1915,)), ("Denise", 260, (1930,)), ("Louise", 250, (1912, 2016)),
    ("Christiane", 240, (1945,)), ("Yvonne", 230, (1925,)), ("Hélène", 230, (1965,)),
    ("Brigitte", 220, (1955,)), ("Sandrine", 220, (1972,)), ("Valérie", 220, (1968,)),
    ("Véronique", 210, (1963,)), ("Stéphanie", 210, (1977,)), ("Sophie", 200, (1975,)),
    ("Céline", 190, (1978,)), ("Chantal", 190, (1953,)), ("Patricia", 190, (1962,)),
    ("Simone", 190, (1930,)), ("Germaine", 180, (1920,)), ("Dominique", 170, (1960,)),
    ("Laurence", 170, (1965,)), ("Annie", 160, (1955,)), ("Michèle", 160, (1950,)),
    ("Danielle", 150, (1950,)), ("Julie", 150, (1985,)), ("Aurélie", 140, (1982,)),
    ("Caroline", 140, (1978,)), ("Camille", 140, (1997,)), ("Émilie", 140, (1985,)),
    ("Laura", 130, (1992,)), ("Léa", 130, (2000,)), ("Manon", 130, (1998,)), ("Chloé", 120, (2000,)),
    ("Emma", 120, (2010,)), ("Sarah", 110, (1993,)), ("Pauline", 110, (1988,)),
    ("Marine", 110, (1990,)), ("Mélanie", 110, (1983,)), ("Élodie", 110, (1982,)),
    ("Virginie", 110, (1975,)), ("Audrey", 100, (1982,)), ("Claire", 100, (1975,)),
    ("Corinne", 100, (1967,)), ("Karine", 100, (1972,)), ("Florence", 100, (1968,)),
    ("Agnès", 90, (1962,)), ("Colette", 90, (1935,)), ("Yvette", 90, (1935,)),
    ("Josiane", 80, (1952,)), ("Bernadette", 80, (1950,)), ("Évelyne", 80, (1955,)),
    ("Éliane", 70, (1945,)), ("Odette", 70, (1930,)), ("Paulette", 70, (1930,)),
    ("Ginette", 70, (1935,)), ("Mireille", 70, (1950,)), ("Élisabeth", 70, (1955,)),
    ("Jessica", 70, (1988,)), ("Anaïs", 70, (1992,)), ("Marion", 70, (1990,)),
    ("Charlotte", 70, (1995,)), ("Clara", 70, (2002,)), ("Océane", 60, (1998,)),
    ("Mathilde", 90, (1925, 1995)), ("Juliette", 60, (2006,)), ("Zoé", 60, (2010,)),
    ("Lucie", 60, (1998,)), ("Margaux", 55, (2000,)), ("Inès", 55, (2005,)),
    ("Jade", 55, (2013,)), ("Alice", 55, (2016,)), ("Lina", 45, (2016,)),
    ("Amandine", 55, (1985,)), ("Emmanuelle", 50, (1972,)), ("Sabrina", 50, (1985,)),
    ("Nadia", 40, (1972,)), ("Fatima", 40, (1970,)), ("Odile", 40, (1955,)),
    ("Élise", 40, (1998,)), ("Rose", 40, (2018,)),
    ("Ambre", 35, (2017,)), ("Romane", 40, (2008,)), ("Maëlys", 35, (2008,)),
]

MALE_FIRST: list[tuple[str, int, tuple[int, ...]]] = [
    ("Jean", 1100, (1930,)), ("Pierre", 500, (1945,)), ("Michel", 480, (1950,)),
    ("André", 380, (1930,)), ("Philippe", 370, (1960,)), ("René", 350, (1925,)),
    ("Louis", 340, (1915, 2016)), ("Alain", 330, (1955,)), ("Jacques", 330, (1945,)),
    ("Bernard", 320, (1950,)), ("Marcel", 300, (1925,)), ("Daniel", 290, (1952,)),
    ("Roger", 260, (1928,)), ("Robert", 260, (1930,)), ("Paul", 250, (1925, 2015)),
    ("Claude", 250, (1945,)), ("Christian", 240, (1955,)), ("Henri", 230, (1925,)),
    ("Georges", 230, (1925,)), ("Nicolas", 230, (1980,)), ("Christophe", 220, (1970,)),
    ("Patrick", 220, (1960,)), ("Gérard", 210, (1950,)), ("Stéphane", 200, (1972,)),
    ("Laurent", 190, (1968,)), ("Frédéric", 190, (1970,)), ("David", 180, (1978,)),
    ("Sébastien", 180, (1978,)), ("Julien", 180, (1983,)), ("Thomas", 180, (1990,)),
    ("Éric", 170, (1965,)), ("Olivier", 170, (1970,)), ("Pascal", 170, (1963,)),
    ("Thierry", 160, (1962,)), ("Dominique", 160, (1960,)), ("François", 160, (1955,)),
    ("Alexandre", 160, (1990,)), ("Maurice", 150, (1925,)), ("Didier", 140, (1960,)),
    ("Jean-Pierre", 140, (1950,)), ("Jean-Claude", 130, (1948,)), ("Raymond", 130, (1925,)),
    ("Guy", 120, (1935,)), ("Lucien", 110, (1925,)), ("Serge", 110, (1950,)),
    ("Bruno", 110, (1965,)), ("Vincent", 110, (1975,)), ("Franck", 100, (1970,)),
    ("Cédric", 100, (1978,)), ("Guillaume", 100, (1985,)), ("Maxime", 100, (1992,)),
    ("Kevin", 95, (1992,)), ("Romain", 95, (1988,)), ("Anthony", 95, (1988,)),
    ("Jérôme", 90, (1975,)), ("Mickaël", 90, (1980,)), ("Antoine", 90, (1992,)),
    ("Lucas", 90, (2002,)), ("Hugo", 90, (2004,)), ("Théo", 85, (2002,)),
    ("Enzo", 80, (2006,)), ("Mathis", 70, (2006,)), ("Nathan", 80, (2005,)),
    ("Léo", 80, (2013,)), ("Gabriel", 80, (2016,)), ("Raphaël", 70, (2016,)),
    ("Arthur", 70, (2018,)), ("Jules", 65, (2015,)), ("Adam", 55, (2015,)),
    ("Jean-Marc", 70, (1962,)), ("Jean-Luc", 70, (1960,)), ("Jean-François", 60, (1958,)),
    ("Jean-Paul", 60, (1950,)), ("Marc", 90, (1960,)), ("Hervé", 80, (1965,)),
    ("Gilles", 80, (1960,)), ("Joël", 70, (1955,)), ("Yves", 80, (1945,)),
    ("Francis", 60, (1950,)), ("Fabrice", 70, (1970,)), ("Yannick", 60, (1975,)),
    ("Quentin", 70, (1992,)), ("Florian", 70, (1990,)), ("Benjamin", 70, (1988,)),
    ("Jonathan", 60, (1988,)), ("Jordan", 50, (1993,)), ("Clément", 60, (1995,)),
    ("Alexis", 60, (1995,)), ("Baptiste", 50, (1995,)), ("Matthieu", 60, (1985,)),
    ("Mohamed", 60, (1985,)), ("Karim", 40, (1975,)), ("Noah", 35, (2015,)),
    ("Tom", 50, (2005,)), ("Ethan", 35, (2012,)),
]

# Short forms people give instead of their first name (rarely).
NICKNAMES: dict[str, list[str]] = {
    "Catherine": ["Cathy"], "Nathalie": ["Nath"], "Isabelle": ["Isa"], "Christine": ["Christine"],
    "Véronique": ["Véro"], "Dominique": ["Dom"], "Patricia": ["Pat"], "Emmanuelle": ["Manue"],
    "Élisabeth": ["Babeth", "Lisa"], "Stéphanie": ["Steph"], "Alexandre": ["Alex"],
    "Christophe": ["Chris"], "Frédéric": ["Fred"], "Stéphane": ["Steph"], "Sébastien": ["Seb"],
    "Nicolas": ["Nico"], "Maxime": ["Max"], "Thomas": ["Tom"], "Philippe": ["Phil"],
    "Benjamin": ["Ben"], "Jean-Pierre": ["JP"], "Jean-Christophe": ["JC"], "Jean-Claude": ["JC"],
    "Mickaël": ["Mike"], "Anthony": ["Tony"], "Guillaume": ["Guigui"], "Jean-François": ["JF"],
    "Jean-Marc": ["JM"], "Valérie": ["Val"], "Caroline": ["Caro"], "Aurélie": ["Aurél"],
    "Sandrine": ["Sandy"], "Marguerite": ["Margot"], "Jacqueline": ["Jacky"],
}

# Name-like junk that people type into contest forms (nobody real).
JUNK_NAMES = [("Mickey", "Mouse"), ("test", "test"), ("aaa", "aaa"), ("Jean", "Bon"),
              ("toto", "tata"), ("azerty", "qsdf"), ("Asterix", "Legaulois"), ("x", "x")]
