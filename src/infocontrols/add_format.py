"""The input format of `infocontrols add`, as a JSON Schema generated from the Table Schemas.

A contributor writes new events as nested records: each event with its actors, measures,
sources and figures. Every field of a nested record is a field of a table (same name, same
type, same vocabulary, same pattern), so the format is derived from ``schema/`` and can never
drift from it; the build writes it to ``docs/add-events.schema.json`` and `add` checks every
input against it before anything else.

The few keys that are not table fields link the records together:

- an event may give its own ``id``; its ``evidence_status`` may be left out (it is derived
  from its sources);
- an actor has the ``role`` it plays in the event and may name a ``parent`` actor;
- a measure has the ``relation`` of the event to it and names its ``authority`` actor;
- a source has its ``stance`` on the event and, for a contradicting one, a ``note``;
- a figure names its source by ``source_url``;
- free text may cite a source of the same event by its URL in brackets (``[https://...]``);
  `add` replaces it with the source's permanent ID (``[so-...]``).

An actor, measure or source that already exists (same name or alias; same name; same URL) is
reused, so the input needs only its name or URL (and its role, relation or stance); a new one
needs every required field of its table.

Example:
    >>> from infocontrols.add_format import input_schema
    >>> schema = input_schema(contract)                       # doctest: +SKIP
    >>> schema["items"]["properties"]["sources"]["items"]["required"]    # doctest: +SKIP
    ['url', 'stance']
"""
from __future__ import annotations

import json

from .contract import Contract, Field, Table

SCHEMA_PATH = "docs/add-events.schema.json"
EXAMPLE_PATH = "docs/examples/add-event.json"

# Table fields that `add` fills itself, so an input never gives them.
ASSIGNED = {
    "events": {"event_id"},
    "actors": {"actor_id", "parent_actor_id"},
    "measures": {"measure_id", "authority_actor_id"},
    "sources": {"source_id", "accessed_on"},
    "figures": {"figure_id", "event_id", "source_id"},
}
# Required table fields that an input may leave out: `add` derives them.
DERIVED = {"events": {"evidence_status", "date_end", "country"}}


def _field_schema(field: Field, contract: Contract) -> dict:
    out: dict = {"description": field.description}
    if field.type == "date":
        out.update(type="string", format="date", pattern=r"^\d{4}-\d{2}-\d{2}$")
    elif field.type == "number":
        out["type"] = "number"
    elif field.type == "integer":
        out["type"] = "integer"
    else:
        out["type"] = "string"
        out["minLength"] = 1
    if field.pattern and field.type == "string":
        out["pattern"] = field.pattern
    if field.vocabulary and field.vocabulary in contract.vocabularies:
        out["enum"] = list(contract.vocabulary(field.vocabulary).codes)
    if isinstance(field.minimum, (int, float)):
        out["minimum"] = field.minimum
    if isinstance(field.maximum, (int, float)):
        out["maximum"] = field.maximum
    return out


# Records that `add` may reuse from the package (an actor by name, a measure by name, a source
# by URL) need only the key that finds them; `add` asks for the other required fields only when
# the record is new, naming the JSON path of what is missing.
REUSABLE = {"actors": ("name",), "measures": ("name",), "sources": ("url",)}


def _record(table: Table, contract: Contract, extra: dict[str, dict], extra_required: list[str], title: str) -> dict:
    properties, required = {}, []
    for field in table.fields:
        if field.name in ASSIGNED.get(table.name, set()):
            continue
        properties[field.name] = _field_schema(field, contract)
        reusable = table.name in REUSABLE and field.name not in REUSABLE[table.name]
        if field.required and field.name not in DERIVED.get(table.name, set()) and not reusable:
            required.append(field.name)
    properties.update(extra)
    return {
        "title": title,
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": required + extra_required,
    }


def _coded(contract: Contract, table: str, field: str, description: str) -> dict:
    return {**_field_schema(contract.table(table).field(field), contract), "description": description}


def input_schema(contract: Contract) -> dict:
    """The JSON Schema (draft 2020-12) of the input of `infocontrols add`."""
    actor = _record(
        contract.table("actors"), contract,
        {
            "role": _coded(contract, "event_actors", "role", "The actor's part in this event."),
            "parent": {"type": "string", "minLength": 1, "description": "Name (or alias) of the actor this one belongs to; it must exist or be added in the same file."},
        },
        ["role"], "An actor taking part in the event (reused when its name or an alias matches an existing actor)",
    )
    measure = _record(
        contract.table("measures"), contract,
        {
            "relation": _coded(contract, "event_measures", "relation", "How the event relates to the measure."),
            "authority": {"type": "string", "minLength": 1, "description": "Name (or alias) of the actor that issued or runs the measure."},
        },
        ["relation"], "A measure the event concerns (reused when its name matches an existing measure)",
    )
    source = _record(
        contract.table("sources"), contract,
        {
            "stance": _coded(contract, "event_sources", "stance", "Whether the source supports the event, contradicts it or gives context."),
            "note": {**_field_schema(contract.table("event_sources").field("note"), contract)},
        },
        ["stance"], "A published page that reports the event (reused when its URL matches an existing source)",
    )
    figure = _record(
        contract.table("figures"), contract,
        {"source_url": {"type": "string", "minLength": 1, "description": "URL of the source (among this event's sources) that states the number."}},
        ["source_url"], "A number one source states about the event",
    )
    event = _record(
        contract.table("events"), contract,
        {
            "id": {**_field_schema(contract.table("events").field("event_id"), contract), "description": "Optional: the event's permanent ID; by default add makes one from date_start and the title."},
            "actors": {"type": "array", "items": actor},
            "measures": {"type": "array", "items": measure},
            "sources": {"type": "array", "items": source, "minItems": 1},
            "figures": {"type": "array", "items": figure},
        },
        ["sources"], "A new event with its actors, measures, sources and figures",
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Input of `infocontrols add`: a JSON array of new events",
        "description": "Generated by `infocontrols build` from schema/; do not edit by hand. See docs/data-model.md and CONTRIBUTING.md.",
        "type": "array",
        "minItems": 1,
        "items": event,
    }


def input_schema_bytes(contract: Contract) -> bytes:
    """The schema as the build writes it: sorted keys would hide field order, so none."""
    return (json.dumps(input_schema(contract), indent=2, ensure_ascii=False) + "\n").encode()


__all__ = ["input_schema", "input_schema_bytes", "SCHEMA_PATH", "EXAMPLE_PATH"]
