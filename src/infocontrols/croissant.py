"""``croissant.json``: the package described in MLCommons Croissant 1.0 (JSON-LD, schema.org Dataset).

Croissant is what Hugging Face, Kaggle and OpenML publish for every dataset, and its
schema.org ``Dataset`` core is what dataset search engines index. The description is made
from the contract alone: one ``cr:FileObject`` per CSV file (with its sha256 and size), one
``cr:RecordSet`` per table, one ``cr:Field`` per column with its type, the primary key as the
record set's ``key``, and every single-column foreign key as a ``references``. The licence,
version, release date and citation come from ``schema/package.json``.

Croissant cannot state a composite foreign key (figures' ``event_id, source_id`` ->
``event_sources``); each of its columns still references its own table. A key from a table
to itself (an actor's parent) is stated in the field's description, not as a reference,
because mlcroissant cannot read a record set that references itself.

Example:
    >>> import json
    >>> from infocontrols.croissant import croissant
    >>> doc = json.loads(croissant(contract))            # doctest: +SKIP
    >>> [r["name"] for r in doc["recordSet"]][:2]         # doctest: +SKIP
    ['events', 'actors']
"""
from __future__ import annotations

import hashlib
import json

from .citation import apa, authors, bibtex, citation_metadata, doi_url
from .contract import Contract, Table

CONFORMS_TO = "http://mlcommons.org/croissant/1.0"

# The JSON-LD context of the Croissant 1.0 specification's example datasets, word for word
# (mlcroissant warns about any other).
CONTEXT = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}

# Table Schema type (and format) -> Croissant data type.
DATA_TYPES = {"string": "sc:Text", "date": "sc:Date", "datetime": "sc:DateTime", "integer": "sc:Integer", "number": "sc:Float", "boolean": "sc:Boolean"}


def data_type(field) -> str:
    """The Croissant ``dataType`` of a contract field.

    Example:
        >>> from infocontrols.contract import Field
        >>> data_type(Field("url", "string", format="uri")), data_type(Field("d", "date"))
        ('sc:URL', 'sc:Date')
    """
    if field.type == "string" and field.format == "uri":
        return "sc:URL"
    return DATA_TYPES.get(field.type, "sc:Text")


def file_id(table: Table) -> str:
    """The ``@id`` of a table's CSV file object: its path, unique within the package.

    Example:
        >>> from infocontrols.contract import Table, Field
        >>> file_id(Table("events", "data/events.csv", "", "", "", (Field("a", "string"),), ()))
        'data/events.csv'
    """
    return table.path


def _field_description(contract: Contract, field) -> str:
    text = field.description
    if field.vocabulary and field.vocabulary in contract.vocabularies:
        codes = ", ".join(contract.vocabulary(field.vocabulary).codes)
        text += f" Codes (vocabulary {field.vocabulary}, defined in the vocabularies record set): {codes}."
    return text.strip()


def record_set(contract: Contract, table: Table) -> dict:
    """One table as a Croissant RecordSet: its fields, key and references.

    Example:
        >>> record_set(contract, contract.table("events"))["key"]     # doctest: +SKIP
        {'@id': 'events/event_id'}
    """
    references: dict[str, str] = {}
    self_references: dict[str, str] = {}
    for fk in table.foreign_keys:
        for own, other in zip(fk.fields, fk.reference_fields):
            # mlcroissant (1.1) cannot read a record set that references itself (actors'
            # parent_actor_id): its operation graph gets a cycle. Such a key is described in
            # words instead.
            target = self_references if fk.reference_table == table.name else references
            target.setdefault(own, f"{fk.reference_table}/{other}")
    fields = []
    for f in table.fields:
        entry = {
            "@type": "cr:Field",
            "@id": f"{table.name}/{f.name}",
            "name": f.name,
            "description": _field_description(contract, f) + (
                f" Refers to {self_references[f.name]} (a row of this record set)." if f.name in self_references else ""),
            "dataType": data_type(f),
            "source": {"fileObject": {"@id": file_id(table)}, "extract": {"column": f.name}},
        }
        if f.name in references:
            entry["references"] = {"field": {"@id": references[f.name]}}
        fields.append(entry)
    out = {
        "@type": "cr:RecordSet",
        "@id": table.name,
        "name": table.name,
        "description": table.description,
    }
    if table.primary_key:
        keys = [{"@id": f"{table.name}/{name}"} for name in table.primary_key]
        out["key"] = keys[0] if len(keys) == 1 else keys
    out["field"] = fields
    return out


def croissant(contract: Contract) -> bytes:
    """``croissant.json`` for the package: metadata, CSV files with sha256, a record set per table.

    Example:
        >>> json.loads(croissant(contract))["conformsTo"]      # doctest: +SKIP
        'http://mlcommons.org/croissant/1.0'
    """
    meta = citation_metadata(contract)
    licences = [l["path"] for l in meta.get("licenses", []) if l.get("path")]
    doc = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": CONFORMS_TO,
        "name": meta["name"],
        "alternateName": meta["title"],
        "description": meta["description"],
        "version": meta["version"],
        "datePublished": meta.get("date_released"),
        "license": licences[0] if licences else None,
        "keywords": list(meta.get("keywords", [])),
        "inLanguage": "en",
        "isAccessibleForFree": True,
        "creator": [{"@type": "sc:Organization", "name": name} for name in authors(meta)],
        "citeAs": bibtex(meta),
        "citation": apa(meta),
    }
    if doi_url(meta):
        doc["identifier"] = doi_url(meta)
        doc["sameAs"] = doi_url(meta)
    url = doi_url(meta) or meta.get("repository")
    if url:
        doc["url"] = url
    doc = {k: v for k, v in doc.items() if v is not None}
    distribution = []
    for table in contract.tables.values():
        data = (contract.root / table.path).read_bytes()
        distribution.append({
            "@type": "cr:FileObject",
            "@id": file_id(table),
            "name": table.path,
            "description": f"The {table.name} table as CSV (UTF-8, LF, header row).",
            "contentUrl": table.path,
            "contentSize": f"{len(data)} B",
            "encodingFormat": "text/csv",
            "sha256": hashlib.sha256(data).hexdigest(),
        })
    doc["distribution"] = distribution
    doc["recordSet"] = [record_set(contract, table) for table in contract.tables.values()]
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()


__all__ = ["croissant", "record_set", "data_type", "CONTEXT", "CONFORMS_TO"]
