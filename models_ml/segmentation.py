"""Behavioural segments: KMeans on scaled log RFM of buyers, k chosen by silhouette (3–6).

Clusters are named from their centroids with fixed rules, so names are readable and stable;
customers without a purchase are "Prospects".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

RFM = ["recency_days", "frequency", "monetary"]
SAMPLE = 5000


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


def segment(features: pd.DataFrame, random_state: int = 0) -> tuple[pd.Series, dict]:
    """Segment name per row of `features` (needs RFM columns and has_purchased)."""
    names = pd.Series("Prospects", index=features.index, dtype=object)
    buyers = features[features["has_purchased"] > 0]
    if len(buyers) < 20:
        return names, {"k": 0, "reason": "fewer than 20 buyers"}
    x = StandardScaler().fit_transform(np.log1p(buyers[RFM].clip(lower=0).to_numpy()))
    rng = np.random.default_rng(random_state)
    sample = rng.choice(len(x), min(len(x), SAMPLE), replace=False)
    best = None
    with threadpool_limits(limits=1):
        for k in range(3, 7):
            if k >= len(sample):
                break
            model = KMeans(n_clusters=k, n_init=4, random_state=random_state).fit(x[sample])
            score = silhouette_score(x[sample], model.labels_)
            if best is None or score > best[1] + 1e-9:
                best = (k, score, model)
        k, silhouette, model = best
        labels = model.predict(x)
    centroids = buyers[RFM].groupby(labels).mean()
    q = buyers[RFM].quantile([0.25, 0.5, 0.75])
    raw = {c: _name(centroids.loc[c], q) for c in centroids.index}
    seen: dict[str, int] = {}
    final = {}
    for c in centroids.sort_values("monetary", ascending=False).index:  # deterministic suffixes
        seen[raw[c]] = seen.get(raw[c], 0) + 1
        final[c] = raw[c] if seen[raw[c]] == 1 else f"{raw[c]} {seen[raw[c]]}"
    names.loc[buyers.index] = [final[c] for c in labels]
    sizes = names.value_counts().to_dict()
    return names, {"k": int(k), "silhouette": round(float(silhouette), 4), "sizes": {str(a): int(b) for a, b in sizes.items()}}
