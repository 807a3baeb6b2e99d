"""A one-screen summary of a package: rows per table, events by year and by control domain."""
from __future__ import annotations

import polars as pl

from .contract import Contract
from .validation.structure import read_table


def summary_frames(contract: Contract, tables: dict[str, pl.DataFrame] | None = None) -> dict[str, pl.DataFrame]:
    """Rows per table, and event counts by year of date_start and by control_domain.

    ``tables`` holds typed frames the caller already read (the build has them); any table
    not given is read from its CSV.
    """
    counts, events = [], None
    for table in contract.tables.values():
        frame = (tables or {}).get(table.name)
        if frame is None:
            frame = read_table(contract, table).frame
        counts.append({"table": table.name, "rows": frame.height if frame is not None else None})
        if table.name == "events" and frame is not None:
            events = frame.with_columns(pl.col("control_domain").cast(pl.String))
    out = {"tables": pl.DataFrame(counts, schema={"table": pl.String, "rows": pl.Int64})}
    if events is not None:
        out["by_year"] = (
            events.group_by(pl.col("date_start").dt.year().alias("year")).len("events").sort("year")
        )
        domains = list(contract.vocabulary("control_domain").codes) if "control_domain" in contract.vocabularies else []
        by_domain = events.group_by("control_domain").len("events")
        order = pl.DataFrame({"control_domain": domains, "_o": list(range(len(domains)))}, schema={"control_domain": pl.String, "_o": pl.Int64})
        out["by_domain"] = (
            by_domain.join(order, on="control_domain", how="left").sort("_o", nulls_last=True).drop("_o")
        )
    return out


def _block(title: str, frame: pl.DataFrame, key: str, value: str) -> list[str]:
    lines = [title]
    width = max([len(str(v)) for v in frame[key].to_list()] + [1])
    for k, v in frame.select(key, value).iter_rows():
        lines.append(f"  {str(k):<{width}}  {'-' if v is None else f'{v:,}':>7}")
    return lines


def summary_text(contract: Contract, tables: dict[str, pl.DataFrame] | None = None) -> str:
    """The summary as plain text, as `infocontrols info` prints it and the README shows it."""
    frames = summary_frames(contract, tables)
    lines = [f"infocontrols {contract.version}"]
    lines += _block("rows per table:", frames["tables"], "table", "rows")
    if "by_year" in frames:
        lines += _block("events by year:", frames["by_year"], "year", "events")
        lines += _block("events by control domain:", frames["by_domain"], "control_domain", "events")
    return "\n".join(lines) + "\n"
