"""The README's picture: events per year by control domain, as SVG with reproducible bytes.

A grid (one row per control domain, one column per year of ``date_start``) with the count
written in each cell and shaded on one sequential blue scale, plus totals per row and per
column. The numbers carry the meaning and the shading only repeats them in lightness, so
the chart reads the same for colour-blind readers and in greyscale.

The bytes depend only on the data and the matplotlib version (pinned in the ``build``
extra), not on the machine: text stays text (``svg.fonttype: none``) laid out with the
DejaVu Sans metrics that matplotlib ships (the SVG names Helvetica, Arial and sans-serif as
fallbacks, all narrower), element ids are seeded (``svg.hashsalt``) and
no date is written. So ``infocontrols build --check`` can compare it like any other file.

Example:
    >>> from infocontrols.chart import events_chart
    >>> svg = events_chart(contract, events)              # doctest: +SKIP
    >>> svg[:5]                                           # doctest: +SKIP
    b'<?xml'
"""
from __future__ import annotations

import io

from .contract import Contract

CHART_PATH = "docs/events-by-year.svg"
TITLE = "Events per year by control domain"

# Settings that make the SVG bytes reproducible; applied only inside the chart's rc_context.
REPRODUCIBLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "infocontrols",
    "svg.image_inline": True,
    # Layout uses the DejaVu Sans that matplotlib ships (always first, so always found); the SVG
    # names narrower fallbacks for readers without it, so labels never overflow.
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Helvetica", "Arial", "Liberation Sans"],
    "font.size": 10,
    "axes.unicode_minus": False,
}
# Written into the SVG instead of matplotlib's own "Creator" (which names its version) and date.
SVG_METADATA = {"Date": None, "Creator": "infocontrols build (matplotlib)", "Title": TITLE}


def counts(contract: Contract, events) -> tuple[list[str], list[int], list[list[int]]]:
    """Domain labels (vocabulary order, domains with events only), years, and counts[domain][year].

    ``events`` is the events table as a polars DataFrame (as the build reads it).

    Example:
        >>> labels, years, grid = counts(contract, events)   # doctest: +SKIP
        >>> sum(map(sum, grid)) == events.height              # doctest: +SKIP
        True
    """
    import polars as pl

    frame = events.select(
        pl.col("control_domain").cast(pl.String).alias("domain"),
        pl.col("date_start").dt.year().alias("year"),
    )
    vocab = contract.vocabulary("control_domain")
    present = set(frame["domain"].to_list())
    codes = [c for c in vocab.codes if c in present] + sorted(present - set(vocab.codes))
    if frame.height == 0:
        return [], [], []
    years = list(range(int(frame["year"].min()), int(frame["year"].max()) + 1))
    table = {(d, y): n for d, y, n in frame.group_by("domain", "year").len().iter_rows()}
    grid = [[table.get((code, y), 0) for y in years] for code in codes]
    labels = [vocab.labels.get(code) or code for code in codes]
    return labels, years, grid


def events_chart(contract: Contract, events, fmt: str = "svg") -> bytes:
    """The chart as SVG bytes (or ``fmt="png"`` for looking at it).

    Example:
        >>> events_chart(contract, events)[:5]              # doctest: +SKIP
        b'<?xml'
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib import colors

    labels, years, grid = counts(contract, events)
    with plt.rc_context(REPRODUCIBLE):
        n_rows, n_cols = max(len(labels), 1), max(len(years), 1)
        fig = plt.figure(figsize=(1.6 + 0.62 * (n_cols + 1) + 1.9, 1.35 + 0.34 * (n_rows + 1)), dpi=100)
        ax = fig.add_axes([0.30, 0.06, 0.66, 0.74])
        peak = max([max(row) for row in grid if row] + [1])
        scale = colors.Normalize(vmin=0, vmax=peak)
        cmap = plt.get_cmap("Blues")
        for r, row in enumerate(grid):
            for c, n in enumerate(row):
                shade = cmap(0.12 + 0.78 * scale(n)) if n else "#f4f4f4"
                ax.add_patch(plt.Rectangle((c, r), 1, 1, facecolor=shade, edgecolor="white", linewidth=1.5))
                if n:
                    dark = scale(n) > 0.55
                    ax.text(c + 0.5, r + 0.5, str(n), ha="center", va="center", fontsize=9.5,
                            color="white" if dark else "#1a1a1a")
            total = sum(row)
            ax.text(n_cols + 0.5, r + 0.5, str(total), ha="center", va="center", fontsize=9.5, fontweight="bold", color="#1a1a1a")
        for c, y in enumerate(years):
            total = sum(row[c] for row in grid)
            ax.text(c + 0.5, -0.55, str(total), ha="center", va="center", fontsize=9.5, fontweight="bold", color="#1a1a1a")
        ax.text(n_cols + 0.5, -0.55, str(sum(map(sum, grid))), ha="center", va="center", fontsize=9.5, fontweight="bold", color="#1a1a1a")
        ax.set_xlim(0, n_cols + 1)
        ax.set_ylim(n_rows, -1.1)
        ax.set_xticks([c + 0.5 for c in range(len(years))] + [n_cols + 0.5], [str(y) for y in years] + ["total"])
        ax.set_yticks([r + 0.5 for r in range(len(labels))] + [-0.55], labels + ["total"])
        ax.xaxis.tick_top()
        ax.tick_params(length=0, labelsize=9.5)
        for side in ax.spines.values():
            side.set_visible(False)
        fig.suptitle(TITLE, x=0.02, y=0.985, ha="left", fontsize=12.5, fontweight="bold")
        fig.text(0.02, 0.895, f"InfoControls {contract.version}: number of events by year of date_start; darker = more",
                 ha="left", fontsize=9, color="#444444")
        out = io.BytesIO()
        if fmt == "svg":
            fig.savefig(out, format="svg", metadata=SVG_METADATA, bbox_inches="tight", pad_inches=0.25)
        else:
            fig.savefig(out, format=fmt, dpi=150, bbox_inches="tight", pad_inches=0.25)
        plt.close(fig)
    return out.getvalue()


__all__ = ["events_chart", "counts", "CHART_PATH", "TITLE"]
