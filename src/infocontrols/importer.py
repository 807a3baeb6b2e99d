"""Add events to the CSV tables from a JSON file of nested records.

A contributor (or a research assistant) writes events in the nested form below; this
module assigns permanent IDs, reuses existing actors (by name or alias), measures (by
name) and sources (by URL), and writes every table back sorted by primary key. It never
deletes or renumbers an existing row, and it refuses an event whose ID already exists.

Nested form (one JSON array of events)::

    {"title": ..., "summary": ..., "event_type": ..., "control_domain": ...,
     "date_start": "YYYY-MM-DD", "date_end": ..., "date_precision": ..., "date_basis": ...,
     "admin1": "CN-BJ" or "", "location": ..., "evidence_status": ..., "notes": ...,
     "actors":   [{"name", "name_zh", "actor_type", "role", "country", "aliases"?, "description"?, "parent"?}],
     "measures": [{"name", "name_zh", "measure_type", "control_domain", "jurisdiction", "authority",
                   "status", "date_announced", "date_effective", "date_ended"?, "relation", "description"}],
     "sources":  [{"url", "title", "outlet", "original_outlet", "outlet_type", "language",
                   "published_on", "stance", "notes"?}],
     "figures":  [{"metric", "value", "unit", "qualifier", "source_url", "notes"}]}

Run ``infocontrols validate`` afterwards: the importer checks nothing the validator checks.
"""
from __future__ import annotations

import csv
import hashlib
import json
import re
import unicodedata
from pathlib import Path

from .contract import Contract
from .ids import content_slug, event_slug

ID_TABLES = {"events": "event_id", "actors": "actor_id", "measures": "measure_id", "sources": "source_id", "figures": "figure_id"}


def slug(text: str, words: int = 6) -> str:
    """Lowercase ASCII slug of the first ``words`` words; '' when nothing ASCII is left."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    parts = re.findall(r"[a-z0-9]+", ascii_text.lower())
    return "-".join(parts[:words])


def clean(value: object) -> str:
    """NFC text on one line without surrounding whitespace."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    return re.sub(r"\s+", " ", text).strip()


class Tables:
    """The package's CSV tables held in memory as lists of dicts."""

    def __init__(self, contract: Contract):
        self.contract = contract
        self.rows: dict[str, list[dict]] = {}
        for name, table in contract.tables.items():
            path = contract.root / table.path
            with path.open(encoding="utf-8", newline="") as handle:
                self.rows[name] = list(csv.DictReader(handle))
        self.ids = {name: {r[key] for r in self.rows[name]} for name, key in ID_TABLES.items()}
        self.ids_taken = set().union(*self.ids.values()) | {r["retired_id"] for r in self.rows.get("retired_ids", [])}
        self.actor_by_name: dict[str, str] = {}
        for r in self.rows["actors"]:
            for name in [r["name"], *r.get("aliases", "").split(" | ")]:
                if name.strip():
                    self.actor_by_name.setdefault(name.strip().lower(), r["actor_id"])
        self.measure_by_name = {r["name"].lower(): r["measure_id"] for r in self.rows["measures"]}
        self.source_by_url = {r["url"]: r["source_id"] for r in self.rows["sources"]}

    def new_id(self, prefix: str, base: str, fallback: str) -> str:
        stem = f"{prefix}-{base or hashlib.sha1(fallback.encode()).hexdigest()[:8]}"
        candidate, n = stem, 2
        while candidate in self.ids_taken:
            candidate, n = f"{stem}-{n}", n + 1
        self.ids_taken.add(candidate)
        return candidate

    def write(self) -> None:
        for name, table in self.contract.tables.items():
            if name == "vocabularies":
                continue
            rows = sorted(self.rows[name], key=lambda r: tuple(r[k] for k in table.primary_key))
            path = self.contract.root / table.path
            with path.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=table.field_names, lineterminator="\n")
                writer.writeheader()
                writer.writerows({k: row.get(k, "") for k in table.field_names} for row in rows)


def _actor(tables: Tables, spec: dict) -> str:
    name = clean(spec["name"])
    key = name.lower()
    if key in tables.actor_by_name:
        actor_id = tables.actor_by_name[key]
        row = next(r for r in tables.rows["actors"] if r["actor_id"] == actor_id)
        for field in ("name_zh", "description", "aliases", "wikidata_id"):
            if not row.get(field) and spec.get(field):
                row[field] = clean(spec[field])
        return actor_id
    actor_id = tables.new_id("ac", content_slug(name), name)
    tables.rows["actors"].append({
        "actor_id": actor_id, "name": name, "name_zh": clean(spec.get("name_zh")),
        "actor_type": clean(spec.get("actor_type")), "country": clean(spec.get("country")),
        "parent_actor_id": "", "wikidata_id": clean(spec.get("wikidata_id")),
        "aliases": clean(spec.get("aliases")), "description": clean(spec.get("description")),
    })
    tables.actor_by_name[key] = actor_id
    for alias in clean(spec.get("aliases")).split(" | "):
        if alias:
            tables.actor_by_name.setdefault(alias.lower(), actor_id)
    return actor_id


def _measure(tables: Tables, spec: dict) -> str:
    name = clean(spec["name"])
    authority = tables.actor_by_name.get(clean(spec.get("authority")).lower(), "")
    if name.lower() in tables.measure_by_name:
        measure_id = tables.measure_by_name[name.lower()]
        row = next(r for r in tables.rows["measures"] if r["measure_id"] == measure_id)
        for field in ("name_zh", "date_announced", "date_effective", "date_ended", "description"):
            if not row.get(field) and spec.get(field):
                row[field] = clean(spec[field])
        if not row["authority_actor_id"] and authority:
            row["authority_actor_id"] = authority
        return measure_id
    measure_id = tables.new_id("me", content_slug(name), name)
    tables.rows["measures"].append({
        "measure_id": measure_id, "name": name, "name_zh": clean(spec.get("name_zh")),
        "measure_type": clean(spec.get("measure_type")), "control_domain": clean(spec.get("control_domain")),
        "jurisdiction": clean(spec.get("jurisdiction")) or "CN", "authority_actor_id": authority,
        "status": clean(spec.get("status")) or "unknown", "date_announced": clean(spec.get("date_announced")),
        "date_effective": clean(spec.get("date_effective")), "date_ended": clean(spec.get("date_ended")),
        "description": clean(spec.get("description")),
    })
    tables.measure_by_name[name.lower()] = measure_id
    return measure_id


def _source(tables: Tables, spec: dict, accessed_on: str) -> str:
    url = spec["url"].strip()
    if url in tables.source_by_url:
        return tables.source_by_url[url]
    outlet = clean(spec.get("original_outlet")) or clean(spec.get("outlet"))
    date = clean(spec.get("published_on")).replace("-", "")
    base = f"{slug(outlet, 4) or 'source'}-{date or hashlib.sha1(url.encode()).hexdigest()[:6]}"
    source_id = tables.new_id("so", base, url)
    tables.rows["sources"].append({
        "source_id": source_id, "url": url, "title": clean(spec.get("title")), "outlet": clean(spec.get("outlet")),
        "original_outlet": clean(spec.get("original_outlet")), "outlet_type": clean(spec.get("outlet_type")),
        "language": clean(spec.get("language")), "published_on": clean(spec.get("published_on")),
        "published_on_basis": clean(spec.get("published_on_basis")),
        "accessed_on": accessed_on, "archive_url": "", "notes": clean(spec.get("notes")),
    })
    tables.source_by_url[url] = source_id
    return source_id


def _link(tables: Tables, event_id: str, spec: dict, accessed_on: str) -> None:
    """Attach the actors, measures, sources and figures of ``spec`` to ``event_id``."""
    existing = {(r["event_id"], r["actor_id"], r["role"]) for r in tables.rows["event_actors"]}
    existing |= {(r["event_id"], r["measure_id"], r["relation"]) for r in tables.rows["event_measures"]}
    links = existing
    for a in spec.get("actors", []):
        actor_id = _actor(tables, a)
        key = (event_id, actor_id, clean(a.get("role")))
        if key not in links:
            links.add(key)
            tables.rows["event_actors"].append({"event_id": event_id, "actor_id": actor_id, "role": key[2]})
    for a in spec.get("actors", []):
        parent = tables.actor_by_name.get(clean(a.get("parent")).lower()) if a.get("parent") else None
        if parent:
            row = next(r for r in tables.rows["actors"] if r["actor_id"] == tables.actor_by_name[clean(a["name"]).lower()])
            row["parent_actor_id"] = row["parent_actor_id"] or parent
    for m in spec.get("measures", []):
        measure_id = _measure(tables, m)
        key = (event_id, measure_id, clean(m.get("relation")))
        if key not in links:
            links.add(key)
            tables.rows["event_measures"].append({"event_id": event_id, "measure_id": measure_id, "relation": key[2]})
    linked: dict[str, str] = {r["source_id"]: r["stance"] for r in tables.rows["event_sources"] if r["event_id"] == event_id}
    figures_before = sum(1 for r in tables.rows["figures"] if r["event_id"] == event_id)
    for s in spec.get("sources", []):
        source_id = _source(tables, s, accessed_on)
        if source_id not in linked:
            linked[source_id] = clean(s.get("stance")) or "supports"
            tables.rows["event_sources"].append({"event_id": event_id, "source_id": source_id, "stance": linked[source_id], "note": clean(s.get("note"))})
    for n, f in enumerate(spec.get("figures", []), start=figures_before + 1):
        source_id = tables.source_by_url.get(f["source_url"].strip(), "")
        value = f["value"]
        text = str(int(value)) if isinstance(value, (int, float)) and float(value).is_integer() else str(value)
        tables.rows["figures"].append({
            "figure_id": tables.new_id("fi", f"{event_id[3:]}-{n}", f"{event_id}{n}"),
            "event_id": event_id, "quantity": clean(f.get("quantity")), "metric": clean(f.get("metric")), "value": text, "unit": clean(f.get("unit")),
            "qualifier": clean(f.get("qualifier")), "source_id": source_id, "notes": clean(f.get("notes")),
        })


def add_events(root: str | Path, events: list[dict], accessed_on: str, country: str = "CN") -> list[str]:
    """Add ``events`` (nested form) to the package at ``root``; return the new event IDs."""
    contract = Contract.from_source(root)
    tables = Tables(contract)
    for n, spec in enumerate(events):
        missing = [k for k in ("title", "date_start") if not isinstance(spec, dict) or not spec.get(k)]
        if missing:
            raise ValueError(f"event {n}: missing {', '.join(missing)}")
        for s in spec.get("sources", []):
            if not str(s.get("url", "")).strip():
                raise ValueError(f"event {n} ({spec['title']!r}): a source has no url")
        urls = {str(s.get("url", "")).strip() for s in spec.get("sources", [])} | set(tables.source_by_url)
        for f in spec.get("figures", []):
            if str(f.get("source_url", "")).strip() not in urls:
                raise ValueError(f"event {n} ({spec['title']!r}): figure source_url {f.get('source_url')!r} is not among the sources")
    added = []
    for spec in events:
        title = clean(spec["title"])
        event_id = spec.get("id") or tables.new_id("ev", f"{spec['date_start']}-{event_slug(title)}", title)
        if event_id in tables.ids["events"]:
            raise ValueError(f"event {event_id} already exists; IDs are permanent, choose another")
        tables.ids["events"].add(event_id)
        tables.ids_taken.add(event_id)
        tables.rows["events"].append({
            "event_id": event_id, "title": title, "summary": clean(spec.get("summary")),
            "event_type": clean(spec.get("event_type")), "control_domain": clean(spec.get("control_domain")),
            "date_start": clean(spec.get("date_start")), "date_end": clean(spec.get("date_end")) or clean(spec.get("date_start")),
            "date_precision": clean(spec.get("date_precision")), "date_basis": clean(spec.get("date_basis")),
            "country": clean(spec.get("country")) or country, "admin1": clean(spec.get("admin1")),
            "location": clean(spec.get("location")), "evidence_status": clean(spec.get("evidence_status")),
            "notes": clean(spec.get("notes")),
        })
        _link(tables, event_id, spec, accessed_on)
        added.append(event_id)
    tables.write()
    return added


def extend_event(root: str | Path, event_id: str, spec: dict, accessed_on: str) -> None:
    """Add more actors, measures, sources and figures to an existing event."""
    tables = Tables(Contract.from_source(root))
    if event_id not in tables.ids["events"]:
        raise ValueError(f"no event {event_id}")
    _link(tables, event_id, spec, accessed_on)
    tables.write()


def add_events_from_file(root: str | Path, path: str | Path, accessed_on: str) -> list[str]:
    """Read a JSON array of nested events from ``path`` and add them."""
    events = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(events, list):
        raise ValueError(f"{path}: expected a JSON array of events")
    return add_events(root, events, accessed_on)
