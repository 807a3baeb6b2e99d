"""Datasette metadata for the SQLite export, generated from the contract (no Datasette import).

The explorer's front page carries the dataset's title, description, licence, version and
citation; every table and column has its schema description, coded columns list their
codes with labels, and the lookup tables that give Datasette those labels are hidden.

Example:
    >>> from infocontrols.explorer.metadata import datasette_metadata
    >>> meta = datasette_metadata(contract)                  # doctest: +SKIP
    >>> meta["databases"]["infocontrols"]["tables"]["events"]["facets"]   # doctest: +SKIP
    ['control_domain', 'event_type', 'evidence_status', 'year']
"""
from __future__ import annotations

from html import escape

from ..citation import apa, bibtex, citation_metadata
from ..contract import Contract, Table
from ..export_sqlite import INFO_TABLE, VIEW, YEAR_COLUMN, derived_columns, fts_table, full_text_columns, vocabulary_table

# The name the explorer gives the database, whatever the file is called; the event page's
# template, templates/_table-row-infocontrols-events.html, is found by this name.
DATABASE = "infocontrols"
EVENT_FACETS = ("control_domain", "event_type", "evidence_status", YEAR_COLUMN)
# What the export's derived columns of sources hold (export_sqlite.SOURCE_HOST_COLUMNS).
SOURCE_HOST_DESCRIPTIONS = {
    "host": "The row of the hosts table that covers the URL's host (the host itself, or the parent domain that covers it); derived by the export.",
    "host_kind": "That host's kind: outlet_site (the outlet's own site), copy_site (a site that republishes other outlets' text) or platform (many publishers); derived by the export.",
    "attribution": "How the page is credited to readers: 'copy on HOST of ORIGINAL's text' for a page on a copy site, 'OUTLET, carrying ORIGINAL's text' for syndicated text, else the outlet; derived by the export.",
}
LABEL_FIELDS = ("title", "name")  # the column that names a row, in order of preference


def column_description(contract: Contract, field) -> str:
    """A field's description, with its vocabulary's codes and labels for a coded field.

    Example:
        >>> column_description(contract, contract.table("events").field("evidence_status"))  # doctest: +SKIP
        'How well the sources establish the event. Codes: confirmed = Confirmed; ...'
    """
    text = field.description
    if field.vocabulary and field.vocabulary in contract.vocabularies:
        vocab = contract.vocabulary(field.vocabulary)
        codes = "; ".join(f"{code} = {vocab.labels[code]}" for code in vocab.codes)
        text = f"{text} Codes (vocabulary {field.vocabulary}): {codes}."
    if field.type == "date":
        text += " (Date, YYYY-MM-DD.)"
    return text.strip()


def facets(contract: Contract, table: Table) -> list[str]:
    """The columns to facet a table on: the four event facets for events, else its coded fields.

    Example:
        >>> facets(contract, contract.table("figures"))      # doctest: +SKIP
        ['metric', 'unit', 'qualifier']
    """
    if table.name == "events":
        return [name for name in EVENT_FACETS if name in table.field_names or name == YEAR_COLUMN]
    return [f.name for f in table.fields if f.vocabulary]


def label_column(table: Table) -> str | None:
    """The column Datasette shows for a row that another table points to (events: its title).

    Example:
        >>> label_column(contract.table("actors"))             # doctest: +SKIP
        'name'
    """
    return next((name for name in LABEL_FIELDS if name in table.field_names), None)


def _table_metadata(contract: Contract, table: Table) -> dict:
    columns = {f.name: column_description(contract, f) for f in table.fields}
    out = {"title": table.title, "description": table.description, "columns": columns, "facets": facets(contract, table)}
    if table.name == "events":
        columns[YEAR_COLUMN] = "Year of date_start (a generated column of the SQLite export, for counting and facets)."
        out["sort"] = "date_start"
    for name in derived_columns(contract, table):
        columns[name] = SOURCE_HOST_DESCRIPTIONS[name]
    if "host_kind" in derived_columns(contract, table):
        out["facets"].append("host_kind")
    if label_column(table):
        out["label_column"] = label_column(table)
    if table.name in full_text_columns(contract):
        out["fts_table"] = fts_table(table.name)
        out["searchmode"] = "escaped"  # plain words, whatever punctuation people type
    return out


def front_page_html(meta: dict) -> str:
    """The explorer's front-page description: what it is, its version, how to cite it.

    Example:
        >>> "Version 1.0.0" in front_page_html({"name": "x", "title": "T", "description": "D",
        ...     "version": "1.0.0", "date_released": "2026-01-01", "contributors": [{"title": "A"}]})
        True
    """
    return (
        f"<p>{escape(meta['description'])}</p>"
        f"<p><strong>Version {escape(meta['version'])}</strong>, released {escape(str(meta.get('date_released', '')))}. "
        f"Start with the <a href=\"/{DATABASE}/events\">events</a>: each event's page lists its actors, measures, "
        "sources (with links) and figures.</p>"
        f"<p>Cite as: {escape(apa(meta))}</p>"
        f"<details><summary>BibTeX</summary><pre>{escape(bibtex(meta))}</pre></details>"
    )


def datasette_metadata(contract: Contract) -> dict:
    """The whole Datasette metadata document for the SQLite export of ``contract``.

    Example:
        >>> datasette_metadata(contract)["title"]              # doctest: +SKIP
        "InfoControls: events, actors, measures and sources of China's information controls"
    """
    meta = citation_metadata(contract)
    data_licence = (meta.get("licenses") or [{}])[0]
    tables = {name: _table_metadata(contract, table) for name, table in contract.tables.items()}
    for vocabulary in sorted({f.vocabulary for t in contract.tables.values() for f in t.fields if f.vocabulary} & set(contract.vocabularies)):
        tables[vocabulary_table(vocabulary)] = {
            "description": f"Codes of vocabulary {vocabulary} with their labels: a lookup for foreign keys (the vocabularies table has them all).",
            "label_column": "label",
            "hidden": True,
        }
    if "events" in contract.tables:
        events = contract.table("events")
        columns = {f.name: column_description(contract, f) for f in events.fields}
        columns[YEAR_COLUMN] = tables["events"]["columns"][YEAR_COLUMN]
        columns.update({
            "actor_ids": "JSON array: the actors of the event (event_actors, in key order).",
            "actor_names": "JSON array: their names, in the same order.",
            "actor_roles": "JSON array: their roles, in the same order.",
            "measure_ids": "JSON array: the measures the event concerns.",
            "measure_names": "JSON array: their names, in the same order.",
            "source_ids": "JSON array: the sources that support the event.",
            "source_urls": "JSON array: their URLs, in the same order.",
            "figures": "JSON array of objects: the numbers sources state about the event (metric, value, unit, qualifier, source_id).",
        })
        if "sources" in contract.tables and derived_columns(contract, contract.table("sources")):
            columns["source_attributions"] = "JSON array: how each is credited to readers, in the same order ('copy on HOST of ORIGINAL's text' for a page on a copy site; see sources.attribution)."
        tables[VIEW] = {
            "title": "Events, wide",
            "description": "One row per event with its actors, measures, supporting source URLs (with how each is credited) and figures as JSON arrays (as infocontrols.events_wide() gives them).",
            "columns": columns,
            "facets": list(tables["events"]["facets"]),
            "sort": "date_start",
        }
    tables[INFO_TABLE] = {"description": "What this file is: name, title, version, licences and how to cite it."}
    return {
        "title": meta["title"],
        "description_html": front_page_html(meta),
        "license": data_licence.get("title") or data_licence.get("name"),
        "license_url": data_licence.get("path"),
        "source": "Published reports, one row each in the sources table",
        "databases": {DATABASE: {"title": meta["title"], "description": meta["description"], "tables": tables}},
    }


__all__ = ["datasette_metadata", "column_description", "facets", "label_column", "front_page_html", "DATABASE"]
