"""Typed readers for the tables: pandas, polars or Arrow, driven by the contract.

Example:
    >>> import infocontrols as ic
    >>> events = ic.load("events")
    >>> events["date_start"].dtype.kind, events["event_type"].dtype.name
    ('M', 'category')
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .contract import DESCRIPTOR, Contract, Table, default_root

BACKENDS = ("pandas", "polars", "arrow")


@lru_cache(maxsize=8)
def _contract_at(root: str) -> Contract:
    path = Path(root)
    if (path / DESCRIPTOR).is_file():
        return Contract.from_descriptor(path)
    return Contract.from_source(path)


def contract(root: str | Path | None = None) -> Contract:
    """The contract of the package at ``root`` (default: the bundled package)."""
    return _contract_at(str(Path(root) if root is not None else default_root()))


def arrow_schema(table: Table, contract: Contract):
    """Explicit Arrow types from the Table Schema: date32, int64, float64, dictionaries."""
    import pyarrow as pa

    fields = []
    for f in table.fields:
        if f.type == "date":
            t = pa.date32()
        elif f.type == "integer":
            t = pa.int64()
        elif f.type == "number":
            t = pa.float64()
        elif f.vocabulary:
            t = pa.dictionary(pa.int32(), pa.string())
        else:
            t = pa.string()
        fields.append(pa.field(f.name, t, nullable=not f.required))
    metadata = {b"infocontrols.version": contract.version.encode(), b"infocontrols.table": table.name.encode()}
    return pa.schema(fields, metadata=metadata)


def csv_to_arrow(table: Table, contract: Contract):
    """Read one CSV and return it with the schema's Arrow types, rows in key order.

    Coded fields become dictionaries whose dictionary is the whole vocabulary in its
    published order, so categories keep that order in every backend.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from .validation.structure import read_table

    parsed = read_table(contract, table)
    if parsed.frame is None:
        first = parsed.findings[0].message if parsed.findings else "unreadable"
        raise ValueError(f"{table.path}: cannot be read ({first}); run `infocontrols validate`")
    frame = parsed.frame
    if table.sort_key:
        frame = frame.sort(list(table.sort_key), maintain_order=True, nulls_last=True)
    source = frame.to_arrow()
    schema = arrow_schema(table, contract)
    columns = []
    for f, target in zip(table.fields, schema):
        column = source.column(f.name)
        if pa.types.is_dictionary(target.type):
            codes = pa.array(contract.vocabulary(f.vocabulary).codes, pa.string())
            values = column.cast(pa.string()).combine_chunks()
            column = pa.DictionaryArray.from_arrays(pc.index_in(values, value_set=codes).cast(pa.int32()), codes)
        else:
            column = column.cast(target.type)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=schema)


def read_arrow(name: str, root: str | Path | None = None):
    """The table as a ``pyarrow.Table``: from Parquet when built, else typed from the CSV."""
    import pyarrow.parquet as pq

    c = contract(root)
    table = c.table(name)
    parquet = c.parquet_path(name)
    if parquet.is_file():
        return pq.read_table(parquet)
    return csv_to_arrow(table, c)


def _categories(c: Contract, table: Table) -> dict[str, list[str]]:
    return {f.name: list(c.vocabulary(f.vocabulary).codes) for f in table.fields if f.vocabulary}


def load(name: str, backend: str = "pandas", *, root: str | Path | None = None):
    """Load one table, typed: dates as dates, coded fields as categoricals in vocabulary order.

    ``backend`` is "pandas" (default; text as pandas ``string``, integers nullable),
    "polars" (coded fields as ``Enum``) or "arrow" (dictionary-encoded columns).
    Works offline from the bundled files.

    Example:
        >>> import infocontrols as ic
        >>> ic.load("events").columns[0]
        'event_id'
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    c = contract(root)
    table = c.table(name)
    arrow = read_arrow(name, root)
    categories = _categories(c, table)
    if backend == "arrow":
        return arrow
    if backend == "polars":
        import polars as pl

        frame = pl.from_arrow(arrow)
        return frame.with_columns([pl.col(k).cast(pl.String).cast(pl.Enum(v)) for k, v in categories.items()])
    import pandas as pd
    import pyarrow as pa

    mapping = {pa.string(): pd.StringDtype(), pa.large_string(): pd.StringDtype(), pa.int64(): pd.Int64Dtype()}
    frame = arrow.to_pandas(types_mapper=mapping.get)
    for column, codes in categories.items():
        if list(frame[column].cat.categories) != codes:  # the build writes the whole vocabulary
            frame[column] = frame[column].cat.set_categories(codes)
    for f in table.fields:
        if f.type == "date" and frame[f.name].dtype != "datetime64[ms]":
            frame[f.name] = frame[f.name].astype("datetime64[ms]")  # ns cannot hold years past 2262
    return frame


def vocabulary(name: str, *, root: str | Path | None = None):
    """One vocabulary as a pandas DataFrame: code, label, definition, in published order."""
    import pandas as pd

    v = contract(root).vocabulary(name)
    return pd.DataFrame(
        {"code": list(v.codes), "label": [v.labels[c] for c in v.codes], "definition": [v.definitions[c] for c in v.codes]}
    ).astype("string")


def events_wide(*, root: str | Path | None = None):
    """One row per event with its actors, measures, source URLs and figures as lists.

    Example:
        >>> import infocontrols as ic
        >>> wide = ic.events_wide()
        >>> {"actor_ids", "source_urls", "figures"} <= set(wide.columns)
        True
    """
    import pandas as pd

    events = load("events", root=root)
    ids = events[["event_id"]]

    def gather(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
        grouped = frame.groupby("event_id", observed=True, sort=False)
        out = pd.DataFrame({new: grouped[old].agg(list) for old, new in columns.items()})
        return out.reset_index()

    actors = load("actors", root=root)[["actor_id", "name"]].rename(columns={"name": "actor_name"})
    event_actors = load("event_actors", root=root).merge(actors, on="actor_id", how="left")
    event_actors["role"] = event_actors["role"].astype("string")
    measures = load("measures", root=root)[["measure_id", "name"]].rename(columns={"name": "measure_name"})
    event_measures = load("event_measures", root=root).merge(measures, on="measure_id", how="left")
    sources = load("sources", root=root)[["source_id", "url"]]
    event_sources = load("event_sources", root=root).merge(sources, on="source_id", how="left")
    supporting = event_sources[event_sources["stance"] == "supports"]
    figures = load("figures", root=root)
    figures = figures.assign(
        figure=[
            {"metric": m, "value": v, "unit": u, "qualifier": q, "source_id": s}
            for m, v, u, q, s in zip(figures["metric"].astype(str), figures["value"], figures["unit"].astype(str), figures["qualifier"].astype(str), figures["source_id"].astype(str))
        ]
    )
    parts = [
        gather(event_actors, {"actor_id": "actor_ids", "actor_name": "actor_names", "role": "actor_roles"}),
        gather(event_measures, {"measure_id": "measure_ids", "measure_name": "measure_names"}),
        gather(supporting, {"source_id": "source_ids", "url": "source_urls"}),
        gather(figures, {"figure": "figures"}),
    ]
    wide = events
    for part in parts:
        wide = wide.merge(ids.merge(part, on="event_id", how="left"), on="event_id", how="left")
    list_columns = [c for part in parts for c in part.columns if c != "event_id"]
    for column in list_columns:
        # pandas may hold these as object or as Arrow lists; an event with none gets [] either way
        wide[column] = pd.Series([list(v) if _is_list(v) else [] for v in wide[column]], index=wide.index, dtype=object)
    return wide


def _is_list(value) -> bool:
    return isinstance(value, (list, tuple)) or (hasattr(value, "__len__") and hasattr(value, "tolist") and not isinstance(value, str))


def disagreements(*, root: str | Path | None = None):
    """Figures on which sources disagree: one row per (event, quantity) with two or more values.

    Rows of ``figures`` with the same ``event_id`` and ``quantity`` are claims about one
    number; where their values differ, the sources disagree. Each row lists the values and,
    for each, the qualifier and source as the figures table gives them.

    Example:
        >>> import infocontrols as ic
        >>> table = ic.disagreements()
        >>> list(table.columns)
        ['event_id', 'quantity', 'metric', 'unit', 'values', 'qualifiers', 'source_ids', 'figure_ids']
    """
    figures = load("figures", root=root)
    figures = figures.astype({"metric": "string", "unit": "string", "qualifier": "string"})
    ordered = figures.sort_values(["event_id", "quantity", "value", "source_id"], kind="stable")
    grouped = ordered.groupby(["event_id", "quantity"], sort=True, observed=True)
    out = grouped.agg(
        metric=("metric", "first"),
        unit=("unit", "first"),
        values=("value", lambda v: v.tolist()),
        qualifiers=("qualifier", lambda v: v.tolist()),
        source_ids=("source_id", lambda v: v.tolist()),
        figure_ids=("figure_id", lambda v: v.tolist()),
        distinct=("value", "nunique"),
    ).reset_index()
    return out[out["distinct"] > 1].drop(columns="distinct").reset_index(drop=True)
