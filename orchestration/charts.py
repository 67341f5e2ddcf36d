"""Small charts for asset materializations, embedded as Markdown images (PNG, base64).

The UI shows them on the asset page, where people would rather look than read. Charts only
ever show aggregates: no personal data.
"""

from __future__ import annotations

import base64
import io

import dagster as dg
import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")  # no display on servers
    import matplotlib.pyplot as plt

    return plt


def to_markdown(fig, title: str) -> dg.MetadataValue:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    _plt().close(fig)
    data = base64.b64encode(buf.getvalue()).decode()
    return dg.MetadataValue.md(f"**{title}**\n\n![{title}](data:image/png;base64,{data})")


def bar_chart(labels: list[str], series: dict[str, list[float]], title: str, ylabel: str = "",
              log: bool = False) -> dg.MetadataValue:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.2))
    x = np.arange(len(labels))
    width = 0.8 / max(1, len(series))
    for i, (name, values) in enumerate(series.items()):
        ax.bar(x + i * width, values, width, label=name)
    ax.set_xticks(x + width * (len(series) - 1) / 2, labels, rotation=35, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    if len(series) > 1:
        ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    return to_markdown(fig, title)


def heatmap(grid: np.ndarray, row_labels: list[str], col_labels: list[str], title: str,
            xlabel: str, ylabel: str) -> dg.MetadataValue:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.6, 3.8))
    im = ax.imshow(grid, cmap="viridis", origin="lower")
    ax.set_xticks(range(len(col_labels)), col_labels)
    ax.set_yticks(range(len(row_labels)), row_labels)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    for (i, j), v in np.ndenumerate(grid):
        ax.text(j, i, f"{int(v)}", ha="center", va="center", fontsize=7,
                color="white" if v < grid.max() / 2 else "black")
    fig.colorbar(im, ax=ax, shrink=0.8)
    ax.set_title(title, fontsize=10)
    return to_markdown(fig, title)


def gain_and_calibration(y: np.ndarray, p: np.ndarray, title: str) -> dg.MetadataValue:
    plt = _plt()
    fig, (g, c) = plt.subplots(1, 2, figsize=(8, 3.4))
    order = np.argsort(-p, kind="stable")
    share = np.arange(1, len(y) + 1) / len(y)
    gained = np.cumsum(y[order]) / max(1, y.sum())
    g.plot(share, gained, label="model")
    g.plot([0, 1], [0, 1], "--", color="grey", label="random")
    g.set_xlabel("share of customers contacted")
    g.set_ylabel("share of buyers reached")
    g.set_title("Cumulative gain", fontsize=10)
    g.legend(fontsize=8)
    bins = np.clip((p * 10).astype(int), 0, 9)
    mean_p = [p[bins == b].mean() for b in range(10) if (bins == b).any()]
    rate = [y[bins == b].mean() for b in range(10) if (bins == b).any()]
    c.plot([0, 1], [0, 1], "--", color="grey")
    c.plot(mean_p, rate, "o-")
    c.set_xlabel("predicted probability")
    c.set_ylabel("observed purchase rate")
    c.set_title("Calibration (held-out cutoff)", fontsize=10)
    return to_markdown(fig, title)


def histogram(values: np.ndarray, title: str, xlabel: str, bins: int = 30) -> dg.MetadataValue:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.hist(values, bins=bins, color="#4c72b0")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("customers")
    ax.set_title(title, fontsize=10)
    return to_markdown(fig, title)


def table(df) -> dg.MetadataValue:
    """A DataFrame of aggregates as a Markdown table."""
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return dg.MetadataValue.md("\n".join(lines))
