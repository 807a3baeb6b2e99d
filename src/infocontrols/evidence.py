"""How strong the evidence for an event is, derived from its linked sources.

The definitions live here, once, and the validator (rules EVD001-EVD004), the loader and
the documentation use them:

- A source's **origin** is its ``original_outlet`` when set, else its ``outlet``: an AP
  story on a local newspaper's site has origin "Associated Press". Sources with the same
  origin are one piece of evidence, not several.
- A page on a **copy site** (``schema/hosts.csv``, kind ``copy_site``) that does not say whose
  text it carries (no ``original_outlet``) has **no known origin**: it may be a copy of any
  other source, so it supports the event but counts neither as an independent origin nor as a
  government source.
- An event is **confirmed** when a supporting source's origin is a government body
  (``outlet_type`` = ``government``) or its supporting sources come from at least two
  different origins.
- It is **disputed** when a linked source contradicts it (stance ``contradicts``), unless
  it is confirmed and every contradicting link's note says why the event still stands
  (the note contains ``Event stands:``); then it stays **confirmed**.
- Otherwise it is **reported**.

Example:
    >>> import polars as pl
    >>> links = pl.DataFrame({"event_id": ["ev-a", "ev-a"], "source_id": ["so-1", "so-2"],
    ...                       "stance": ["supports", "supports"], "note": [None, None]})
    >>> sources = pl.DataFrame({"source_id": ["so-1", "so-2"], "outlet": ["KSL", "WRAL"],
    ...                         "original_outlet": ["Associated Press", "Associated Press"],
    ...                         "outlet_type": ["wire_service", "wire_service"]})
    >>> derive_status(links, sources).row(0)
    ('ev-a', 1, False, 0, 0, 'reported')
"""
from __future__ import annotations

import polars as pl

GOVERNMENT = "government"
STANDS_MARKER = "Event stands:"


def origin() -> pl.Expr:
    """The origin of a source row: ``original_outlet`` when set, else ``outlet``."""
    return pl.coalesce(pl.col("original_outlet"), pl.col("outlet")).alias("origin")


def unattributed_copies(sources: pl.DataFrame, hosts: pl.DataFrame | None) -> list[str]:
    """IDs of the sources on a copy site that do not name whose text they carry."""
    if hosts is None or "url" not in sources.columns:
        return []
    from .hosts import COPY_SITE, source_hosts

    text = [pl.col(c).cast(pl.String) for c in ("source_id", "url", "outlet", "original_outlet")]
    sources = sources.select(text)
    kinds = source_hosts(sources, hosts.select([pl.col(c).cast(pl.String) for c in ("host", "outlet", "kind")]))
    copies = kinds.join(sources.select("source_id", "original_outlet"), on="source_id", how="left")
    return copies.filter((pl.col("host_kind") == COPY_SITE) & pl.col("original_outlet").is_null())["source_id"].to_list()


def derive_status(links: pl.DataFrame, sources: pl.DataFrame, unknown_origin=()) -> pl.DataFrame:
    """Per event with at least one link: the evidence that decides its status.

    Columns: ``event_id``, ``origins`` (distinct known origins of supporting sources),
    ``official`` (a supporting source of government origin), ``contradicting``
    (contradicting links), ``unexplained`` (contradicting links whose note does not say
    why the event stands) and ``derived`` (``confirmed``, ``reported`` or ``disputed``).
    ``unknown_origin``: IDs of the sources with no known origin (:func:`unattributed_copies`).
    """
    note = pl.col("note") if "note" in links.columns else pl.lit(None, pl.String)
    unknown = list(unknown_origin)
    known = ~pl.col("source_id").is_in(unknown) if unknown else pl.lit(True)
    joined = links.select("event_id", "source_id", pl.col("stance").cast(pl.String), note.cast(pl.String).alias("note")).join(
        sources.select("source_id", origin(), pl.col("outlet_type").cast(pl.String)), on="source_id", how="left"
    ).with_columns(pl.when(known).then(pl.col("origin")).otherwise(None).alias("origin"),
                   pl.when(known).then(pl.col("outlet_type")).otherwise(None).alias("outlet_type"))
    supports = pl.col("stance") == "supports"
    contradicts = pl.col("stance") == "contradicts"
    stands = note_says_event_stands(pl.col("note"))
    evidence = joined.group_by("event_id", maintain_order=True).agg(
        pl.col("origin").filter(supports & pl.col("origin").is_not_null()).n_unique().alias("origins"),
        (supports & (pl.col("outlet_type") == GOVERNMENT)).fill_null(False).any().alias("official"),
        contradicts.sum().cast(pl.Int64).alias("contradicting"),
        (contradicts & ~stands).sum().cast(pl.Int64).alias("unexplained"),
    )
    strong = pl.col("official") | (pl.col("origins") >= 2)
    derived = (
        pl.when(pl.col("contradicting") == 0)
        .then(pl.when(strong).then(pl.lit("confirmed")).otherwise(pl.lit("reported")))
        .when(strong & (pl.col("unexplained") == 0))
        .then(pl.lit("confirmed"))
        .otherwise(pl.lit("disputed"))
    )
    return evidence.with_columns(derived.alias("derived"))


def note_says_event_stands(note: pl.Expr) -> pl.Expr:
    """True where a contradicting link's note explains why the event still stands."""
    return note.str.contains(STANDS_MARKER, literal=True).fill_null(False)


__all__ = ["GOVERNMENT", "STANDS_MARKER", "origin", "derive_status", "note_says_event_stands", "unattributed_copies"]
