"""The data contract: tables, fields, keys and vocabularies, read once from a package.

A package is a folder holding ``datapackage.json`` (the Frictionless descriptor that the
build generates) or, in a source checkout, ``schema/package.json`` (the hand-written
metadata the descriptor is generated from). Either way each table resource names a CSV
file and a Table Schema file in ``schema/``.

This module imports nothing else of ours, and only the standard library, so that
``import infocontrols`` stays light.

Example:
    >>> from infocontrols.contract import Contract
    >>> contract = Contract.from_source(repo_root)          # doctest: +SKIP
    >>> contract.table("events").primary_key
    ('event_id',)
"""
from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path, PurePosixPath

DESCRIPTOR = "datapackage.json"
SOURCE_METADATA = "schema/package.json"
VOCABULARY_TABLE = "vocabularies"


class ContractError(Exception):
    """The package cannot be read: no descriptor, bad JSON, unsafe path, broken schema."""


@dataclass(frozen=True)
class Field:
    """One column of a table, as its Table Schema declares it."""

    name: str
    type: str
    description: str = ""
    required: bool = False
    unique: bool = False
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    vocabulary: str | None = None
    format: str | None = None

    @property
    def is_text(self) -> bool:
        return self.type == "string"


@dataclass(frozen=True)
class ForeignKey:
    """``fields`` of one table must match ``reference_fields`` of ``reference_table``."""

    fields: tuple[str, ...]
    reference_table: str
    reference_fields: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """One resource: its CSV path, its schema file and what that schema says."""

    name: str
    path: str
    schema_path: str
    title: str
    description: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    sort_key: tuple[str, ...] = ()
    empty_allowed: bool = False

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"table {self.name} has no field {name!r}")

    @property
    def id_prefix(self) -> str | None:
        """The ID prefix ('ev', 'ac', ...) of a table keyed by one ``*_id`` field."""
        if len(self.primary_key) != 1 or not self.primary_key[0].endswith("_id"):
            return None
        pattern = self.field(self.primary_key[0]).pattern or ""
        match = re.match(r"\^([a-z]+)-", pattern)
        return match.group(1) if match else None


@dataclass(frozen=True)
class Vocabulary:
    """A controlled vocabulary: codes in their published order, with labels and definitions."""

    name: str
    codes: tuple[str, ...]
    labels: dict[str, str] = field(default_factory=dict)
    definitions: dict[str, str] = field(default_factory=dict)


def safe_relative_path(path: object, what: str) -> str:
    """Return ``path`` if it is a relative POSIX path that stays inside the package.

    Rejects URLs, absolute paths, backslashes and ``..`` components, so that nothing
    outside the package folder is ever read.
    """
    if not isinstance(path, str) or not path:
        raise ContractError(f"{what}: path must be a non-empty string, got {path!r}")
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", path):
        raise ContractError(f"{what}: path {path!r} is a URL; resources must be files inside the package")
    if "\\" in path or path.startswith("/") or PurePosixPath(path).is_absolute():
        raise ContractError(f"{what}: path {path!r} is absolute; use a path relative to the package folder")
    if ".." in PurePosixPath(path).parts:
        raise ContractError(f"{what}: path {path!r} points outside the package ('..' is not allowed)")
    return path


def _read_json(path: Path, what: str) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContractError(f"{what}: file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(f"{what}: cannot read {path}: {exc}") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ContractError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise ContractError(f"{path}: expected a JSON object at the top level")
    return value


def _parse_field(raw: dict, where: str) -> Field:
    if not isinstance(raw, dict) or "name" not in raw:
        raise ContractError(f"{where}: every field needs a name")
    c = raw.get("constraints", {}) or {}
    return Field(
        name=raw["name"],
        type=raw.get("type", "string"),
        description=raw.get("description", ""),
        required=bool(c.get("required", False)),
        unique=bool(c.get("unique", False)),
        pattern=c.get("pattern"),
        minimum=c.get("minimum"),
        maximum=c.get("maximum"),
        vocabulary=raw.get("vocabulary"),
        format=raw.get("format"),
    )


def _as_tuple(value) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _parse_table(root: Path, resource: dict) -> Table:
    name = resource.get("name")
    if not isinstance(name, str) or not name:
        raise ContractError(f"{DESCRIPTOR}: every resource needs a name")
    path = safe_relative_path(resource.get("path"), f"resource {name}")
    schema_ref = resource.get("schema", f"schema/{name}.json")
    if isinstance(schema_ref, dict):
        schema, schema_path = schema_ref, ""
    else:
        schema_path = safe_relative_path(schema_ref, f"resource {name} schema")
        schema = _read_json(root / schema_path, f"resource {name} schema")
    fields = tuple(_parse_field(f, f"{schema_path or name}") for f in schema.get("fields", []))
    if not fields:
        raise ContractError(f"{schema_path or name}: schema declares no fields")
    foreign_keys = []
    for fk in schema.get("foreignKeys", []):
        ref = fk.get("reference", {})
        foreign_keys.append(
            ForeignKey(
                fields=_as_tuple(fk.get("fields")),
                reference_table=ref.get("resource") or name,
                reference_fields=_as_tuple(ref.get("fields")),
            )
        )
    primary_key = _as_tuple(schema.get("primaryKey"))
    return Table(
        name=name,
        path=path,
        schema_path=schema_path,
        title=schema.get("title", name),
        description=schema.get("description", ""),
        fields=fields,
        primary_key=primary_key,
        foreign_keys=tuple(foreign_keys),
        sort_key=_as_tuple(schema.get("sortKey")) or primary_key,
        empty_allowed=bool(resource.get("emptyAllowed", False)),
    )


@dataclass(frozen=True)
class Contract:
    """Everything the schema says about a package rooted at ``root``."""

    root: Path
    metadata: dict
    tables: dict[str, Table]

    @classmethod
    def from_descriptor(cls, root: str | Path) -> "Contract":
        """Read the package whose ``datapackage.json`` is in ``root``.

        Only the CSV resources are tables; the Parquet copies the build adds are skipped.
        """
        root = Path(root)
        if not root.is_dir():
            raise ContractError(f"{root}: no such package folder")
        descriptor = _read_json(root / DESCRIPTOR, "package descriptor")
        return cls._from_metadata(root, descriptor)

    @classmethod
    def from_source(cls, root: str | Path) -> "Contract":
        """Read the hand-written ``schema/package.json`` of a source checkout."""
        root = Path(root)
        return cls._from_metadata(root, _read_json(root / SOURCE_METADATA, "package metadata"))

    @classmethod
    def _from_metadata(cls, root: Path, metadata: dict) -> "Contract":
        resources = metadata.get("resources")
        if not isinstance(resources, list) or not resources:
            raise ContractError(f"{root / DESCRIPTOR}: 'resources' must be a non-empty list")
        tables: dict[str, Table] = {}
        for resource in resources:
            if not isinstance(resource, dict):
                raise ContractError(f"{root / DESCRIPTOR}: every resource must be an object")
            if resource.get("format", "csv") != "csv":
                continue
            table = _parse_table(root, resource)
            tables[table.name] = table
        if VOCABULARY_TABLE not in tables:
            raise ContractError(f"{root}: the package has no '{VOCABULARY_TABLE}' resource")
        return cls(root=root, metadata=metadata, tables=tables)

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", ""))

    def table(self, name: str) -> Table:
        try:
            return self.tables[name]
        except KeyError:
            raise KeyError(f"no table {name!r}; tables are: {', '.join(self.tables)}") from None

    def csv_path(self, name: str) -> Path:
        return self.root / self.table(name).path

    def parquet_path(self, name: str) -> Path:
        return self.root / "data" / f"{name}.parquet"

    @cached_property
    def vocabularies(self) -> dict[str, Vocabulary]:
        """Every vocabulary, read from the vocabularies table, codes in file order."""
        path = self.csv_path(VOCABULARY_TABLE)
        codes: dict[str, list[str]] = {}
        labels: dict[str, dict[str, str]] = {}
        definitions: dict[str, dict[str, str]] = {}
        try:
            with path.open(encoding="utf-8", newline="") as handle:
                for row in csv.DictReader(handle):
                    name, code = row.get("vocabulary") or "", row.get("code") or ""
                    codes.setdefault(name, []).append(code)
                    labels.setdefault(name, {})[code] = row.get("label") or ""
                    definitions.setdefault(name, {})[code] = row.get("definition") or ""
        except (OSError, UnicodeDecodeError, csv.Error):
            return {}
        return {
            name: Vocabulary(name, tuple(codes[name]), labels[name], definitions[name])
            for name in codes
        }

    def vocabulary(self, name: str) -> Vocabulary:
        try:
            return self.vocabularies[name]
        except KeyError:
            raise KeyError(f"no vocabulary {name!r}; vocabularies are: {', '.join(self.vocabularies)}") from None


BUNDLE = "package"  # folder inside the installed wheel that holds the data package


def default_root() -> Path:
    """The package folder: bundled inside an installed wheel, or the source checkout.

    The wheel carries ``infocontrols/package/`` (datapackage.json, data/, schema/); an
    editable install or a plain checkout uses the repository two levels above this file.
    """
    from importlib.resources import files

    bundled = Path(str(files("infocontrols") / BUNDLE))
    if (bundled / DESCRIPTOR).is_file():
        return bundled
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / DESCRIPTOR).is_file() or (checkout / SOURCE_METADATA).is_file():
        return checkout
    raise ContractError("cannot find the bundled data package; reinstall infocontrols")
