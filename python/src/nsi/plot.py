"""Plots of results, one call each, with token strings as axis labels (needs matplotlib:
pip install "nsi[plot]"). Each returns the matplotlib Figure; save it with
`fig.savefig("lens.svg")` (or .png, .pdf).

    nsi.plot.series(results, "p_paris")          # a per-layer series: logit lens, patching
    nsi.plot.heatmap(results, "effect")          # layer x position: sweeps, attribution
    nsi.plot.attention(results, "pattern")       # an attention pattern, tokens on both axes
"""
import numpy as np


def _pyplot():
    try:
        import matplotlib.pyplot as plt  # its own backend choice: inline in Jupyter, Agg without a display
    except ImportError:
        raise ImportError("nsi.plot needs matplotlib (pip install \"nsi[plot]\")") from None
    return plt


def _values(data, name):
    """The array to plot: `data[name]` (stacked when `name` is an indexed save), or `data`."""
    if name is None:
        return np.asarray(data, dtype=np.float64)
    if name in data:
        return np.asarray(data[name], dtype=np.float64)
    return np.asarray(data.stack(name), dtype=np.float64)


def _tokens(data, labels):
    if labels is not None:
        return [str(t) for t in labels]
    tokens = getattr(data, "tokens", None)
    if tokens is None and getattr(data, "token_ids", None):
        return [str(i) for i in data.token_ids[0]]
    return tokens


def _title(name, title):
    return title if title is not None else name


def series(data, name=None, *, labels=None, title=None, xlabel="layer", ylabel=None, ax=None):
    """A line over an indexed scalar save (one value per layer) or any 1-D array;
    `labels` names the x ticks (default 0..n-1)."""
    plt = _pyplot()
    values = _values(data, name).reshape(-1)
    figure, ax = (plt.subplots(figsize=(7, 3.2)) if ax is None else (ax.figure, ax))
    x = np.arange(len(values))
    ax.plot(x, values, marker="o", markersize=3, linewidth=1.6)
    if labels is not None:
        ax.set_xticks(x, [str(l) for l in labels], rotation=60, ha="right")
    best = int(np.argmax(values))
    ax.annotate(f"max {values[best]:.3g}", (best, values[best]), textcoords="offset points", xytext=(4, 6), fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel if ylabel is not None else (name or "value"))
    ax.set_title(_title(name, title))
    ax.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def heatmap(data, name=None, *, x_labels=None, y_labels=None, title=None, xlabel="position", ylabel="layer",
            center=None, ax=None, cmap=None):
    """A 2-D save (or an indexed save of rows, stacked) as a heatmap: rows are layers,
    columns positions labelled with the prompt's tokens. A diverging scale centred on
    `center` (default: 0 when the values change sign)."""
    plt = _pyplot()
    values = _values(data, name)
    values = values.reshape(values.shape[0], -1) if values.ndim != 2 else values
    figure, ax = (plt.subplots(figsize=(max(5, 0.45 * values.shape[1] + 2.5), max(3, 0.22 * values.shape[0] + 1.5)))
                  if ax is None else (ax.figure, ax))
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    if center is None and low < 0 < high:
        center = 0.0
    if center is not None:
        reach = max(abs(low - center), abs(high - center)) or 1.0
        image = ax.imshow(values, aspect="auto", cmap=cmap or "RdBu_r", vmin=center - reach, vmax=center + reach,
                          interpolation="nearest")
    else:
        image = ax.imshow(values, aspect="auto", cmap=cmap or "viridis", interpolation="nearest")
    tokens = _tokens(data, x_labels)
    if tokens is not None and len(tokens) == values.shape[1]:
        ax.set_xticks(np.arange(values.shape[1]), tokens, rotation=60, ha="right")
    if y_labels is not None:
        ax.set_yticks(np.arange(values.shape[0]), [str(l) for l in y_labels])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(_title(name, title))
    figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    figure.tight_layout()
    return figure


def attention(data, name="pattern", *, tokens=None, title=None, ax=None):
    """An attention pattern ([T, S], rows summing to 1) with the prompt's tokens on both
    axes: queries down, keys across."""
    plt = _pyplot()
    values = _values(data, name)
    if values.ndim != 2:
        raise ValueError(f"an attention pattern is 2-D [queries, keys]; {name} has shape {list(values.shape)}")
    side = max(4, 0.4 * values.shape[1] + 2)
    figure, ax = (plt.subplots(figsize=(side + 1, side)) if ax is None else (ax.figure, ax))
    image = ax.imshow(values, cmap="Blues", vmin=0, vmax=max(float(values.max()), 1e-9), interpolation="nearest")
    labels = _tokens(data, tokens)
    if labels is not None and len(labels) == values.shape[1]:
        ax.set_xticks(np.arange(values.shape[1]), labels, rotation=60, ha="right")
    if labels is not None and len(labels) >= values.shape[0]:
        ax.set_yticks(np.arange(values.shape[0]), labels[:values.shape[0]])
    ax.set_xlabel("key")
    ax.set_ylabel("query")
    ax.set_title(_title(name, title))
    figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    figure.tight_layout()
    return figure
