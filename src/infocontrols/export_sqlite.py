"""Export the package as one SQLite file that any SQLite tool, Datasette or R's RSQLite can open.

What the file holds, all derived from the contract (``schema/``) and the CSV:

- every table with its declared types, NOT NULL for required fields, UNIQUE, its primary
  key and its foreign keys (``PRAGMA foreign_key_check`` is clean);
- ``vocabulary_<name>`` lookup tables (code, label, definition), one per vocabulary, and a
  foreign key from every coded field to its lookup, so that codes are checked and tools
  such as Datasette show each code's label; the ``vocabularies`` table stays the full list;
- an index on every foreign key that no primary key or unique index already covers;
- full-text search (FTS5) over event titles, summaries and notes and over source titles;
- ``events.year``, a generated column (the year of ``date_start``), for counting and facets;
- three derived columns of ``sources`` (when the package has a hosts table): ``host``, the
  row of ``hosts`` that covers the URL's host (a foreign key), ``host_kind``, that row's kind,
  and ``attribution``, how the page is credited to readers: a page on a copy site reads
  "copy on HOST of ORIGINAL's text" (:func:`infocontrols.hosts.attribution`);
- the view ``events_wide``: one row per event with its actors, measures, supporting source
  URLs (and their attributions) and figures as JSON arrays, like :func:`infocontrols.events_wide`;
- ``package_info``: name, title, version, licence and how to cite, so a lone file says what it is.

Only the standard library's ``sqlite3`` is used: data always goes through parameterised
statements; the only SQL text assembled here is made of schema names, each quoted by
:func:`quote`. (sqlite-utils cannot declare composite foreign keys such as figures ->
event_sources, so it would not save any SQL here.)

Example:
    >>> from infocontrols.export_sqlite import export_sqlite
    >>> export_sqlite("infocontrols.sqlite")            # doctest: +SKIP
    PosixPath('infocontrols.sqlite')
"""
from __future__ import annotations

import datetime as dt
import os
import sqlite3
import tempfile
from pathlib import Path

from .contract import Contract, Table

# Table Schema type -> SQLite declared type. Dates are ISO 8601 text, as SQLite's date
# functions expect; TEXT (not DATE, whose affinity is NUMERIC) keeps them text everywhere.
SQLITE_TYPES = {"string": "TEXT", "date": "TEXT", "datetime": "TEXT", "integer": "INTEGER", "number": "REAL", "boolean": "INTEGER"}

# Full-text search: table -> the text columns it covers (those the schema has).
FULL_TEXT = {"events": ("title", "summary", "notes"), "sources": ("title",)}

VIEW = "events_wide"
# Columns the export adds to sources, derived from the URL and the hosts table.
SOURCE_HOST_COLUMNS = ("host", "host_kind", "attribution")
INFO_TABLE = "package_info"
YEAR_COLUMN = "year"


class ExportError(Exception):
    """The package cannot be exported; the message says why and what to do."""


def quote(name: str) -> str:
    """Quote an SQL identifier (table, column or index name).

    Example:
        >>> quote('events'), quote('odd"name')
        ('"events"', '"odd""name"')
    """
    return '"' + name.replace('"', '""') + '"'


def vocabulary_table(name: str) -> str:
    """Name of the lookup table that holds one vocabulary.

    Example:
        >>> vocabulary_table("event_type")
        'vocabulary_event_type'
    """
    return f"vocabulary_{name}"


def fts_table(table: str) -> str:
    """Name of a table's full-text index, as sqlite-utils and Datasette name it.

    Example:
        >>> fts_table("events")
        'events_fts'
    """
    return f"{table}_fts"


def full_text_columns(contract: Contract) -> dict[str, list[str]]:
    """The full-text columns of each table that exists, keeping only columns the schema has.

    Example:
        >>> full_text_columns(contract)["sources"]          # doctest: +SKIP
        ['title']
    """
    out = {}
    for table, columns in FULL_TEXT.items():
        if table in contract.tables:
            present = [c for c in columns if c in contract.table(table).field_names]
            if present:
                out[table] = present
    return out


def derived_columns(contract: Contract, table: Table) -> tuple[str, ...]:
    """The columns the export adds to ``table`` beyond its schema's fields (besides events.year).

    Example:
        >>> derived_columns(contract, contract.table("sources"))   # doctest: +SKIP
        ('host', 'host_kind', 'attribution')
    """
    if table.name == "sources" and "hosts" in contract.tables and "url" in table.field_names:
        return SOURCE_HOST_COLUMNS
    return ()


def _derived_foreign_keys(contract: Contract, table: Table) -> list[tuple[str, str, str]]:
    """(column, referenced table, referenced column) of each derived column's foreign key."""
    if not derived_columns(contract, table):
        return []
    keys = [("host", "hosts", "host")]
    kind = contract.table("hosts").field("kind") if "kind" in contract.table("hosts").field_names else None
    if kind is not None and kind.vocabulary in contract.vocabularies:
        keys.append(("host_kind", vocabulary_table(kind.vocabulary), "code"))
    return keys


def _coded_fields(contract: Contract, table: Table) -> list[tuple[str, str]]:
    """(field, vocabulary) for every coded field whose vocabulary exists."""
    return [(f.name, f.vocabulary) for f in table.fields if f.vocabulary and f.vocabulary in contract.vocabularies]


def _create_table(contract: Contract, table: Table) -> str:
    lines = []
    for f in table.fields:
        column = f"{quote(f.name)} {SQLITE_TYPES.get(f.type, 'TEXT')}"
        if f.required:
            column += " NOT NULL"
        if f.unique and table.primary_key != (f.name,):
            column += " UNIQUE"
        lines.append(column)
    for name in derived_columns(contract, table):
        lines.append(f"{quote(name)} TEXT" + (" NOT NULL" if name == "attribution" else ""))
    if table.name == "events" and "date_start" in table.field_names and YEAR_COLUMN not in table.field_names:
        lines.append(f"{quote(YEAR_COLUMN)} INTEGER GENERATED ALWAYS AS (CAST(substr({quote('date_start')}, 1, 4) AS INTEGER)) VIRTUAL")
    if table.primary_key:
        lines.append(f"PRIMARY KEY ({', '.join(map(quote, table.primary_key))})")
    for fk in table.foreign_keys:
        lines.append(
            f"FOREIGN KEY ({', '.join(map(quote, fk.fields))}) "
            f"REFERENCES {quote(fk.reference_table)} ({', '.join(map(quote, fk.reference_fields))})"
        )
    for field, vocabulary in _coded_fields(contract, table):
        lines.append(f"FOREIGN KEY ({quote(field)}) REFERENCES {quote(vocabulary_table(vocabulary))} ({quote('code')})")
    for column, other, other_column in _derived_foreign_keys(contract, table):
        lines.append(f"FOREIGN KEY ({quote(column)}) REFERENCES {quote(other)} ({quote(other_column)})")
    return f"CREATE TABLE {quote(table.name)} (\n  " + ",\n  ".join(lines) + "\n)"


def _foreign_keys(contract: Contract, table: Table) -> list[tuple[str, ...]]:
    """The column lists of every foreign key of ``table``, declared and vocabulary ones."""
    return ([fk.fields for fk in table.foreign_keys] + [(field,) for field, _ in _coded_fields(contract, table)]
            + [(column,) for column, _, _ in _derived_foreign_keys(contract, table)])


def _indexed_prefixes(connection: sqlite3.Connection, table: str) -> list[tuple[str, ...]]:
    out = []
    for row in connection.execute("SELECT name FROM pragma_index_list(?)", (table,)).fetchall():
        columns = [r[0] for r in connection.execute("SELECT name FROM pragma_index_info(?) ORDER BY seqno", (row[0],))]
        out.append(tuple(columns))
    return out


def _create_indexes(connection: sqlite3.Connection, contract: Contract, table: Table) -> None:
    """An index on each foreign key, unless an existing index already starts with its columns."""
    for columns in _foreign_keys(contract, table):
        covered = any(index[: len(columns)] == tuple(columns) for index in _indexed_prefixes(connection, table.name))
        if not covered:
            name = f"idx_{table.name}_{'_'.join(columns)}"
            connection.execute(f"CREATE INDEX {quote(name)} ON {quote(table.name)} ({', '.join(map(quote, columns))})")


def _python_value(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _rows(contract: Contract, table: Table):
    """The table's rows, typed by the schema and in key order, as tuples of Python values."""
    from .load import csv_to_arrow

    try:
        arrow = csv_to_arrow(table, contract)
    except ValueError as exc:
        raise ExportError(str(exc)) from None
    columns = [arrow.column(name).to_pylist() for name in table.field_names]
    if derived_columns(contract, table):
        columns += _source_host_columns(contract, arrow)
    for row in zip(*columns):
        yield tuple(_python_value(v) for v in row)


def _source_host_columns(contract: Contract, sources) -> list[list]:
    """host, host_kind and attribution of each source (Arrow table), in the sources' order."""
    import polars as pl

    from .hosts import source_hosts
    from .load import csv_to_arrow

    try:
        hosts = pl.from_arrow(csv_to_arrow(contract.table("hosts"), contract))
    except ValueError as exc:
        raise ExportError(str(exc)) from None
    derived = source_hosts(pl.from_arrow(sources), hosts)
    return [derived[name].to_list() for name in SOURCE_HOST_COLUMNS]


def _create_lookups(connection: sqlite3.Connection, contract: Contract) -> None:
    used = {vocabulary for table in contract.tables.values() for _, vocabulary in _coded_fields(contract, table)}
    for name in sorted(used):
        vocab = contract.vocabulary(name)
        connection.execute(
            f"CREATE TABLE {quote(vocabulary_table(name))} ("
            f"{quote('code')} TEXT PRIMARY KEY, {quote('label')} TEXT NOT NULL, {quote('definition')} TEXT NOT NULL)"
        )
        connection.executemany(
            f"INSERT INTO {quote(vocabulary_table(name))} VALUES (?, ?, ?)",
            [(code, vocab.labels[code], vocab.definitions[code]) for code in vocab.codes],
        )


def _create_full_text(connection: sqlite3.Connection, contract: Contract) -> None:
    # External-content FTS5 tables (the text is stored once, in the table itself). The
    # content=[table] spelling is the one Datasette recognises, as sqlite-utils writes it.
    for table, columns in full_text_columns(contract).items():
        connection.execute(
            f"CREATE VIRTUAL TABLE {quote(fts_table(table))} USING FTS5 "
            f"({', '.join(map(quote, columns))}, content=[{table}])"
        )
        connection.execute(f"INSERT INTO {quote(fts_table(table))} ({quote(fts_table(table))}) VALUES ('rebuild')")


def _list_column(link: str, key: str, value: str, order: tuple[str, ...], join: tuple[str, str] | None = None,
                 where: str = "", objects: bool = False) -> str:
    """A correlated subquery: the JSON array of ``value`` over ``link`` rows of this event.

    ``objects``: ``value`` is a JSON object, kept as one (not quoted as a string) in the array.
    """
    source = f"{quote(link)} AS l"
    if join:
        joined, joined_key = join
        source += f" JOIN {quote(joined)} AS j ON j.{quote(joined_key)} = l.{quote(joined_key)}"
    order_by = ", ".join(f"l.{quote(c)}" for c in order)
    return (
        f"(SELECT json_group_array({'json(v)' if objects else 'v'}) FROM (SELECT {value} AS v FROM {source} "
        f"WHERE l.{quote(key)} = e.{quote(key)}{where} ORDER BY {order_by}))"
    )


def events_wide_sql(contract: Contract) -> str:
    """The view: one row per event, its links as JSON arrays in the order of ``ic.events_wide()``.

    Example:
        >>> print(events_wide_sql(contract))                # doctest: +SKIP
        CREATE VIEW "events_wide" AS SELECT e.*, ...
    """
    t = contract.tables
    ea, em, es, fi = (t["event_actors"].primary_key, t["event_measures"].primary_key,
                      t["event_sources"].primary_key, t["figures"].primary_key)
    figure_fields = ["metric", "value", "unit", "qualifier", "source_id"]
    figure = "json_object(" + ", ".join(f"'{name}', l.{quote(name)}" for name in figure_fields) + ")"
    columns = {
        "actor_ids": _list_column("event_actors", "event_id", f"l.{quote('actor_id')}", ea),
        "actor_names": _list_column("event_actors", "event_id", f"j.{quote('name')}", ea, ("actors", "actor_id")),
        "actor_roles": _list_column("event_actors", "event_id", f"l.{quote('role')}", ea),
        "measure_ids": _list_column("event_measures", "event_id", f"l.{quote('measure_id')}", em),
        "measure_names": _list_column("event_measures", "event_id", f"j.{quote('name')}", em, ("measures", "measure_id")),
        "source_ids": _list_column("event_sources", "event_id", f"l.{quote('source_id')}", es, where=f" AND l.{quote('stance')} = 'supports'"),
        "source_urls": _list_column("event_sources", "event_id", f"j.{quote('url')}", es, ("sources", "source_id"), where=f" AND l.{quote('stance')} = 'supports'"),
        "figures": _list_column("figures", "event_id", figure, fi, objects=True),
    }
    if derived_columns(contract, t["sources"]):  # beside each URL, how the source is credited
        columns["source_attributions"] = _list_column(
            "event_sources", "event_id", f"j.{quote('attribution')}", es, ("sources", "source_id"), where=f" AND l.{quote('stance')} = 'supports'"
        )
        columns["figures"] = columns.pop("figures")  # keep the order of ic.events_wide()
    selected = ",\n  ".join(f"{sql} AS {quote(name)}" for name, sql in columns.items())
    key = ", ".join(f"e.{quote(c)}" for c in t["events"].primary_key)
    return f"CREATE VIEW {quote(VIEW)} AS SELECT e.*,\n  {selected}\nFROM {quote('events')} AS e ORDER BY {key}"


def _create_info(connection: sqlite3.Connection, contract: Contract) -> None:
    from .citation import apa, bibtex, citation_metadata

    meta = citation_metadata(contract)
    connection.execute(f"CREATE TABLE {quote(INFO_TABLE)} ({quote('key')} TEXT PRIMARY KEY, {quote('value')} TEXT NOT NULL)")
    licences = "; ".join(f"{l.get('name')} ({l.get('title', '')})" for l in meta.get("licenses", []))
    rows = [
        ("name", meta.get("name", "")),
        ("title", meta.get("title", "")),
        ("description", meta.get("description", "")),
        ("version", contract.version),
        ("licenses", licences),
        ("cite_apa", apa(meta)),
        ("cite_bibtex", bibtex(meta)),
        ("generated_by", "infocontrols export sqlite, from the package's CSV and schema/"),
    ]
    connection.executemany(f"INSERT INTO {quote(INFO_TABLE)} VALUES (?, ?)", rows)


def write_database(connection: sqlite3.Connection, contract: Contract) -> None:
    """Create and fill every table, index, full-text index and view on an empty connection.

    Everything happens in one transaction; foreign keys are checked once all rows are in
    (rows come in key order, so a child may precede its parent). Raises
    :class:`ExportError`, and leaves the database empty, if a key or foreign key does not hold.

    Example:
        >>> write_database(sqlite3.connect(":memory:"), contract)   # doctest: +SKIP
    """
    connection.isolation_level = None  # we say BEGIN and COMMIT ourselves
    connection.execute("BEGIN")
    try:
        _create_lookups(connection, contract)
        for table in contract.tables.values():
            connection.execute(_create_table(contract, table))
        for table in contract.tables.values():
            names = [*table.field_names, *derived_columns(contract, table)]
            placeholders = ", ".join("?" for _ in names)
            columns = ", ".join(map(quote, names))
            try:
                connection.executemany(f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({placeholders})", _rows(contract, table))
            except sqlite3.IntegrityError as exc:
                raise ExportError(f"{table.path}: {exc}; run `infocontrols validate`") from None
        broken = connection.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            table, rowid, parent, _ = broken[0]
            raise ExportError(
                f"{len(broken)} foreign key value(s) do not resolve, the first in table {table} (rowid {rowid}) "
                f"pointing to {parent}; run `infocontrols validate`"
            )
        for table in contract.tables.values():
            _create_indexes(connection, contract, table)
        _create_full_text(connection, contract)
        if {"events", "event_actors", "event_measures", "event_sources", "figures", "actors", "measures", "sources"} <= set(contract.tables):
            connection.execute(events_wide_sql(contract))
        _create_info(connection, contract)
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("PRAGMA optimize")


def export_sqlite(path: str | Path, root: str | Path | None = None) -> Path:
    """Write the package (default: the bundled one) to the SQLite file ``path``; return it.

    The file is written beside its destination and renamed into place, so an existing file
    is replaced whole or not at all. The same package and SQLite library give the same bytes.

    Example:
        >>> from infocontrols.export_sqlite import export_sqlite
        >>> export_sqlite("infocontrols.sqlite")            # doctest: +SKIP
        PosixPath('infocontrols.sqlite')
    """
    from .load import contract as contract_at

    path = Path(path)
    if not path.parent.is_dir():
        raise ExportError(f"{path.parent}: no such folder; create it first or choose another path")
    if path.is_dir():
        raise ExportError(f"{path}: is a folder; give a file name such as {path / 'infocontrols.sqlite'}")
    contract = contract_at(root)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        connection = sqlite3.connect(tmp)
        try:
            connection.execute("PRAGMA journal_mode = DELETE")
            write_database(connection, contract)
            connection.execute("VACUUM")  # compact and canonical page layout
        finally:
            connection.close()
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


__all__ = ["export_sqlite", "write_database", "events_wide_sql", "ExportError", "quote", "vocabulary_table", "fts_table",
           "full_text_columns", "derived_columns", "SOURCE_HOST_COLUMNS"]
