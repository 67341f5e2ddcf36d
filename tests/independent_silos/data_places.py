"""French places, phone numbering and e-mail providers, typed in from public facts.

Cities: real communes with their real postcodes (La Poste), region (2016 regions) and an
approximate population in thousands (INSEE, rounded) used as a sampling weight.
Landline prefixes: the first digits of geographic numbers in that area (ARCEP plan: 01
Île-de-France, 02 north-west, 03 north-east, 04 south-east, 05 south-west; the next two digits
as commonly seen for the city). Mobiles are 06 and 07 (07 3x-07 9x); 09 is the non-geographic
"box" number. E-mail domains: the common French consumer providers with a rough share.
"""

# (city, postcodes, region, population in thousands, landline prefixes without the leading 0)
CITIES: list[tuple[str, list[str], str, int, list[str]]] = [
    ("Paris", [f"750{i:02d}" for i in range(1, 21)], "Île-de-France", 2100,
     ["142", "143", "144", "145", "146", "147", "148", "153", "155"]),
    ("Marseille", [f"130{i:02d}" for i in range(1, 17)], "Provence-Alpes-Côte d'Azur", 870,
     ["491"]),
    ("Lyon", [f"6900{i}" for i in range(1, 10)], "Auvergne-Rhône-Alpes", 520, ["472", "478"]),
    ("Toulouse", ["31000", "31100", "31200", "31300", "31400", "31500"], "Occitanie", 500,
     ["561", "562", "534"]),
    ("Nice", ["06000", "06100", "06200", "06300"], "Provence-Alpes-Côte d'Azur", 340, ["493", "492"]),
    ("Nantes", ["44000", "44100", "44200", "44300"], "Pays de la Loire", 320, ["240", "251"]),
    ("Montpellier", ["34000", "34070", "34080", "34090"], "Occitanie", 300, ["467"]),
    ("Strasbourg", ["67000", "67100", "67200"], "Grand Est", 290, ["388"]),
    ("Bordeaux", ["33000", "33100", "33200", "33300", "33800"], "Nouvelle-Aquitaine", 260,
     ["556", "557"]),
    ("Lille", ["59000", "59160", "59260", "59800"], "Hauts-de-France", 235, ["320"]),
    ("Rennes", ["35000", "35200", "35700"], "Bretagne", 222, ["299"]),
    ("Reims", ["51100"], "Grand Est", 180, ["326"]),
    ("Toulon", ["83000", "83100", "83200"], "Provence-Alpes-Côte d'Azur", 180, ["494"]),
    ("Saint-Étienne", ["42000", "42100"], "Auvergne-Rhône-Alpes", 173, ["477"]),
    ("Le Havre", ["76600", "76610", "76620"], "Normandie", 166, ["235"]),
    ("Grenoble", ["38000", "38100"], "Auvergne-Rhône-Alpes", 158, ["476"]),
    ("Dijon", ["21000"], "Bourgogne-Franche-Comté", 159, ["380"]),
    ("Angers", ["49000", "49100"], "Pays de la Loire", 157, ["241"]),
    ("Villeurbanne", ["69100"], "Auvergne-Rhône-Alpes", 152, ["478", "472"]),
    ("Nîmes", ["30000", "30900"], "Occitanie", 148, ["466"]),
    ("Clermont-Ferrand", ["63000", "63100"], "Auvergne-Rhône-Alpes", 147, ["473"]),
    ("Aix-en-Provence", ["13090", "13100", "13290"], "Provence-Alpes-Côte d'Azur", 145, ["442"]),
    ("Le Mans", ["72000", "72100"], "Pays de la Loire", 145, ["243"]),
    ("Brest", ["29200"], "Bretagne", 140, ["298"]),
    ("Tours", ["37000", "37100", "37200"], "Centre-Val de Loire", 137, ["247"]),
    ("Amiens", ["80000", "80080", "80090"], "Hauts-de-France", 134, ["322"]),
    ("Limoges", ["87000", "87100", "87280"], "Nouvelle-Aquitaine", 130, ["555"]),
    ("Annecy", ["74000", "74370", "74600", "74960"], "Auvergne-Rhône-Alpes", 131, ["450"]),
    ("Perpignan", ["66000", "66100"], "Occitanie", 120, ["468"]),
    ("Boulogne-Billancourt", ["92100"], "Île-de-France", 121, ["146", "141"]),
    ("Metz", ["57000", "57050", "57070"], "Grand Est", 120, ["387"]),
    ("Besançon", ["25000"], "Bourgogne-Franche-Comté", 119, ["381"]),
    ("Orléans", ["45000", "45100"], "Centre-Val de Loire", 117, ["238"]),
    ("Saint-Denis", ["93200", "93210"], "Île-de-France", 113, ["149", "148"]),
    ("Argenteuil", ["95100"], "Île-de-France", 110, ["139", "134"]),
    ("Rouen", ["76000", "76100"], "Normandie", 114, ["235", "232"]),
    ("Mulhouse", ["68100", "68200"], "Grand Est", 108, ["389"]),
    ("Montreuil", ["93100"], "Île-de-France", 110, ["148"]),
    ("Caen", ["14000"], "Normandie", 108, ["231"]),
    ("Nancy", ["54000", "54100"], "Grand Est", 105, ["383"]),
    ("Versailles", ["78000"], "Île-de-France", 85, ["139", "130"]),
    ("Avignon", ["84000"], "Provence-Alpes-Côte d'Azur", 91, ["490"]),
    ("Poitiers", ["86000"], "Nouvelle-Aquitaine", 89, ["549"]),
    ("La Rochelle", ["17000"], "Nouvelle-Aquitaine", 77, ["546"]),
    ("Pau", ["64000"], "Nouvelle-Aquitaine", 76, ["559"]),
    ("Colmar", ["68000"], "Grand Est", 67, ["389"]),
    ("Troyes", ["10000"], "Grand Est", 62, ["325"]),
    ("Ajaccio", ["20000", "20090"], "Corse", 72, ["495"]),
    ("Chambéry", ["73000"], "Auvergne-Rhône-Alpes", 60, ["479"]),
    ("Quimper", ["29000"], "Bretagne", 63, ["298"]),
    ("Vannes", ["56000"], "Bretagne", 55, ["297"]),
    ("Valence", ["26000"], "Auvergne-Rhône-Alpes", 64, ["475"]),
    ("Bourg-en-Bresse", ["01000"], "Auvergne-Rhône-Alpes", 41, ["474"]),
    ("Laon", ["02000"], "Hauts-de-France", 24, ["323"]),
]

# How the same city gets typed (besides case and accents, handled generically).
CITY_ALIASES: dict[str, list[str]] = {
    "Saint-Étienne": ["St Etienne", "St-Étienne", "Saint Etienne", "ST ETIENNE"],
    "Saint-Denis": ["St Denis", "St-Denis", "Saint Denis"],
    "Aix-en-Provence": ["Aix en Provence", "Aix", "AIX EN PCE"],
    "Clermont-Ferrand": ["Clermont Ferrand", "Clermont-Fd", "Clermont"],
    "Boulogne-Billancourt": ["Boulogne", "Boulogne Billancourt", "BOULOGNE BILL."],
    "Bourg-en-Bresse": ["Bourg en Bresse", "Bourg"],
    "Le Havre": ["LE HAVRE", "Le-Havre"],
    "Le Mans": ["LE MANS", "Le-Mans"],
    "La Rochelle": ["LA ROCHELLE", "La-Rochelle"],
}

# Cities with arrondissements typed as "Paris 15e" / "PARIS 15" / "Paris 15ème".
ARRONDISSEMENT_CITIES = {"Paris": "750", "Marseille": "130", "Lyon": "6900"}

# Street types: (full word, share, abbreviations people type)
STREET_TYPES: list[tuple[str, float, list[str]]] = [
    ("rue", 0.55, ["r.", "r", "RUE"]),
    ("avenue", 0.13, ["av.", "av", "ave", "AV"]),
    ("boulevard", 0.07, ["bd", "bd.", "boul.", "BLD"]),
    ("place", 0.03, ["pl.", "pl"]),
    ("chemin", 0.05, ["ch.", "chem."]),
    ("allée", 0.05, ["all.", "allee"]),
    ("impasse", 0.05, ["imp.", "imp"]),
    ("route", 0.04, ["rte", "rte."]),
    ("quai", 0.015, ["q."]),
    ("cours", 0.015, ["crs"]),
    ("square", 0.01, ["sq."]),
]

STREET_NAMES = [
    "de la République", "Victor Hugo", "Jean Jaurès", "de la Gare", "Pasteur", "du Général de Gaulle",
    "des Écoles", "de l'Église", "Gambetta", "du Maréchal Foch", "de la Liberté", "Nationale",
    "du Moulin", "des Lilas", "du Château", "de Verdun", "Carnot", "de Paris", "Voltaire",
    "Émile Zola", "Jules Ferry", "Louis Pasteur", "des Tilleuls", "de la Paix", "du Stade",
    "des Acacias", "de la Mairie", "Saint-Martin", "du Commerce", "Marcel Pagnol", "des Peupliers",
    "Jean Moulin", "Anatole France", "de Strasbourg", "de Lattre de Tassigny", "des Roses",
    "du 8 Mai 1945", "du 11 Novembre", "Georges Clemenceau", "Aristide Briand", "des Vignes",
    "du Port", "de la Fontaine", "des Jardins", "Albert Camus", "Jean Monnet", "Pierre Curie",
    "Edouard Herriot", "des Marronniers", "de Bretagne", "du Lac", "des Cerisiers", "Molière",
    "de la Croix Rouge", "Condorcet", "Danton", "Sainte-Catherine", "du Four", "de Provence",
]

ADDRESS_COMPLEMENTS = ["Apt {n}", "appt {n}", "Bât {b}", "Bat. {b}", "Résidence Les Pins",
                       "Rés. du Parc", "Esc {b}", "{n}e étage", "chez M. {last}"]

# (domain, share among personal addresses)
EMAIL_DOMAINS: list[tuple[str, float]] = [
    ("gmail.com", 0.36), ("orange.fr", 0.12), ("hotmail.fr", 0.09), ("yahoo.fr", 0.06),
    ("free.fr", 0.06), ("sfr.fr", 0.05), ("laposte.net", 0.05), ("outlook.fr", 0.04),
    ("hotmail.com", 0.03), ("icloud.com", 0.04), ("live.fr", 0.03), ("outlook.com", 0.02),
    ("bbox.fr", 0.01), ("gmx.fr", 0.01), ("aol.com", 0.005), ("neuf.fr", 0.01),
]
# Old providers: addresses people had and abandoned (often bounce now).
OLD_EMAIL_DOMAINS = ["wanadoo.fr", "club-internet.fr", "aliceadsl.fr", "voila.fr", "noos.fr",
                     "neuf.fr", "hotmail.fr", "yahoo.fr", "free.fr"]
# Invented employer domains (work addresses).
WORK_DOMAINS = ["groupe-lemarchand.fr", "transports-duval.fr", "cabinet-roche-avocats.fr",
                "batiplus-construction.fr", "mairie-exemple.fr", "clinique-des-lilas.fr",
                "atelier-numerique.fr", "assurances-delta.fr", "banque-regionale.fr",
                "lycee-jules-ferry.fr", "industries-moreau.com", "logistique-ouest.fr",
                "conseil-et-strategie.fr", "hopital-sud.fr", "agence-horizon.com"]
# Domain typos people make.
DOMAIN_TYPOS = {"gmail.com": ["gmial.com", "gmail.fr", "gmal.com", "gamil.com"],
                "hotmail.fr": ["hotmial.fr", "hotmail.ft", "hotmal.fr"],
                "orange.fr": ["orage.fr", "ornage.fr"], "yahoo.fr": ["yaho.fr", "yahooo.fr"],
                "free.fr": ["fre.fr"], "laposte.net": ["laposte.fr", "lapost.net"],
                "outlook.fr": ["outlok.fr"], "sfr.fr": ["srf.fr"]}
# Disposable / obviously fake addresses in forms (junk).
JUNK_EMAILS = ["test@test.com", "azerty@yopmail.com", "aaa@aaa.fr", "toto@toto.fr",
               "concours@mailinator.com", "nospam@jetable.org", "a@a.com", "xxx@xxx.com"]

OCCUPATIONS = ["Cadre", "Employé", "Ouvrier", "Retraité", "Étudiant", "Profession libérale",
               "Artisan, commerçant", "Profession intermédiaire", "Sans activité", "Agriculteur"]
INCOME_BANDS = ["<20k", "20-35k", "35-50k", "50-75k", ">75k"]
ACQUISITION_CHANNELS = ["store", "web", "callcenter", "partner", "event", "referral"]

PAYMENT_METHODS = [("CB", 0.62), ("sans_contact", 0.2), ("especes", 0.1), ("cheque", 0.03),
                   ("carte_cadeau", 0.03), ("paiement_3x", 0.02)]

# French public holidays used for store closures (month, day) - fixed ones only.
FIXED_HOLIDAYS = [(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)]
