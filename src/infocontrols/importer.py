"""Add events to the CSV tables from a JSON file of nested records.

A contributor (or a research assistant) writes events in the nested form below; this
module assigns permanent IDs, reuses existing actors (by name or alias), measures (by
name) and sources (by URL), and writes every table back sorted by primary key. It never
deletes or renumbers an existing row.

Nested form (one JSON array of events)::

    {"id"?: "ev-...", "title": ..., "summary": ..., "event_type": ..., "control_domain": ...,
     "date_start": "YYYY-MM-DD", "date_end": ..., "date_precision": ..., "date_basis": ...,
     "country"?: "CN", "admin1": "CN-BJ" or "", "location": ..., "evidence_status": ..., "notes": ...,
     "actors":   [{"name", "name_zh", "actor_type", "role", "country", "aliases"?, "description"?,
                   "wikidata_id"?, "parent"?}],
     "measures": [{"name", "name_zh", "measure_type", "control_domain", "jurisdiction", "authority",
                   "status", "date_announced", "date_effective", "date_ended"?, "relation", "description"}],
     "sources":  [{"url", "title", "outlet", "original_outlet", "outlet_type", "language",
                   "published_on", "stance", "archive_url"?, "notes"?}],
     "figures":  [{"metric", "value", "unit", "qualifier", "source_url", "notes"}]}

Every key of a record is a field of its table (or of its link table: ``role``, ``relation``,
``stance``), with the same name, except ``id``, ``parent``, ``authority`` and ``source_url``,
which link records together; so a column added to a schema can be given here at once.

What `add` does, in this order, so that it never writes part of a change or claims what
did not happen:

1. reads the JSON file (at most :data:`~infocontrols.storage.MAX_INPUT_BYTES`) and checks
   its shape: known keys only, strings where strings belong; every error names the file
   and a JSON path such as ``events[0].actors[1].name``;
2. under the package lock, reads every table as `validate` reads it; a table that cannot
   be parsed refuses the whole batch;
3. builds the whole new state in memory, refusing an event already in the package or twice
   in the file (same title and date_start), an explicit ID that exists or was retired, an
   actor name that only looks like an existing one ("did you mean ac-...?"), a parent
   or authority that names no actor, and a new source whose outlet is not the one
   ``schema/hosts.csv`` gives its host; a host the table does not list yet is added to it as
   the outlet's own site, with a notice to review its kind;
4. validates the new state with the rules `validate` runs (all but STR012, which the build
   settles), reading the new files from memory, and refuses it if anything is an error;
5. writes every changed table at once with :func:`~infocontrols.storage.write_files`.

Every index is built once and kept up to date, so the cost grows linearly with the events.

Example:
    >>> from infocontrols.importer import add_events_from_file
    >>> add_events_from_file(".", "my_events.json", "2026-11-28")          # doctest: +SKIP
    ['ev-2019-03-04-test-regulator-fines-a-platform']
"""
from __future__ import annotations

import csv
import datetime as dt
import difflib
import hashlib
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from . import storage
from .add_format import ASSIGNED
from .contract import Contract, Table
from .ids import content_slug, event_slug
from .lookalike import odd_characters, skeleton

ID_TABLES = {"events": "event_id", "actors": "actor_id", "measures": "measure_id", "sources": "source_id", "figures": "figure_id"}
MAX_PROBLEMS = 50  # errors listed before "+N more"

# The nested form. Every key of a record is a field of its table (same name), except the few
# that link records together; so a column added to a schema is accepted here without a change.
# Fields `add` fills itself are never given (ASSIGNED, defined once with the input's JSON Schema).
LINKING = {  # record kind -> (link table whose other fields the record carries, extra keys)
    "events": (None, ("id",)),
    "actors": ("event_actors", ("parent",)),
    "measures": ("event_measures", ("authority",)),
    "sources": ("event_sources", ()),
    "figures": (None, ("source_url",)),
}
EVENT_LISTS = ("actors", "measures", "sources", "figures")
REQUIRED = {"events": ("title", "date_start"), "actors": ("name",), "measures": ("name",), "sources": ("url",),
            "figures": ("value", "source_url")}


def record_keys(contract: Contract) -> dict[str, dict[str, str]]:
    """For each kind of nested record, its allowed keys and each key's field type.

    Example:
        >>> record_keys(Contract.from_source("."))["sources"]["stance"]          # doctest: +SKIP
        'string'
    """
    out: dict[str, dict[str, str]] = {}
    for kind, (link, extra) in LINKING.items():
        keys = {f.name: f.type for f in contract.table(kind).fields if f.name not in ASSIGNED[kind]}
        if link:
            own = {"event_id", contract.table(kind).primary_key[0]}
            keys.update({f.name: f.type for f in contract.table(link).fields if f.name not in own})
        keys.update({key: "string" for key in extra})
        out[kind] = keys
    return out


@dataclass(frozen=True)
class Problem:
    """One reason the input is refused: where in the input (a JSON path) and why."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class AddError(ValueError):
    """The batch is refused; nothing was written. ``problems`` says where and why."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        shown = [f"{source}: {p}" for p in problems[:MAX_PROBLEMS]]
        if len(problems) > MAX_PROBLEMS:
            shown.append(f"+{len(problems) - MAX_PROBLEMS} more")
        super().__init__("\n".join(shown))


@dataclass
class Added:
    """What one `add` wrote (or, with ``dry_run``, would write): the new event IDs, the files,
    warnings about the new rows, the new records by table and the existing ones reused."""

    event_ids: list[str]
    files: list[str]
    warnings: list[str] = field(default_factory=list)
    new: dict[str, list[str]] = field(default_factory=dict)
    reused: dict[str, list[str]] = field(default_factory=dict)
    written: bool = True


def slug(text: str, words: int = 6) -> str:
    """Lowercase ASCII slug of the first ``words`` words; '' when nothing ASCII is left.

    Example:
        >>> slug("CAC summons 'self-media' platforms")
        'cac-summons-self-media-platforms'
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    parts = re.findall(r"[a-z0-9]+", ascii_text.lower())
    return "-".join(parts[:words])


def clean(value: object) -> str:
    """NFC text on one line without surrounding whitespace.

    Example:
        >>> clean("  two\\n lines ")
        'two lines'
    """
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    return re.sub(r"\s+", " ", text).strip()


# ---------------------------------------------------------------- the input's shape
def _type_name(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def check_shape(events: object, keys: dict[str, dict[str, str]], contract: Contract | None = None) -> list[Problem]:
    """Every problem with the shape of the nested records, each with its JSON path.

    ``keys`` is :func:`record_keys` of the package. With ``contract``, each value is also
    checked against its field: dates are real dates written YYYY-MM-DD, codes are in their
    vocabulary, patterns match; so such a mistake is named by its JSON path, not by a CSV line.

    Example:
        >>> keys = record_keys(Contract.from_source("."))                          # doctest: +SKIP
        >>> [str(p) for p in check_shape([{"title": "t", "date_start": "2019-01-01", "actors": "x"}], keys)]   # doctest: +SKIP
        ['events[0].actors: must be a list of objects, not a string']
    """
    if not isinstance(events, list):
        return [Problem("events", f"the file must hold a JSON array of events, not {_type_name(events)}")]
    problems: list[Problem] = []
    for i, event in enumerate(events):
        at = f"events[{i}]"
        if not isinstance(event, dict):
            problems.append(Problem(at, f"every event must be an object, not {_type_name(event)}"))
            continue
        problems += _check_record({k: v for k, v in event.items() if k not in EVENT_LISTS}, at, keys["events"], "events", contract)
        for name in EVENT_LISTS:
            items = event.get(name, [])
            if items is None:
                continue
            if not isinstance(items, list):
                problems.append(Problem(f"{at}.{name}", f"must be a list of objects, not {_type_name(items)}"))
                continue
            for j, item in enumerate(items):
                where = f"{at}.{name}[{j}]"
                if not isinstance(item, dict):
                    problems.append(Problem(where, f"must be an object, not {_type_name(item)}"))
                    continue
                problems += _check_record(item, where, keys[name], name, contract)
    return problems


def _check_record(record: dict, at: str, keys: dict[str, str], kind: str, contract: Contract | None = None) -> list[Problem]:
    problems = []
    fields = _input_fields(contract, kind) if contract is not None else {}
    allowed = list(keys) + (list(EVENT_LISTS) if kind == "events" else [])
    for key, value in record.items():
        if key not in keys:
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; known keys: {', '.join(allowed)}"
            problems.append(Problem(f"{at}.{key}", f"unknown key{hint}"))
        elif keys[key] in ("number", "integer"):
            if not (value is None or isinstance(value, str) or (isinstance(value, (int, float)) and not isinstance(value, bool))):
                problems.append(Problem(f"{at}.{key}", f"must be a number (or a string holding one), not {_type_name(value)}"))
        elif value is not None and not isinstance(value, str):
            problems.append(Problem(f"{at}.{key}", f"must be a string, not {_type_name(value)}"))
        elif key in fields and clean(value):
            message = _value_problem(contract, fields[key], clean(value))
            if message:
                problems.append(Problem(f"{at}.{key}", message))
    for key in REQUIRED[kind]:
        value = record.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            problems.append(Problem(f"{at}.{key}", "is required"))
    return problems


def _input_fields(contract: Contract, kind: str) -> dict:
    """The fields of the record's table (and of its link table) that the input gives directly."""
    link = LINKING[kind][0]
    out = {f.name: f for f in contract.table(kind).fields if f.name not in ASSIGNED[kind]}
    if link:
        out.update({f.name: f for f in contract.table(link).fields if f.name not in out and not f.name.endswith("_id")})
    return out


def _value_problem(contract: Contract, f, value: str) -> str | None:
    """Why ``value`` cannot be a value of field ``f``, or None (the same checks `validate` makes)."""
    from .validation.constraints import did_you_mean

    if f.type == "date":
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise ValueError
            dt.date.fromisoformat(value)
        except ValueError:
            return f"{value!r} is not a real date written YYYY-MM-DD (rule DATE001)"
        return None
    if f.vocabulary and f.vocabulary in contract.vocabularies:
        codes = contract.vocabulary(f.vocabulary).codes
        if value not in codes:
            return f"{value!r} is not in vocabulary {f.vocabulary}{did_you_mean(value, codes)} (rule VOC001)"
        return None
    if f.pattern and f.type == "string" and not re.fullmatch(f.pattern, value):
        return f"{value!r} does not match the pattern {f.pattern} (rule PAT001)"
    return None


def _number_text(value: object) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer():
        return str(int(value))
    return clean(value)


def _row(table: Table, spec: dict, **assigned: str) -> dict:
    """A new row of ``table``: every field the record gives (cleaned), then what `add` assigns."""
    row = {f.name: (_number_text(spec.get(f.name)) if f.type in ("number", "integer") else clean(spec.get(f.name)))
           for f in table.fields}
    row.update(assigned)
    return row


# ---------------------------------------------------------------- the package in memory
def _describe_findings(findings, n: int = 5) -> str:
    return "; ".join(f"{f.file}:{f.line}: {f.message} [rule {f.rule}]" for f in findings[:n])


class Tables:
    """The package's CSV tables in memory, with the indexes `add` needs, each built once.

    Rows are dicts of the table's fields; ``_line`` keeps the original line of an unchanged
    row (so that writing it back changes no byte) and ``_origin`` the JSON path of the input
    that made or changed it.
    """

    def __init__(self, contract: Contract):
        from .validation.structure import read_table

        self.contract = contract
        self.rows: dict[str, list[dict]] = {}
        self.headers: dict[str, bytes] = {}
        self.changed: set[str] = set()
        for name, table in contract.tables.items():
            parsed = read_table(contract, table)
            errors = [f for f in parsed.findings if f.severity == "error" and f.rule.startswith("STR")]
            if parsed.raw is None or errors:
                raise AddError(table.path, [Problem("", "the package must be readable before anything is added: "
                                                    f"{_describe_findings(errors or parsed.findings)}; run `infocontrols validate` and fix it")])
            data = storage.read_bytes(contract.root, table.path)
            if hashlib.sha256(data).hexdigest() != parsed.sha256:  # edited by hand meanwhile: the lock binds only us
                raise AddError(table.path, [Problem("", "changed while it was being read; nothing was added, try again")])
            lines = data.split(b"\n")
            self.headers[name] = lines[0]
            raw = parsed.raw
            rows = []
            for values, line in zip(raw.iter_rows(), lines[1:1 + raw.height]):
                row = {k: ("" if v is None else v) for k, v in zip(raw.columns, values)}
                row["_line"] = line
                rows.append(row)
            self.rows[name] = rows
        self.ids = {name: {r[key] for r in self.rows[name]} for name, key in ID_TABLES.items()}
        self.retired = {r["retired_id"] for r in self.rows.get("retired_ids", [])}
        self.ids_taken = set().union(*self.ids.values()) | self.retired
        self.by_id = {name: {r[key]: r for r in self.rows[name]} for name, key in ID_TABLES.items()}
        self.actor_by_name: dict[str, str] = {}
        self.actor_by_skeleton: dict[str, tuple[str, str]] = {}
        for r in self.rows["actors"]:
            self._index_actor(r)
        self.measure_by_name = {r["name"].casefold(): r["measure_id"] for r in self.rows["measures"]}
        self.source_by_url = {r["url"]: r["source_id"] for r in self.rows["sources"]}
        # schema/hosts.csv: host -> (outlet, kind); None for a package without a hosts table.
        self.hosts = {r["host"]: (r["outlet"], r["kind"]) for r in self.rows["hosts"]} if "hosts" in self.rows else None
        self.event_by_key = {(clean(r["title"]).casefold(), r["date_start"]): r["event_id"] for r in self.rows["events"]}
        self.actor_links = {(r["event_id"], r["actor_id"], r["role"]) for r in self.rows["event_actors"]}
        self.measure_links = {(r["event_id"], r["measure_id"], r["relation"]) for r in self.rows["event_measures"]}
        self.source_links: dict[str, dict[str, str]] = {}
        for r in self.rows["event_sources"]:
            self.source_links.setdefault(r["event_id"], {})[r["source_id"]] = r["stance"]
        self.figure_count: dict[str, int] = {}
        for r in self.rows["figures"]:
            self.figure_count[r["event_id"]] = self.figure_count.get(r["event_id"], 0) + 1

    def _index_actor(self, row: dict) -> None:
        for name in [row["name"], *row.get("aliases", "").split(" | ")]:
            name = clean(name)
            if name:
                self.actor_by_name.setdefault(name.casefold(), row["actor_id"])
                self.actor_by_skeleton.setdefault(skeleton(name), (row["actor_id"], name))

    def table(self, name: str) -> Table:
        return self.contract.table(name)

    def append(self, table: str, row: dict, origin: str) -> dict:
        row["_origin"] = origin
        row["_appended"] = True
        self.rows[table].append(row)
        self.changed.add(table)
        return row

    def touch(self, table: str, row: dict, origin: str) -> None:
        """Mark an existing row as changed: it is written anew, not copied."""
        row.pop("_line", None)
        row.setdefault("_origin", origin)
        self.changed.add(table)

    def new_id(self, prefix: str, base: str, fallback: str) -> str:
        stem = f"{prefix}-{base or hashlib.sha1(fallback.encode()).hexdigest()[:8]}"
        candidate, n = stem, 2
        while candidate in self.ids_taken:
            candidate, n = f"{stem}-{n}", n + 1
        self.ids_taken.add(candidate)
        return candidate

    def sorted_rows(self, name: str) -> list[dict]:
        key = self.contract.table(name).sort_key
        return sorted(self.rows[name], key=lambda r: tuple(r.get(k, "") for k in key))

    def files(self) -> dict[str, bytes]:
        """The bytes of every changed table, rows sorted by key; unchanged rows byte for byte."""
        out = {}
        for name in sorted(self.changed):
            table = self.contract.table(name)
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=table.field_names, lineterminator="\n", extrasaction="ignore")
            parts = [self.headers[name]]
            for row in self.sorted_rows(name):
                if "_line" in row:
                    parts.append(row["_line"])
                else:
                    buffer.seek(0)
                    buffer.truncate()
                    writer.writerow({k: row.get(k, "") for k in table.field_names})
                    parts.append(buffer.getvalue().rstrip("\n").encode())
            out[table.path] = b"\n".join(parts) + b"\n"
        return out

    def new_records(self) -> dict[str, list[str]]:
        """The keys of the rows this input adds, by table (IDs for ID tables)."""
        out: dict[str, list[str]] = {}
        for name in sorted(self.changed):
            key = self.contract.table(name).primary_key
            made = [",".join(r.get(k, "") for k in key) for r in self.rows[name] if r.get("_appended")]
            if made:
                out[name] = made
        return out

    def origins(self) -> dict[tuple[str, int], str]:
        """(file, line) of every row the input made or changed -> its JSON path."""
        out = {}
        for name in self.changed:
            path = self.contract.table(name).path
            for index, row in enumerate(self.sorted_rows(name)):
                if row.get("_origin"):
                    out[(path, index + 2)] = row["_origin"]
        return out


# ---------------------------------------------------------------- records
class Batch:
    """One `add`: the tables, the problems found so far and the parents still to resolve."""

    def __init__(self, tables: Tables, accessed_on: str, country: str):
        self.tables = tables
        self.accessed_on = accessed_on
        self.country = country
        self.problems: list[Problem] = []
        self.reused: dict[str, list[str]] = {}
        self.parents: list[tuple[str, str, str]] = []  # (actor_id, parent name, JSON path)
        self.notices: list[str] = []  # what the input made that a reviewer should look at (new hosts)

    def refuse(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message))

    def note_reuse(self, table: str, record_id: str) -> None:
        """Remember an existing record the input reuses (for --dry-run's report)."""
        if record_id in self.tables.ids.get(table, set()):
            listed = self.reused.setdefault(table, [])
            if record_id not in listed:
                listed.append(record_id)

    def actor_named(self, name: str, where: str, *, what: str = "actor") -> str | None:
        """The actor called ``name`` (name, alias or ID), or None with a problem recorded."""
        t = self.tables
        name = clean(name)
        if name in t.by_id["actors"]:
            return name
        if name.casefold() in t.actor_by_name:
            return t.actor_by_name[name.casefold()]
        lookalike = t.actor_by_skeleton.get(skeleton(name))
        if lookalike:
            self.refuse(where, _lookalike_message(name, *lookalike))
            return None
        close = difflib.get_close_matches(name.casefold(), list(t.actor_by_name), n=1, cutoff=0.8)
        hint = f" (did you mean {t.actor_by_name[close[0]]}?)" if close else ""
        self.refuse(where, f"no {what} named {name!r} in the package or in this file{hint}")
        return None

    def actor(self, spec: dict, where: str) -> str | None:
        t = self.tables
        name = clean(spec["name"])
        if name.casefold() in t.actor_by_name:
            actor_id = t.actor_by_name[name.casefold()]
            self.note_reuse("actors", actor_id)
            row = t.by_id["actors"][actor_id]
            for key in ("name_zh", "description", "aliases", "wikidata_id"):
                if not row.get(key) and spec.get(key):
                    row[key] = clean(spec[key])
                    t.touch("actors", row, where)
        else:
            lookalike = t.actor_by_skeleton.get(skeleton(name))
            if lookalike:
                self.refuse(f"{where}.name", _lookalike_message(name, *lookalike))
                return None
            actor_id = t.new_id("ac", content_slug(name), name)
            row = t.append("actors", _row(t.table("actors"), spec, actor_id=actor_id, name=name, parent_actor_id=""), where)
            t.by_id["actors"][actor_id] = row
            t._index_actor(row)
        if spec.get("parent"):
            self.parents.append((actor_id, spec["parent"], f"{where}.parent"))
        return actor_id

    def resolve_parents(self) -> None:
        """Set each actor's parent once every actor of the batch exists; refuse what cannot be."""
        t = self.tables
        for actor_id, parent_name, where in self.parents:
            parent = self.actor_named(parent_name, where, what="parent actor")
            if parent is None:
                continue
            row = t.by_id["actors"][actor_id]
            if parent == actor_id:
                self.refuse(where, f"{actor_id} cannot be its own parent")
            elif row["parent_actor_id"] and row["parent_actor_id"] != parent:
                self.refuse(where, f"{actor_id} already has parent {row['parent_actor_id']}, not {parent}; edit data/actors.csv to change it")
            elif not row["parent_actor_id"]:
                row["parent_actor_id"] = parent
                t.touch("actors", row, where)
        for actor_id, _, where in self.parents:
            seen, current = set(), actor_id
            while current and current not in seen:
                seen.add(current)
                current = t.by_id["actors"].get(current, {}).get("parent_actor_id", "")
            if current == actor_id:
                self.refuse(where, f"{actor_id} would be its own ancestor (the parents form a cycle)")

    def measure(self, spec: dict, where: str) -> str:
        t = self.tables
        name = clean(spec["name"])
        authority = ""
        if spec.get("authority"):
            authority = self.actor_named(spec["authority"], f"{where}.authority", what="authority actor") or ""
        if name.casefold() in t.measure_by_name:
            measure_id = t.measure_by_name[name.casefold()]
            self.note_reuse("measures", measure_id)
            row = t.by_id["measures"][measure_id]
            for key in ("name_zh", "date_announced", "date_effective", "date_ended", "description"):
                if not row.get(key) and spec.get(key):
                    row[key] = clean(spec[key])
                    t.touch("measures", row, where)
            if not row["authority_actor_id"] and authority:
                row["authority_actor_id"] = authority
                t.touch("measures", row, where)
            return measure_id
        measure_id = t.new_id("me", content_slug(name), name)
        row = t.append("measures", _row(
            t.table("measures"), spec, measure_id=measure_id, name=name, authority_actor_id=authority,
            jurisdiction=clean(spec.get("jurisdiction")) or "CN", status=clean(spec.get("status")) or "unknown",
        ), where)
        t.by_id["measures"][measure_id] = row
        t.measure_by_name[name.casefold()] = measure_id
        return measure_id

    def source(self, spec: dict, where: str) -> str:
        t = self.tables
        url = spec["url"].strip()
        if url in t.source_by_url:
            self.note_reuse("sources", t.source_by_url[url])
            return t.source_by_url[url]
        self.check_host(url, spec, where)
        outlet = clean(spec.get("original_outlet")) or clean(spec.get("outlet"))
        date = clean(spec.get("published_on")).replace("-", "")
        base = f"{slug(outlet, 4) or 'source'}-{date or hashlib.sha1(url.encode()).hexdigest()[:6]}"
        source_id = t.new_id("so", base, url)
        t.append("sources", _row(t.table("sources"), spec, source_id=source_id, url=url, accessed_on=self.accessed_on), where)
        t.source_by_url[url] = source_id
        return source_id

    def check_host(self, url: str, spec: dict, where: str) -> None:
        """Refuse a new source whose host schema/hosts.csv does not list, or whose outlet is not the host's."""
        from .hosts import CHECKED_KINDS, HOSTS_FILE, covering_host, url_host

        host = url_host(url)
        if self.tables.hosts is None or host is None:
            return  # no hosts table, or not an http(s) URL: the validator says what is wrong (SRC003)
        listed = covering_host(host, self.tables.hosts)
        if listed is None:
            self.new_host(host, spec, where)
            return
        expected, kind = self.tables.hosts[listed]
        outlet = clean(spec.get("outlet"))
        if kind in CHECKED_KINDS and outlet and outlet != expected:
            self.refuse(f"{where}.outlet", f"outlet {outlet!r} but {HOSTS_FILE} maps host {listed!r} to {expected!r}: "
                                           f"did you mean {expected!r}? (whose text the page carries goes in original_outlet)")

    def new_host(self, host: str, spec: dict, where: str) -> None:
        """List a host schema/hosts.csv does not know yet, as the site of the source's outlet.

        A new host is an outlet's own site until a reviewer finds that its pages copy other
        outlets' text; the notice `add` prints says so, and the row shows in `infocontrols diff`.
        """
        from .hosts import HOSTS_FILE, HOSTS_TABLE, OUTLET_SITE

        t = self.tables
        outlet = clean(spec.get("outlet"))
        if not outlet:
            self.refuse(f"{where}.outlet", f"is required: host {host!r} is not in {HOSTS_FILE} yet, and add lists it "
                                           "there as the site of this outlet")
            return
        note = (f"Listed by infocontrols add on {self.accessed_on} as {outlet}'s own site; "
                "change kind to copy_site if its pages copy other outlets' text.")
        t.append(HOSTS_TABLE, _row(t.table(HOSTS_TABLE), {}, host=host, outlet=outlet, kind=OUTLET_SITE, note=note), where)
        t.hosts[host] = (outlet, OUTLET_SITE)
        self.notices.append(f"{where}.url: new host {host!r} listed in {HOSTS_FILE} as the site of {outlet!r} "
                            f"(kind {OUTLET_SITE}); if its pages copy other outlets' text, make it copy_site "
                            "and give the source's original_outlet")

    def link(self, event_id: str, spec: dict, at: str) -> dict[str, str]:
        """Attach the actors, measures, sources and figures of ``spec`` to ``event_id``.

        Returns the event's source URLs (of this input) with their source IDs, and rewrites
        citations by URL (``[https://...]``) in the link notes and figure notes into IDs.
        """
        t = self.tables
        for j, a in enumerate(spec.get("actors") or []):
            where = f"{at}.actors[{j}]"
            actor_id = self.actor(a, where)
            key = (event_id, actor_id, clean(a.get("role")))
            if actor_id and key not in t.actor_links:
                t.actor_links.add(key)
                t.append("event_actors", _row(t.table("event_actors"), a, event_id=event_id, actor_id=actor_id), where)
        for j, m in enumerate(spec.get("measures") or []):
            where = f"{at}.measures[{j}]"
            measure_id = self.measure(m, where)
            key = (event_id, measure_id, clean(m.get("relation")))
            if key not in t.measure_links:
                t.measure_links.add(key)
                t.append("event_measures", _row(t.table("event_measures"), m, event_id=event_id, measure_id=measure_id), where)
        linked = t.source_links.setdefault(event_id, {})
        urls: dict[str, str] = {}
        noted: list[tuple[str, dict]] = []  # rows of this input whose notes may cite by URL
        for j, s in enumerate(spec.get("sources") or []):
            where = f"{at}.sources[{j}]"
            source_id = self.source(s, where)
            urls[s["url"].strip()] = source_id
            if source_id not in linked:
                linked[source_id] = clean(s.get("stance")) or "supports"
                noted.append(("note", t.append("event_sources", _row(t.table("event_sources"), s, event_id=event_id, source_id=source_id, stance=linked[source_id]), where)))
        for j, f in enumerate(spec.get("figures") or []):
            where = f"{at}.figures[{j}]"
            url = f["source_url"].strip()
            source_id = urls.get(url) or t.source_by_url.get(url)
            if source_id is None:
                self.refuse(f"{where}.source_url", f"{url!r} is not among the event's sources or the package's")
                continue
            n = t.figure_count[event_id] = t.figure_count.get(event_id, 0) + 1
            figure_id = t.new_id("fi", f"{event_id[3:]}-{n}", f"{event_id}{n}")
            noted.append(("notes", t.append("figures", _row(t.table("figures"), f, figure_id=figure_id, event_id=event_id, source_id=source_id), where)))
        for column, row in noted:
            if row.get(column):
                row[column] = self.cite(row[column], urls, f"{row['_origin']}.{column}")
        return urls

    def cite(self, text: str, urls: dict[str, str], where: str) -> str:
        """``text`` with each citation by URL (``[https://a; https://b]``) turned into source IDs.

        A cited URL must be one of the event's sources; otherwise the input is refused.
        """
        def replace(match: re.Match) -> str:
            ids = []
            for url in re.split(r"\s*;\s*", match.group(1).strip()):
                if url.startswith("so-"):
                    ids.append(url)
                elif url in urls:
                    ids.append(urls[url])
                else:
                    self.refuse(where, f"cites {url!r}, which is not among this event's sources; cite a source of the event by its URL or ID")
                    ids.append(url)
            return "[" + "; ".join(ids) + "]"

        return re.sub(r"\[((?:https?://|so-)[^\]]*)\]", replace, text)

    def event(self, spec: dict, at: str) -> str | None:
        t = self.tables
        title, date_start = clean(spec["title"]), clean(spec["date_start"])
        key = (title.casefold(), date_start)
        if key in t.event_by_key:
            self.refuse(at, f"the same event (title {title!r}, date_start {date_start}) is already {_where_event(t, t.event_by_key[key])}")
            return None
        explicit = clean(spec.get("id")) if spec.get("id") is not None else ""
        if explicit:
            if explicit in t.retired:
                self.refuse(f"{at}.id", f"{explicit} was retired (see data/retired_ids.csv) and may not be used again; IDs are permanent")
                return None
            if explicit in t.ids_taken:
                self.refuse(f"{at}.id", f"{explicit} already exists; IDs are permanent, choose another")
                return None
            event_id = explicit
            t.ids_taken.add(event_id)
        else:
            event_id = t.new_id("ev", f"{date_start}-{event_slug(title)}", title)
        t.ids["events"].add(event_id)
        t.event_by_key[key] = event_id
        t.append("events", _row(
            t.table("events"), spec, event_id=event_id, title=title, date_start=date_start,
            date_end=clean(spec.get("date_end")) or date_start, country=clean(spec.get("country")) or self.country,
        ), at)
        row = t.by_id["events"][event_id] = t.rows["events"][-1]
        urls = self.link(event_id, spec, at)
        for column in ("summary", "notes"):
            if row.get(column):
                row[column] = self.cite(row[column], urls, f"{at}.{column}")
        return event_id

    def derive_statuses(self) -> None:
        """Give each new event that names no evidence_status the one its sources earn."""
        from .evidence import derive_status, unattributed_copies

        t = self.tables
        pending = {r["event_id"] for r in t.rows["events"] if "_origin" in r and not r.get("evidence_status")}
        if not pending:
            return
        import polars as pl

        def frame(name: str, columns: list[str]) -> pl.DataFrame:
            return pl.DataFrame({c: [r.get(c) or None for r in t.rows[name]] for c in columns}, schema={c: pl.String for c in columns})

        links = frame("event_sources", ["event_id", "source_id", "stance", "note"]).filter(pl.col("event_id").is_in(list(pending)))
        hosts = frame("hosts", ["host", "outlet", "kind"]) if "hosts" in t.rows else None
        sources = frame("sources", ["source_id", "url", "outlet", "original_outlet", "outlet_type"])
        unknown = unattributed_copies(sources, hosts)
        derived = dict(derive_status(links, sources, unknown).select("event_id", "derived").iter_rows())
        for event_id in pending:
            if event_id in derived:
                t.by_id["events"][event_id]["evidence_status"] = derived[event_id]


def _where_event(tables: Tables, event_id: str) -> str:
    row = tables.by_id["events"].get(event_id, {})
    return f"in this file as {row.get('_origin')} ({event_id})" if row.get("_origin") else f"in the package as {event_id}"


def _lookalike_message(name: str, actor_id: str, existing: str) -> str:
    odd = odd_characters(name)
    return (f"{name!r} looks like the existing actor {existing!r} but is written differently"
            + (f" ({odd})" if odd else "") + f"; did you mean {actor_id}? Write its name exactly as {existing!r}")


# ---------------------------------------------------------------- the command
def _given_keys(tables: Tables, where: str, file: str) -> set[str]:
    """Keys the input record at ``where`` gives directly for rows of ``file`` (not assigned by add)."""
    kind = re.sub(r"\[\d+\]$", "", where.rsplit(".", 1)[-1])
    kind = "events" if kind.startswith("events") else kind
    tables_of_kind = {kind, LINKING.get(kind, (None,))[0]}
    names = [name for name in tables_of_kind if name and tables.table(name).path == file]
    return {f.name for name in names for f in tables.table(name).fields if f.name not in ASSIGNED.get(name, set()) and not (name != kind and f.name.endswith("_id"))}


def _check_new_state(contract: Contract, tables: Tables, files: dict[str, bytes], source: str) -> list[str]:
    """Validate the state about to be written with `validate`'s rules; refuse it on any error.

    Returns the warnings that concern the input's rows.
    """
    from .validation import validate_contract

    with storage.overlay(contract.root, files):
        report = validate_contract(contract, generated=False)
    origins = tables.origins()

    def located(f) -> str:
        """The input's JSON path when the finding is about a value the input gave, else the CSV place."""
        where = origins.get((f.file, f.line))
        if where and f.column and f.column in _given_keys(tables, where, f.file):
            return f"{where}.{f.column}: {f.message} [rule {f.rule}]"
        place = f"{f.file}:{f.line}" + (f": {f.column}" if f.column else "")
        return f"{where}: {place}: {f.message} [rule {f.rule}]" if where else f"{place}: {f.message} [rule {f.rule}]"

    if report.ok:
        return [located(f) for f in report.warnings if (f.file, f.line) in origins]
    current = validate_contract(contract, generated=False)
    if not current.ok:
        raise AddError(source, [Problem("", f"the package already fails validation ({current.summary()}); "
                                            "run `infocontrols validate` and fix it first")]
                       + [Problem("", f"{f.file}:{f.line}: {f.message} [rule {f.rule}]") for f in current.errors[:10]])
    raise AddError(source, [Problem("", located(f)) for f in report.errors])


def add_events(root: str | Path, events: list[dict], accessed_on: str, country: str = "CN", *, source: str = "events") -> list[str]:
    """Add ``events`` (nested form) to the package at ``root``; return the new event IDs.

    Raises :class:`AddError` (nothing written) when the input or the state it would lead to
    is refused, and :class:`~infocontrols.storage.StorageError` when a file cannot be
    read or written (the message says whether anything was written).

    Example:
        >>> add_events(".", [{"title": "...", "date_start": "2019-03-04", ...}], "2026-11-28")   # doctest: +SKIP
        ['ev-2019-03-04-...']
    """
    return add(root, events, accessed_on, country, source=source).event_ids


def add(root: str | Path, events: object, accessed_on: str, country: str = "CN", *, source: str = "events",
        dry_run: bool = False) -> Added:
    """Check, build, validate and write one batch; see the module docstring for the order.

    With ``dry_run``, do everything but write: the result says which records would be new
    and which existing ones would be reused, and ``written`` is False.

    Example:
        >>> add(".", events, "2026-11-28").files                                   # doctest: +SKIP
        ['data/actors.csv', 'data/event_actors.csv', 'data/events.csv', ...]
    """
    try:
        dt.date.fromisoformat(accessed_on)
    except (TypeError, ValueError):
        raise AddError(source, [Problem("--accessed-on", f"{accessed_on!r} is not a date written YYYY-MM-DD")]) from None
    root = Path(root)
    contract = Contract.from_source(root)
    problems = check_shape(events, record_keys(contract), contract)
    if problems:
        raise AddError(source, problems)
    with storage.package_lock(root):
        contract = Contract.from_source(root)
        tables = Tables(contract)
        batch = Batch(tables, accessed_on, country)
        added = [batch.event(spec, f"events[{i}]") for i, spec in enumerate(events)]
        batch.resolve_parents()
        batch.derive_statuses()
        if batch.problems:
            raise AddError(source, batch.problems)
        files = tables.files()
        warnings = batch.notices + _check_new_state(contract, tables, files, source)
        new = tables.new_records()
        if dry_run:
            return Added([a for a in added if a], sorted(files), warnings, new, batch.reused, written=False)
        written = storage.write_files(root, files)
    return Added([a for a in added if a], written, warnings, new, batch.reused)


def extend_event(root: str | Path, event_id: str, spec: dict, accessed_on: str, *, source: str = "event") -> Added:
    """Add more actors, measures, sources and figures to an existing event, as `add` would.

    Example:
        >>> extend_event(".", "ev-2018-11-14-cac-summons-self-media-platforms", {"sources": [...]}, "2026-11-28")  # doctest: +SKIP
    """
    root = Path(root)
    contract = Contract.from_source(root)
    problems = check_shape([dict(spec, title="-", date_start="2000-01-01")], record_keys(contract), contract)
    if problems:
        raise AddError(source, [Problem(p.where.replace("events[0]", "event"), p.message) for p in problems])
    with storage.package_lock(root):
        contract = Contract.from_source(root)
        tables = Tables(contract)
        if event_id not in tables.ids["events"]:
            raise AddError(source, [Problem("", f"no event {event_id} in the package")])
        batch = Batch(tables, accessed_on, "CN")
        batch.link(event_id, spec, "event")
        batch.resolve_parents()
        if batch.problems:
            raise AddError(source, batch.problems)
        files = tables.files()
        warnings = _check_new_state(contract, tables, files, source)
        written = storage.write_files(root, files)
    return Added([], written, warnings)


def read_events(path: str | Path) -> object:
    """The JSON value in the file at ``path``; :class:`AddError` naming the file if it is not JSON.

    Example:
        >>> read_events("my_events.json")[0]["title"]                             # doctest: +SKIP
        'Test regulator fines a platform'
    """
    name = Path(path).name
    try:
        data = storage.read_input(path)
    except storage.StorageError as exc:
        raise AddError(name, [Problem("", exc.reason)]) from None
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise AddError(name, [Problem("", f"not UTF-8 text (byte {exc.start:,}); save it as UTF-8")]) from None
    except json.JSONDecodeError as exc:
        raise AddError(name, [Problem("", f"line {exc.lineno} column {exc.colno}: not valid JSON: {exc.msg}")]) from None
    except RecursionError:
        raise AddError(name, [Problem("", "not usable JSON: nested too deeply (events nest three levels: events, their lists, their records)")]) from None


def add_events_from_file(root: str | Path, path: str | Path, accessed_on: str, *, dry_run: bool = False) -> Added:
    """Read a JSON array of nested events from ``path`` and add them.

    Example:
        >>> add_events_from_file(".", "my_events.json", "2026-11-28").event_ids    # doctest: +SKIP
        ['ev-2019-03-04-test-regulator-fines-a-platform']
    """
    return add(root, read_events(path), accessed_on, source=Path(path).name, dry_run=dry_run)
