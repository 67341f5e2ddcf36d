"""Segments, the three ways marketing asks for them.

- **a priori** (`segment_life_stage`): rules on declared data (age, children, household size);
- **supervised** (`segment_rule`): a shallow decision tree trained on the held-out cutoff to
  predict a purchase in the next 90 days from RFM; each leaf is a readable rule;
- **unsupervised** (`segment`): KMeans on scaled log recency and frequency of buyers, k chosen by silhouette
  (3–6), stability measured by the adjusted Rand index across seeds and bootstrap samples;
  clusters are named from their centroids; people who never bought are "Prospects".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier
from threadpoolctl import threadpool_limits

RFM = ["recency_days", "frequency", "monetary"]
# Clusters are found on recency and frequency: spend follows frequency so closely that adding
# it blurs the clusters (silhouette 0.50 → 0.30 on the generated silos); it is profiled instead.
CLUSTER_ON = ["recency_days", "frequency"]
SAMPLE = 5000
MIN_SHARE = 0.02


def _name(centroid: pd.Series, q: pd.DataFrame) -> str:
    """Readable name from where the centroid sits in the buyers' recency and frequency."""
    if centroid["recency_days"] <= q.loc[0.25, "recency_days"]:
        when = "Recent"
    elif centroid["recency_days"] <= q.loc[0.75, "recency_days"]:
        when = "Cooling"
    else:
        when = "Lapsed"
    if centroid["frequency"] >= max(3, q.loc[0.75, "frequency"]):
        how = "regulars"
    elif centroid["frequency"] >= 1.5:
        how = "repeat buyers"
    else:
        how = "one-off buyers"
    big = " big spenders" if centroid["monetary"] >= q.loc[0.75, "monetary"] and how != "regulars" else ""
    return f"{when} {how}{big}".replace("buyers big spenders", "big spenders")


def _scaled(frame: pd.DataFrame, scaler: StandardScaler | None = None):
    x = np.log1p(frame[CLUSTER_ON].clip(lower=0).to_numpy())
    scaler = scaler or StandardScaler().fit(x)
    return scaler.transform(x), scaler


class Clusters:
    """KMeans on log recency/frequency of buyers, with k chosen by silhouette."""

    def __init__(self, buyers: pd.DataFrame, random_state: int = 0):
        self.x, self.scaler = _scaled(buyers)
        rng = np.random.default_rng(random_state)
        self.sample = rng.choice(len(self.x), min(len(self.x), SAMPLE), replace=False)
        best = None
        with threadpool_limits(limits=1):
            for k in range(3, 7):
                if k >= len(self.sample):
                    break
                model = KMeans(n_clusters=k, n_init=10, random_state=random_state).fit(self.x[self.sample])
                score = silhouette_score(self.x[self.sample], model.labels_)
                too_small = np.bincount(model.labels_).min() < MIN_SHARE * len(self.sample)
                if best is not None and too_small:
                    continue  # a segment under 2 % of buyers is not one marketing can use
                if best is None or score > best[1] + 1e-9:
                    best = (k, score, model)
        self.k, self.silhouette, self.model = best
        self.random_state = random_state

    def stability(self, rounds: int = 3) -> dict:
        """ARI of the labels on the sample across seeds and across bootstrap refits."""
        base = self.model.predict(self.x[self.sample])
        rng = np.random.default_rng(self.random_state + 1)
        seeds, boots = [], []
        with threadpool_limits(limits=1):
            for i in range(rounds):
                other = KMeans(n_clusters=self.k, n_init=10, random_state=self.random_state + 100 + i)
                seeds.append(adjusted_rand_score(base, other.fit_predict(self.x[self.sample])))
                boot = self.x[self.sample][rng.integers(0, len(self.sample), len(self.sample))]
                refit = KMeans(n_clusters=self.k, n_init=10, random_state=self.random_state).fit(boot)
                boots.append(adjusted_rand_score(base, refit.predict(self.x[self.sample])))
        return {"seed_ari_min": round(float(min(seeds)), 4), "bootstrap_ari_min": round(float(min(boots)), 4)}

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return self.model.predict(_scaled(frame, self.scaler)[0])


class Segments:
    """The unsupervised segments fitted on a night's buyers: KMeans, its scaler and the names of
    its clusters. Small and picklable: `assign` labels any number of rows, chunk by chunk, on
    this machine or on a Spark executor."""

    def __init__(self, clusters: Clusters | None, label_names: dict, meta: dict):
        if clusters is not None:
            clusters.x = clusters.sample = None  # the fit's working arrays are not part of the model
        self.clusters, self.label_names, self.meta = clusters, label_names, meta

    def assign(self, features: pd.DataFrame) -> pd.Series:
        """The segment name of each row (needs CLUSTER_ON and has_purchased); never buyers are Prospects."""
        names = pd.Series("Prospects", index=features.index, dtype=object)
        buyers = features[features["has_purchased"] > 0]
        if self.clusters is not None and len(buyers):
            names.loc[buyers.index] = pd.Series(self.clusters.predict(buyers)).map(self.label_names).to_numpy()
        return names


def fit_segments(features: pd.DataFrame, random_state: int = 0) -> Segments:
    """KMeans on the buyers of `features` (RFM columns and has_purchased; the night's fit sample),
    its clusters named from their centroids."""
    buyers = features[features["has_purchased"] > 0]
    if len(buyers) < 20:
        return Segments(None, {}, {"k": 0, "reason": "fewer than 20 buyers"})
    clusters = Clusters(buyers, random_state)
    labels = clusters.predict(buyers)
    centroids = buyers[RFM].groupby(labels).mean()
    q = buyers[RFM].quantile([0.25, 0.5, 0.75])
    raw = {c: _name(centroids.loc[c], q) for c in centroids.index}
    seen: dict[str, int] = {}
    label_names = {}
    for c in centroids.sort_values("monetary", ascending=False).index:  # deterministic suffixes
        seen[raw[c]] = seen.get(raw[c], 0) + 1
        label_names[c] = raw[c] if seen[raw[c]] == 1 else f"{raw[c]} {seen[raw[c]]}"
    meta = {"k": int(clusters.k), "silhouette": round(float(clusters.silhouette), 4), **clusters.stability()}
    return Segments(clusters, label_names, meta)


def life_stage(declared: pd.DataFrame, as_of=None) -> pd.Series:
    """A priori segment from declared data (the features' age, children and household size;
    -1 / 0 mean not declared)."""
    age = declared["age"].astype(float).to_numpy()
    age = np.where(age < 0, np.nan, age)
    children = declared["children_count"].astype(float).fillna(0).to_numpy()
    size = declared["household_size"].astype(float).fillna(0).to_numpy()
    out = np.select(
        [children > 0, age < 30, age >= 65, size == 1, size >= 2],
        ["Families with children", "Young adults", "Seniors", "Singles", "Couples and shared homes"],
        default="Undeclared")
    return pd.Series(out, index=declared.index)


RULE_ON = ["recency_days", "frequency", "monetary"]


class Rules:
    """Supervised segments: the leaves of a depth-2 tree predicting a purchase in the next 90
    days, each a readable rule. Picklable; `assign` reads RULE_ON of any rows."""

    def __init__(self, tree: DecisionTreeClassifier | None, names: dict, meta: dict):
        self.tree, self.names, self.meta = tree, names, meta

    def assign(self, features: pd.DataFrame) -> pd.Series:
        if self.tree is None:
            return pd.Series("Unscored", index=features.index)
        leaves = self.tree.apply(features[RULE_ON])
        return pd.Series([self.names[leaf] for leaf in leaves], index=features.index)


def fit_rules(train: pd.DataFrame, random_state: int = 0) -> Rules:
    """The tree fitted on a labelled cutoff's features (`train`)."""
    cols = RULE_ON
    if len(train) < 50 or train["label"].nunique() < 2:
        return Rules(None, {}, {"leaves": 0})
    tree = DecisionTreeClassifier(max_depth=2, min_samples_leaf=max(10, int(0.05 * len(train))),
                                  random_state=random_state).fit(train[cols], train["label"].astype(int))
    t = tree.tree_
    rules = {}

    def walk(node, path):
        if t.children_left[node] == -1:
            rules[node] = " and ".join(path) or "everyone"
            return
        name, thr = cols[t.feature[node]], t.threshold[node]
        walk(t.children_left[node], [*path, f"{name} <= {thr:.0f}"])
        walk(t.children_right[node], [*path, f"{name} > {thr:.0f}"])

    walk(0, [])
    leaf_rate = {leaf: float(train["label"][tree.apply(train[cols]) == leaf].mean()) for leaf in rules}
    return Rules(tree, rules, {
        "leaves": len(rules),
        "rules": {rules[leaf]: round(rate, 3) for leaf, rate in sorted(leaf_rate.items(), key=lambda kv: -kv[1])}})
