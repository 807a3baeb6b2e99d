"""Typed readers for the tables: pandas, polars or Arrow, driven by the contract.

Example:
    >>> import infocontrols as ic
    >>> events = ic.load("events")
    >>> events["date_start"].dtype.kind, events["event_type"].dtype.name
    ('M', 'category')
"""
from __future__ import annotations

import os
import warnings
from functools import lru_cache
from pathlib import Path

from . import storage
from .contract import DESCRIPTOR, Contract, Table, default_root

BACKENDS = ("pandas", "polars", "arrow")


class LoadError(ValueError):
    """A table cannot be loaded; the message names the file and says what to do."""


class StaleParquetWarning(UserWarning):
    """The Parquet copy did not match its CSV, so the table was read from the CSV."""


# What the build records in each Parquet file's schema metadata.
META_TABLE = b"infocontrols.table"
META_VERSION = b"infocontrols.version"
META_CSV_SHA256 = b"infocontrols.csv_sha256"
META_CSV_BYTES = b"infocontrols.csv_bytes"


def parquet_problem(metadata: dict | None, table_name: str, csv_sha256: str | None) -> str | None:
    """Why a Parquet file's own metadata says it is not the current copy of ``table_name``, or None.

    Example:
        >>> parquet_problem({b"infocontrols.table": b"actors"}, "events", None)
        "holds table 'actors', not 'events' (copied or swapped?)"
    """
    metadata = metadata or {}
    held = metadata.get(META_TABLE, b"").decode("utf-8", "replace")
    if held != table_name:
        return f"holds table {held!r}, not {table_name!r} (copied or swapped?)" if held else "was not written by `infocontrols build` (no table name in its metadata)"
    if csv_sha256 is None:
        return None
    built_from = metadata.get(META_CSV_SHA256)
    if built_from is None:
        return "was built by an older infocontrols that did not record which CSV it was built from"
    if built_from.decode("ascii", "replace") != csv_sha256:
        return "was built from an earlier version of the CSV: the CSV changed since the last build"
    return None


@lru_cache(maxsize=8)
def _contract_at(root: str) -> Contract:
    path = Path(root)
    if os.path.lexists(path / DESCRIPTOR):
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
    metadata = {META_VERSION: contract.version.encode(), META_TABLE: table.name.encode()}
    return pa.schema(fields, metadata=metadata)


def _first_errors(findings, n: int = 3) -> str:
    errors = [f for f in findings if f.severity == "error"]
    text = "; ".join(f"line {f.line}: {f.message} [rule {f.rule}]" if f.line else f"{f.message} [rule {f.rule}]" for f in errors[:n])
    return text + (f"; +{len(errors) - n} more" if len(errors) > n else "")


def csv_to_arrow(table: Table, contract: Contract):
    """Read one CSV and return it with the schema's Arrow types, rows in key order.

    Coded fields become dictionaries whose dictionary is the whole vocabulary in its
    published order, so categories keep that order in every backend. The schema metadata
    records the table's name and the SHA-256 and size of the CSV it was read from.

    Raises :class:`LoadError` if the file has any structural error (a cell that is not a
    date or number, a short row, ...) or a code outside its vocabulary: a cell is never
    silently turned into a missing value.

    Example:
        >>> csv_to_arrow(contract.table("events"), contract).num_rows      # doctest: +SKIP
        193
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from .validation.structure import read_table

    parsed = read_table(contract, table)
    if parsed.frame is None or any(f.severity == "error" for f in parsed.findings):
        raise LoadError(f"{table.path}: cannot be read: {_first_errors(parsed.findings) or 'unreadable'}; run `infocontrols validate`")
    frame = parsed.frame
    if table.sort_key:
        frame = frame.sort(list(table.sort_key), maintain_order=True, nulls_last=True)
    source = frame.to_arrow()
    schema = arrow_schema(table, contract)
    columns = []
    for f, target in zip(table.fields, schema):
        column = source.column(f.name)
        if pa.types.is_dictionary(target.type):
            try:
                codes = pa.array(contract.vocabulary(f.vocabulary).codes, pa.string())
            except KeyError:
                raise LoadError(f"{table.path}: {f.name}: vocabulary {f.vocabulary!r} has no entries; run `infocontrols validate`") from None
            values = column.cast(pa.string()).combine_chunks()
            indices = pc.index_in(values, value_set=codes).cast(pa.int32())
            if indices.null_count != values.null_count:
                raise LoadError(f"{table.path}: {f.name}: a value is not in vocabulary {f.vocabulary}; run `infocontrols validate`")
            column = pa.DictionaryArray.from_arrays(indices, codes)
        else:
            column = column.cast(target.type)
        columns.append(column)
    metadata = dict(schema.metadata)
    metadata[META_CSV_SHA256] = (parsed.sha256 or "").encode()
    metadata[META_CSV_BYTES] = str(parsed.size or 0).encode()
    return pa.Table.from_arrays(columns, schema=schema.with_metadata(metadata))


_HASHING = None  # a thread that hashes the CSV while the Parquet file is decoded


def _hash_in_background(root: Path, relative: str):
    global _HASHING
    from concurrent.futures import ThreadPoolExecutor

    if _HASHING is None:
        _HASHING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="infocontrols-hash")
    return _HASHING.submit(storage.sha256_of, root, relative)


class _ParquetCopy:
    """A table's Parquet file, read and checked against its CSV.

    Reading and the CSV's hash run side by side (hashlib and pyarrow both release the GIL),
    so the check costs little more than the read; :meth:`verdict` waits for the hash.
    """

    def __init__(self, c: Contract, table: Table):
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.table, self.arrow, self.problem, self.exists = table, None, None, True
        self._pending, self._metadata = None, {}
        relative = f"data/{table.name}.parquet"
        try:
            data = storage.read_bytes(c.root, relative)
            parquet = pq.ParquetFile(pa.BufferReader(data))
            self._metadata = parquet.schema_arrow.metadata or {}
        except storage.MissingFile:
            self.exists = False
            return
        except storage.StorageError as exc:
            self.problem = exc.reason
            return
        except (pa.ArrowException, OSError, ValueError) as exc:
            self.problem = f"cannot be read as Parquet ({_first_line(exc)}): truncated or damaged"
            return
        self.problem = parquet_problem(self._metadata, table.name, None)
        if self.problem:
            return
        try:
            size = storage.file_identity(c.root, table.path)[2]
        except storage.MissingFile:
            size = None  # the Parquet file is the only copy: nothing to compare it with
        except storage.StorageError as exc:
            self.problem = f"cannot be checked against {table.path} ({exc.reason})"
            return
        if size is not None:
            # Stat before hashing, as git's index does: a different size is stale for sure.
            if self._metadata.get(META_CSV_BYTES) not in (None, str(size).encode()):
                self.problem = "was built from an earlier version of the CSV: the CSV changed since the last build"
                return
            self._pending = _hash_in_background(c.root, table.path)
        try:
            self.arrow = parquet.read()
        except (pa.ArrowException, OSError, ValueError) as exc:
            self.problem = f"cannot be read as Parquet ({_first_line(exc)}): truncated or damaged"

    def verdict(self) -> str | None:
        """None if the Parquet copy is current; else why it cannot be used."""
        if self._pending is not None:
            try:
                digest = self._pending.result()[0]
            except storage.StorageError as exc:
                digest, self.problem = None, f"cannot be checked against {self.table.path} ({exc.reason})"
            self._pending = None
            if digest is not None:
                self.problem = parquet_problem(self._metadata, self.table.name, digest)
        if self.problem:
            self.arrow = None
        return self.problem


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _from_csv(c: Contract, table: Table, problem: str | None):
    """The table typed from its CSV; with a warning when a Parquet copy was passed over."""
    if problem is None:
        return csv_to_arrow(table, c)
    relative = f"data/{table.name}.parquet"
    try:
        arrow = csv_to_arrow(table, c)
    except LoadError as exc:
        raise LoadError(f"{relative}: {problem}, and the CSV cannot be used instead: {exc}; fix it, then run `infocontrols build`") from None
    warnings.warn(f"{relative}: {problem}; read {table.path} instead (run `infocontrols build` to refresh the Parquet file)", StaleParquetWarning, stacklevel=3)
    return arrow


def read_arrow(name: str, root: str | Path | None = None):
    """The table as a ``pyarrow.Table``: from Parquet when it is current, else typed from the CSV.

    The Parquet file is used only if its own metadata says it holds this table and was built
    from the CSV as it is now (same size and SHA-256). Otherwise the CSV is read, with a
    :class:`StaleParquetWarning`; if the CSV cannot be read either, :class:`LoadError` says
    what to do. Another table or stale data is never returned.

    Example:
        >>> read_arrow("events").schema.metadata[b"infocontrols.table"]      # doctest: +SKIP
        b'events'
    """
    c = contract(root)
    table = c.table(name)
    copy = _ParquetCopy(c, table)
    if copy.verdict() is None and copy.arrow is not None:
        return copy.arrow
    return _from_csv(c, table, copy.problem if copy.exists else None)


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
    copy = _ParquetCopy(c, table)
    if copy.arrow is not None:
        frame = _convert(copy.arrow, backend, c, table)  # while the CSV's hash is computed
        if copy.verdict() is None:
            return frame
    copy.verdict()
    return _convert(_from_csv(c, table, copy.problem if copy.exists else None), backend, c, table)


def _convert(arrow, backend: str, c: Contract, table: Table):
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


def source_hosts(*, root: str | Path | None = None, backend: str = "pandas"):
    """Per source: the row of the hosts table that covers its URL's host, its kind, and how to credit it.

    Columns: ``source_id``; ``host`` (the ``hosts`` row: the URL's host, or the parent domain
    that covers it); ``host_kind`` (``outlet_site``, ``copy_site`` or ``platform``); and
    ``attribution``, how the page is credited to readers: "copy on HOST of ORIGINAL's text"
    for a page on a copy site, "OUTLET, carrying ORIGINAL's text" for syndicated text, else
    the outlet. Join it to the sources on ``source_id``. ``backend`` as for :func:`load`.

    Example:
        >>> import infocontrols as ic
        >>> sources = ic.load("sources").merge(ic.source_hosts(), on="source_id")
        >>> sorted(set(sources["host_kind"]))
        ['copy_site', 'outlet_site', 'platform']
    """
    import polars as pl

    from .hosts import HOSTS_TABLE, source_hosts as derive

    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    c = contract(root)
    sources = load("sources", backend="polars", root=root)
    if HOSTS_TABLE in c.tables:
        hosts = load(HOSTS_TABLE, backend="polars", root=root)
    else:  # a package without a hosts table: no host is known, each source is credited to its outlet
        hosts = pl.DataFrame({"host": [], "kind": []}, schema={"host": pl.String, "kind": pl.String})
    out = derive(sources, hosts)
    if backend == "polars":
        return out
    if backend == "arrow":
        return out.to_arrow()
    return out.to_pandas().astype("string")


def events_wide(*, root: str | Path | None = None):
    """One row per event with its actors, measures, source URLs and figures as lists.

    ``source_attributions`` gives, beside each supporting source's URL, how it is credited
    to readers (a page on a copy site reads "copy on HOST of ORIGINAL's text"; see
    :func:`source_hosts`).

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
    source_columns = {"source_id": "source_ids", "url": "source_urls"}
    if "hosts" in contract(root).tables:
        sources = sources.merge(source_hosts(root=root)[["source_id", "attribution"]], on="source_id", how="left")
        source_columns["attribution"] = "source_attributions"
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
        gather(supporting, source_columns),
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
