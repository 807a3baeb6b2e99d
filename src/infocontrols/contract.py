"""The data contract: tables, fields, keys and vocabularies, read once from a package.

A package is a folder holding ``datapackage.json`` (the Frictionless descriptor that the
build generates) or, in a source checkout, ``schema/package.json`` (the hand-written
metadata the descriptor is generated from). Either way each table resource names a CSV
file and a Table Schema file in ``schema/``.

Every schema file is checked as it is read: a constraint infocontrols cannot enforce
(an unknown type, a constraint given as a list, a pattern that does not compile, a
non-numeric bound, a key naming a missing field or table) is a :class:`ContractError`
naming the file and the place in it, never a rule silently skipped.

This module imports only the standard library and :mod:`infocontrols.storage` (which reads
every file), so that ``import infocontrols`` stays light.

Example:
    >>> from infocontrols.contract import Contract
    >>> contract = Contract.from_source(repo_root)          # doctest: +SKIP
    >>> contract.table("events").primary_key
    ('event_id',)
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path, PurePosixPath

from . import storage

DESCRIPTOR = "datapackage.json"
SOURCE_METADATA = "schema/package.json"
VOCABULARY_TABLE = "vocabularies"


class ContractError(Exception):
    """The package cannot be read: no descriptor, bad JSON, unsafe path, broken schema.

    ``file`` is the package file at fault (the descriptor or a schema it names) when the
    problem is in one, with ``line`` (1-based, 0 for the whole file) when it is known; both
    are None when no file of the package is to blame (no package folder, no descriptor). The
    validator reports the first kind as a DESC001 finding.
    """

    def __init__(self, message: str, *, file: str | None = None, line: int = 0):
        super().__init__(message)
        self.file = file
        self.line = line

    @property
    def detail(self) -> str:
        """The message without its leading ``file:line: `` (or ``file: ``)."""
        text = str(self)
        for prefix in (f"{self.file}:{self.line}: ", f"{self.file}: "):
            if self.file and text.startswith(prefix):
                return text[len(prefix):]
        return text


def _blame(exc: ContractError, file: str) -> ContractError:
    """``exc``, naming ``file`` as the file at fault unless it already names one."""
    if exc.file is None:
        exc.file = file
    return exc


# What the validator can enforce. Anything else in a schema is refused, not skipped.
SUPPORTED_TYPES = ("string", "number", "integer", "date")
SUPPORTED_CONSTRAINTS = ("required", "unique", "pattern", "minimum", "maximum", "enum")
SUPPORTED_FORMATS = {"string": ("default", "uri"), "date": ("default", "%Y-%m-%d"), "number": ("default",), "integer": ("default",)}
CONSTRAINT_KEYS = SUPPORTED_CONSTRAINTS + ("minLength", "maxLength", "exclusiveMinimum", "exclusiveMaximum", "jsonSchema")


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
    enum: tuple[str, ...] | None = None

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


def _read_json(root: Path, relative: str, what: str) -> dict:
    """A JSON object read from the package file ``relative`` (regular file, size-limited)."""
    try:
        text = storage.read_text(root, relative, limit=storage.MAX_JSON_BYTES)
    except storage.MissingFile as exc:
        if exc.path != relative:  # the package folder itself, or a folder on the way
            raise ContractError(str(exc)) from None
        raise ContractError(f"{relative}: {what}: file not found in {root}") from None
    except storage.StorageError as exc:
        # the file itself is at fault (a folder, a FIFO, too large); not so the package folder
        raise ContractError(f"{what}: {exc}", file=relative if exc.path == relative else None) from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ContractError(f"{relative}:{exc.lineno}: not valid JSON: {exc.msg}", file=relative, line=exc.lineno) from None
    except RecursionError:
        raise ContractError(f"{relative}: not valid JSON: nested too deeply", file=relative) from None
    if not isinstance(value, dict):
        raise ContractError(f"{relative}: expected a JSON object at the top level", file=relative)
    return value


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_pattern(pattern: object, where: str) -> str:
    if not isinstance(pattern, str):
        raise ContractError(f"{where}: a pattern must be a string, not {json.dumps(pattern)}")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ContractError(f"{where}: {pattern!r} is not a valid regular expression: {exc}") from None
    except RecursionError:
        raise ContractError(f"{where}: {pattern!r} is nested too deeply to compile") from None
    return pattern


def _parse_field(raw: object, where: str) -> Field:
    if not isinstance(raw, dict):
        raise ContractError(f"{where}: every field must be an object")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise ContractError(f"{where}: every field needs a name (a non-empty string)")
    kind = raw.get("type", "string")
    if kind not in SUPPORTED_TYPES:
        raise ContractError(f"{where}.type: field {name!r} has type {json.dumps(kind)}; infocontrols can check only {', '.join(SUPPORTED_TYPES)}")
    misplaced = [k for k in CONSTRAINT_KEYS if k in raw]
    if misplaced:
        raise ContractError(f"{where}: {', '.join(misplaced)} must go inside \"constraints\", where it is enforced")
    fmt = raw.get("format")
    if fmt is not None and fmt not in SUPPORTED_FORMATS[kind]:
        raise ContractError(f"{where}.format: {json.dumps(fmt)} is not supported for a {kind} field (supported: {', '.join(SUPPORTED_FORMATS[kind])})")
    vocabulary = raw.get("vocabulary")
    if vocabulary is not None and not isinstance(vocabulary, str):
        raise ContractError(f"{where}.vocabulary: must be the name of a vocabulary (a string)")
    for key in ("description", "title"):
        if key in raw and not isinstance(raw[key], str):
            raise ContractError(f"{where}.{key}: must be a string")
    c = raw.get("constraints", {})
    if c is None:
        c = {}
    if not isinstance(c, dict):
        raise ContractError(f"{where}.constraints: must be an object such as {{\"required\": true}}, not {type(c).__name__}")
    for key in c:
        if key not in SUPPORTED_CONSTRAINTS:
            hint = " (infocontrols cannot enforce it)" if key in CONSTRAINT_KEYS else ""
            raise ContractError(f"{where}.constraints.{key}: unknown or unsupported constraint{hint}; supported: {', '.join(SUPPORTED_CONSTRAINTS)}")
    for key in ("required", "unique"):
        if key in c and not isinstance(c[key], bool):
            raise ContractError(f"{where}.constraints.{key}: must be true or false, not {json.dumps(c[key])}")
    pattern = c.get("pattern")
    if pattern is not None:
        if kind != "string":
            raise ContractError(f"{where}.constraints.pattern: a pattern applies to string fields only")
        _check_pattern(pattern, f"{where}.constraints.pattern")
    for key in ("minimum", "maximum"):
        if key in c:
            if kind not in ("number", "integer"):
                raise ContractError(f"{where}.constraints.{key}: infocontrols supports {key} on number and integer fields only")
            if not _is_number(c[key]):
                raise ContractError(f"{where}.constraints.{key}: must be a number, not {json.dumps(c[key])}")
    enum = c.get("enum")
    if enum is not None:
        if kind != "string" or not isinstance(enum, list) or not all(isinstance(v, str) for v in enum):
            raise ContractError(f"{where}.constraints.enum: must be a list of strings on a string field")
        enum = tuple(enum)
    description = raw.get("description", "")
    return Field(
        name=name,
        type=kind,
        description=description,
        required=c.get("required", False),
        unique=c.get("unique", False),
        pattern=pattern,
        minimum=c.get("minimum"),
        maximum=c.get("maximum"),
        vocabulary=vocabulary,
        format=fmt,
        enum=enum,
    )


def _names(value: object, where: str) -> tuple[str, ...]:
    """A key given as one field name or a list of them."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    raise ContractError(f"{where}: must be a field name or a non-empty list of field names, not {json.dumps(value)}")


def _known(names: tuple[str, ...], fields: list[str], where: str, table: str) -> None:
    for name in names:
        if name not in fields:
            raise ContractError(f"{where}: {name!r} is not a field of table {table} (fields: {', '.join(fields)})")


def _parse_table(root: Path, resource: dict, where: str) -> Table:
    name = resource.get("name")
    if not isinstance(name, str) or not name:
        raise ContractError(f"{where}: every resource needs a name")
    try:
        path = safe_relative_path(resource.get("path"), f"resource {name}")
    except ContractError as exc:
        raise ContractError(f"{where}.path: {exc}") from None
    schema_ref = resource.get("schema", f"schema/{name}.json")
    if isinstance(schema_ref, dict):
        schema, schema_path, origin = schema_ref, "", f"{where}.schema"
    else:
        try:
            schema_path = safe_relative_path(schema_ref, f"resource {name} schema")
        except ContractError as exc:
            raise ContractError(f"{where}.schema: {exc}") from None
        try:
            schema = _read_json(root, schema_path, f"resource {name} schema")
        except ContractError as exc:
            raise _blame(exc, schema_path)  # missing or unreadable: the descriptor names it, so it is the package's fault
        origin = schema_path
    if "emptyAllowed" in resource and not isinstance(resource["emptyAllowed"], bool):
        raise ContractError(f"{where}.emptyAllowed: must be true or false")
    try:
        return _parse_schema(name, path, schema, schema_path, origin, resource)
    except ContractError as exc:
        raise _blame(exc, schema_path or origin.split(":", 1)[0])


def _parse_schema(name: str, path: str, schema: dict, schema_path: str, origin: str, resource: dict) -> Table:
    raw_fields = schema.get("fields", [])
    if not isinstance(raw_fields, list):
        raise ContractError(f"{origin}: fields: must be a list of field objects")
    fields = tuple(_parse_field(f, f"{origin}: fields[{i}]") for i, f in enumerate(raw_fields))
    if not fields:
        raise ContractError(f"{origin}: schema declares no fields")
    field_names = [f.name for f in fields]
    duplicated = sorted({n for n in field_names if field_names.count(n) > 1})
    if duplicated:
        raise ContractError(f"{origin}: field {duplicated[0]!r} is declared twice")
    missing_values = schema.get("missingValues", [""])
    if missing_values != [""]:
        raise ContractError(f"{origin}: missingValues: infocontrols reads only empty cells as missing; use [\"\"], not {json.dumps(missing_values)}")
    primary_key = _names(schema.get("primaryKey"), f"{origin}: primaryKey")
    _known(primary_key, field_names, f"{origin}: primaryKey", name)
    sort_key = _names(schema.get("sortKey"), f"{origin}: sortKey")
    _known(sort_key, field_names, f"{origin}: sortKey", name)
    raw_fks = schema.get("foreignKeys", [])
    if not isinstance(raw_fks, list):
        raise ContractError(f"{origin}: foreignKeys: must be a list")
    foreign_keys = []
    for i, fk in enumerate(raw_fks):
        at = f"{origin}: foreignKeys[{i}]"
        if not isinstance(fk, dict) or not isinstance(fk.get("reference"), dict):
            raise ContractError(f"{at}: must be an object with \"fields\" and a \"reference\" object")
        ref = fk["reference"]
        fk_fields = _names(fk.get("fields"), f"{at}.fields")
        ref_fields = _names(ref.get("fields"), f"{at}.reference.fields")
        _known(fk_fields, field_names, f"{at}.fields", name)
        if not fk_fields or len(fk_fields) != len(ref_fields):
            raise ContractError(f"{at}: fields and reference.fields must name the same number of fields")
        ref_table = ref.get("resource", "")
        if not isinstance(ref_table, str):
            raise ContractError(f"{at}.reference.resource: must be a resource name")
        foreign_keys.append(ForeignKey(fields=fk_fields, reference_table=ref_table or name, reference_fields=ref_fields))
    for key in ("title", "description"):
        if key in schema and not isinstance(schema[key], str):
            raise ContractError(f"{origin}: {key}: must be a string")
    return Table(
        name=name,
        path=path,
        schema_path=schema_path,
        title=schema.get("title", name),
        description=schema.get("description", ""),
        fields=fields,
        primary_key=primary_key,
        foreign_keys=tuple(foreign_keys),
        sort_key=sort_key or primary_key,
        empty_allowed=bool(resource.get("emptyAllowed", False)),
    )


def _check_references(tables: dict[str, Table], source: str) -> None:
    """Every foreign key names an existing table and existing fields of it."""
    for table in tables.values():
        for i, fk in enumerate(table.foreign_keys):
            at = f"{table.schema_path or table.name}: foreignKeys[{i}].reference"
            try:
                if fk.reference_table not in tables:
                    raise ContractError(f"{at}.resource: no table {fk.reference_table!r} in the package (tables: {', '.join(tables)})")
                target = tables[fk.reference_table]
                _known(fk.reference_fields, target.field_names, f"{at}.fields", target.name)
            except ContractError as exc:
                raise _blame(exc, table.schema_path or source)


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
        _complete_interrupted_write(root)
        descriptor = _read_json(root, DESCRIPTOR, "package descriptor")
        return cls._from_metadata(root, descriptor, DESCRIPTOR)

    @classmethod
    def from_source(cls, root: str | Path) -> "Contract":
        """Read the hand-written ``schema/package.json`` of a source checkout."""
        root = Path(root)
        _complete_interrupted_write(root)
        return cls._from_metadata(root, _read_json(root, SOURCE_METADATA, "package metadata"), SOURCE_METADATA)

    @classmethod
    def _from_metadata(cls, root: Path, metadata: dict, source: str) -> "Contract":
        try:
            return cls._parse_metadata(root, metadata, source)
        except ContractError as exc:
            raise _blame(exc, source)  # a resource entry of the descriptor (a schema blames itself)

    @classmethod
    def _parse_metadata(cls, root: Path, metadata: dict, source: str) -> "Contract":
        resources = metadata.get("resources")
        if not isinstance(resources, list) or not resources:
            raise ContractError(f"{source}: resources: must be a non-empty list")
        tables: dict[str, Table] = {}
        for i, resource in enumerate(resources):
            if not isinstance(resource, dict):
                raise ContractError(f"{source}: resources[{i}]: every resource must be an object")
            if resource.get("format", "csv") != "csv":
                continue
            table = _parse_table(root, resource, f"{source}: resources[{i}]")
            if table.name in tables:
                raise ContractError(f"{source}: resources[{i}]: a second resource named {table.name!r}")
            tables[table.name] = table
        if VOCABULARY_TABLE not in tables:
            raise ContractError(f"{source}: the package has no '{VOCABULARY_TABLE}' resource")
        _check_references(tables, source)
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
        codes: dict[str, list[str]] = {}
        labels: dict[str, dict[str, str]] = {}
        definitions: dict[str, dict[str, str]] = {}
        try:
            text = storage.read_text(self.root, self.table(VOCABULARY_TABLE).path, limit=storage.MAX_TABLE_BYTES)
            for row in csv.DictReader(io.StringIO(text, newline="")):
                name, code = row.get("vocabulary") or "", row.get("code") or ""
                codes.setdefault(name, []).append(code)
                labels.setdefault(name, {})[code] = row.get("label") or ""
                definitions.setdefault(name, {})[code] = row.get("definition") or ""
        except (storage.StorageError, csv.Error):
            return {}  # the structure phase reports the vocabulary file's problem
        return {
            name: Vocabulary(name, tuple(codes[name]), labels[name], definitions[name])
            for name in codes
        }

    def vocabulary(self, name: str) -> Vocabulary:
        try:
            return self.vocabularies[name]
        except KeyError:
            raise KeyError(f"no vocabulary {name!r}; vocabularies are: {', '.join(self.vocabularies)}") from None


def _complete_interrupted_write(root: Path) -> None:
    try:
        storage.ensure_complete(root)
    except storage.StorageError as exc:
        raise ContractError(str(exc)) from None


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
