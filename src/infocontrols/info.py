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


CHINESE = ("zh-Hans", "zh-Hant")


def coverage_lines(contract: Contract, tables: dict[str, pl.DataFrame] | None = None) -> list[str]:
    """Checklist recall and language shares: how complete the events are, and how first-hand."""
    def frame(name: str) -> pl.DataFrame | None:
        if name not in contract.tables:
            return None
        given = (tables or {}).get(name)
        return given if given is not None else read_table(contract, contract.table(name)).frame

    lines: list[str] = []
    checklist = frame("checklist")
    if checklist is not None and checklist.height:
        status = checklist.with_columns(pl.col("coverage").cast(pl.String))
        covered = status.filter(pl.col("coverage") == "covered").height
        lines.append(f"checklist of notable events: {covered} of {status.height} covered ({covered / status.height:.0%})")
        for code, n in status.group_by("coverage").len().sort("coverage").iter_rows():
            if code != "covered":
                lines.append(f"  left out, {code.replace('_', ' ')}: {n}")
    events, links, sources = frame("events"), frame("event_sources"), frame("sources")
    if events is not None and links is not None and sources is not None and events.height:
        languages = sources.with_columns(pl.col("language").cast(pl.String))
        chinese = languages.filter(pl.col("language").is_in(CHINESE)).select("source_id")
        with_chinese = links.join(chinese, on="source_id", how="semi")["event_id"].n_unique()
        lines.append(f"events citing a Chinese-language source: {with_chinese} of {events.height} ({with_chinese / events.height:.0%})")
        lines.append("sources by language:")
        for language, n in languages.group_by("language").len().sort(["len", "language"], descending=[True, False]).iter_rows():
            lines.append(f"  {language:<8} {n:>7,} ({n / languages.height:.0%})")
    return lines


def summary_text(contract: Contract, tables: dict[str, pl.DataFrame] | None = None) -> str:
    """The summary as plain text, as `infocontrols info` prints it and the README shows it."""
    frames = summary_frames(contract, tables)
    lines = [f"infocontrols {contract.version}"]
    lines += _block("rows per table:", frames["tables"], "table", "rows")
    if "by_year" in frames:
        lines += _block("events by year:", frames["by_year"], "year", "events")
        lines += _block("events by control domain:", frames["by_domain"], "control_domain", "events")
    lines += coverage_lines(contract, tables)
    return "\n".join(lines) + "\n"
