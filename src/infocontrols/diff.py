"""Record-level differences between two versions of the package.

A version is a package folder or a git revision of the repository. Records are matched by
primary key, table by table: a record is *added*, *changed* (with every changed field, old
-> new), *retired* (gone, and listed in the new version's ``data/retired_ids.csv``;
*renamed* when the retirement names a replacement) or *removed* (gone without being retired:
IDs are permanent, so the validator's ``--baseline`` check refuses this for ID tables).

Example:
    >>> from infocontrols.diff import diff_versions, as_text
    >>> changes = diff_versions("main", ".")          # doctest: +SKIP
    >>> print(as_text(changes))                       # doctest: +SKIP
    events: 2 added, 1 changed
    ...
"""
from __future__ import annotations

import io
import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from .contract import DESCRIPTOR, SOURCE_METADATA, Contract, ContractError

MAX_TABLE_BYTES = 2 * 1024**3
REVISION = re.compile(r"^[A-Za-z0-9._/@{}~^-]{1,200}$")


class DiffError(Exception):
    """A version cannot be read: not a package folder, not a git revision, unreadable file."""


@dataclass
class TableDiff:
    """What changed in one table."""

    table: str
    key: tuple[str, ...]
    added: list[dict] = field(default_factory=list)
    removed: list[dict] = field(default_factory=list)
    retired: list[dict] = field(default_factory=list)  # {"id", "replaced_by", "reason"}
    changed: list[dict] = field(default_factory=list)  # {"key": ..., "fields": {name: [old, new]}}

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.retired or self.changed)

    def counts(self) -> dict[str, int]:
        renamed = sum(1 for r in self.retired if r.get("replaced_by"))
        return {
            "added": len(self.added),
            "changed": len(self.changed),
            "renamed": renamed,
            "retired": len(self.retired) - renamed,
            "removed": len(self.removed),
        }


@dataclass
class PackageDiff:
    """Every table's differences between ``old`` and ``new`` (labels as the user gave them)."""

    old: str
    new: str
    tables: list[TableDiff]

    def counts(self) -> dict[str, dict[str, int]]:
        return {t.table: t.counts() for t in self.tables if not t.empty}


# ---------------------------------------------------------------- reading a version
class _Version:
    """A package folder, or a git revision of the repository at ``repo``."""

    def __init__(self, spec: str, repo: Path):
        self.label = spec
        path = Path(spec)
        if path.is_dir() and ((path / DESCRIPTOR).is_file() or (path / SOURCE_METADATA).is_file()):
            self.folder, self.revision, self.repo = path, None, None
            return
        if not REVISION.match(spec) or spec.startswith("-"):
            raise DiffError(f"{spec!r} is neither a package folder nor a git revision")
        self.folder, self.repo = None, repo
        self.revision = _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{spec}^{{commit}}", check=False).strip()
        if not self.revision:
            raise DiffError(f"{spec!r} is neither a package folder nor a git revision of {repo}")

    def read(self, relative: str) -> bytes | None:
        """The bytes of ``relative`` in this version, or None when it does not exist there."""
        if self.folder is not None:
            path = self.folder / relative
            if path.is_symlink() or (path.exists() and not path.is_file()):
                raise DiffError(f"{path}: not a regular file")
            if not path.exists():
                return None
            if path.stat().st_size > MAX_TABLE_BYTES:
                raise DiffError(f"{path}: larger than {MAX_TABLE_BYTES:,} bytes")
            return path.read_bytes()
        kind = _git(self.repo, "cat-file", "-t", f"{self.revision}:{relative}", check=False).strip()
        if kind != "blob":
            return None
        size = int(_git(self.repo, "cat-file", "-s", f"{self.revision}:{relative}"))
        if size > MAX_TABLE_BYTES:
            raise DiffError(f"{self.label}:{relative}: larger than {MAX_TABLE_BYTES:,} bytes")
        return _git_bytes(self.repo, "cat-file", "blob", f"{self.revision}:{relative}")


def _git_bytes(repo: Path, *args: str, check: bool = True) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DiffError(f"cannot run git: {exc}") from None
    if check and done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise DiffError(f"git {args[0]}: {message[-1] if message else 'failed'}")
    return done.stdout


def _git(repo: Path, *args: str, check: bool = True) -> str:
    return _git_bytes(repo, *args, check=check).decode("utf-8", "replace")


def default_old(repo: Path) -> str:
    """The merge base of HEAD with main (or origin/main): what a pull request changes."""
    for branch in ("origin/main", "main"):
        base = _git(repo, "merge-base", "HEAD", branch, check=False).strip()
        if base:
            return base
    raise DiffError("no merge base with main or origin/main; name the old version (a folder or a git revision)")


def _frame(data: bytes | None, columns: list[str]) -> pl.DataFrame:
    if data is None:
        return pl.DataFrame(schema={c: pl.String for c in columns})
    try:
        frame = pl.read_csv(io.BytesIO(data), infer_schema=False)
    except Exception as exc:  # noqa: BLE001 - any malformed CSV
        raise DiffError(f"cannot parse CSV: {exc}") from None
    for c in columns:
        if c not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(c))
    return frame


# ---------------------------------------------------------------- comparing
def _table_diff(name: str, key: tuple[str, ...], old: pl.DataFrame, new: pl.DataFrame, retired: dict[str, dict]) -> TableDiff:
    out = TableDiff(name, key)
    key_list = list(key)
    columns = [c for c in new.columns if c in old.columns]
    renames = {rid: info["replaced_by"] for rid, info in retired.items() if info.get("replaced_by")}
    # Follow renames through every ID column, so that a rename done right (old ID retired with
    # its replacement) shows once, as a rename, and not as links removed and added.
    id_columns = [c for c in columns if c.endswith("_id")] if name != "retired_ids" else []
    mapped = old.with_columns(
        [pl.col(key_list[0]).alias("_old_id")] if len(key_list) == 1 else []
    ).with_columns([pl.col(c).replace(renames) for c in id_columns])
    old_keys, new_keys = mapped.select(key_list).unique(), new.select(key_list).unique()
    out.added = new.join(old_keys, on=key_list, how="anti").sort(key_list).to_dicts()
    for row in mapped.join(new_keys, on=key_list, how="anti").sort(key_list).to_dicts():
        record_id = row.get("_old_id")
        if record_id is not None and record_id in retired:
            info = retired[record_id]
            out.retired.append({"id": record_id, "replaced_by": info.get("replaced_by"), "reason": info.get("reason")})
        else:
            row.pop("_old_id", None)
            out.removed.append(row)
    extra = ["_old_id"] if len(key_list) == 1 else []
    both = mapped.select(columns + extra).join(new.select(columns), on=key_list, how="inner", suffix="__new")
    fields = [c for c in columns if c not in key_list]
    for row in both.sort(key_list).to_dicts():
        changes = {c: [row[c], row[f"{c}__new"]] for c in fields if row[c] != row[f"{c}__new"]}
        renamed_from = row.get("_old_id")
        if renamed_from is not None and renamed_from != row[key_list[0]]:
            info = retired.get(renamed_from, {})
            out.retired.append({"id": renamed_from, "replaced_by": row[key_list[0]], "reason": info.get("reason"), "fields": changes})
        elif changes:
            out.changed.append({"key": {k: row[k] for k in key_list}, "fields": changes})
    out.retired.sort(key=lambda r: r["id"])
    return out


def diff_versions(old: str, new: str = ".", *, repo: str | Path = ".") -> PackageDiff:
    """Compare two versions (package folders or git revisions of ``repo``), record by record.

    The table list and keys come from the new version's schema (the old one's, for tables the
    new one dropped). Raises :class:`DiffError` when a version cannot be read.
    """
    repo = Path(repo)
    versions = [_Version(old, repo), _Version(new, repo)]
    contracts = []
    for version in versions:
        try:
            if version.folder is not None:
                folder = version.folder
                contracts.append(Contract.from_descriptor(folder) if (folder / DESCRIPTOR).is_file() else Contract.from_source(folder))
            else:
                contracts.append(_contract_at_revision(version))
        except ContractError as exc:
            raise DiffError(f"{version.label}: {exc}") from None
    old_contract, new_contract = contracts
    retired_rows = _frame(versions[1].read(new_contract.table("retired_ids").path), ["retired_id", "replaced_by", "reason"]) if "retired_ids" in new_contract.tables else None
    retired = {r["retired_id"]: r for r in retired_rows.to_dicts()} if retired_rows is not None else {}
    names = list(new_contract.tables) + [n for n in old_contract.tables if n not in new_contract.tables]
    tables = []
    for name in names:
        table = new_contract.tables.get(name) or old_contract.tables[name]
        columns = table.field_names
        try:
            old_frame = _frame(versions[0].read(old_contract.tables[name].path) if name in old_contract.tables else None, columns)
            new_frame = _frame(versions[1].read(table.path) if name in new_contract.tables else None, columns)
        except DiffError as exc:
            raise DiffError(f"{table.path}: {exc}") from None
        tables.append(_table_diff(name, table.primary_key, old_frame, new_frame, retired))
    return PackageDiff(old, new, tables)


def _contract_at_revision(version: _Version) -> Contract:
    """The schema as it was at a revision: written to a scratch folder, read the usual way."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="infocontrols-diff-") as scratch:
        root = Path(scratch)
        metadata = version.read(SOURCE_METADATA)
        if metadata is None:
            raise DiffError(f"{version.label}: no {SOURCE_METADATA} at that revision")
        (root / "schema").mkdir()
        (root / SOURCE_METADATA).write_bytes(metadata)
        for resource in json.loads(metadata).get("resources", []):
            name = resource.get("name", "")
            schema = version.read(f"schema/{name}.json")
            if schema is not None:
                (root / "schema" / f"{name}.json").write_bytes(schema)
            if name == "vocabularies":
                vocab = version.read(resource.get("path", ""))
                if vocab is not None:
                    (root / "schema" / "vocabularies.csv").write_bytes(vocab)
        contract = Contract.from_source(root)
        contract.vocabularies  # noqa: B018 - read while the scratch folder exists
        return contract


# ---------------------------------------------------------------- output
def _key_text(key: dict) -> str:
    return ", ".join(str(v) for v in key.values())


def _value(value) -> str:
    text = "∅" if value is None else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _summary_line(table: TableDiff) -> str:
    counts = table.counts()
    return ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)


def as_text(changes: PackageDiff, limit: int = 20) -> str:
    """Per table: a count line, then each record (the first ``limit`` of each kind)."""
    lines = [f"{changes.old} -> {changes.new}"]
    if not changes.counts():
        return "\n".join(lines + ["no record changed"]) + "\n"
    for t in changes.tables:
        if t.empty:
            continue
        lines.append(f"{t.table}: {_summary_line(t)}")
        key = list(t.key)
        for row in t.added[:limit]:
            lines.append(f"  + {_key_text({k: row[k] for k in key})}")
        for row in t.retired[:limit]:
            if row.get("replaced_by"):
                lines.append(f"  ~ {row['id']} -> {row['replaced_by']} (renamed: {row.get('reason') or 'no reason given'})")
                for name, (old, new) in row.get("fields", {}).items():
                    lines.append(f"      {name}: {_value(old)} -> {_value(new)}")
            else:
                lines.append(f"  ~ {row['id']} (retired: {row.get('reason') or 'no reason given'})")
        for row in t.removed[:limit]:
            lines.append(f"  - {_key_text({k: row[k] for k in key})} (removed without retirement)")
        for row in t.changed[:limit]:
            lines.append(f"  * {_key_text(row['key'])}")
            for name, (old, new) in row["fields"].items():
                lines.append(f"      {name}: {_value(old)} -> {_value(new)}")
        shown = sum(min(len(x), limit) for x in (t.added, t.retired, t.removed, t.changed))
        total = len(t.added) + len(t.retired) + len(t.removed) + len(t.changed)
        if total > shown:
            lines.append(f"  ... and {total - shown:,} more (--format json lists all)")
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def as_markdown(changes: PackageDiff, limit: int = 50) -> str:
    """A GitHub job summary: a counts table, then a collapsible list per table."""
    out = [f"### Record changes: `{changes.old}` → `{changes.new}`", ""]
    counts = changes.counts()
    if not counts:
        return "\n".join(out + ["No record changed.", ""])
    kinds = ["added", "changed", "renamed", "retired", "removed"]
    out += ["| table | " + " | ".join(kinds) + " |", "|---|" + "---:|" * len(kinds)]
    for table, c in counts.items():
        out.append(f"| `{table}` | " + " | ".join(str(c[k]) for k in kinds) + " |")
    out.append("")
    for t in changes.tables:
        if t.empty:
            continue
        out += [f"<details><summary><code>{t.table}</code>: {_summary_line(t)}</summary>", ""]
        key = list(t.key)
        for row in t.added[:limit]:
            out.append(f"- added `{_md(_key_text({k: row[k] for k in key}))}`")
        for row in t.retired[:limit]:
            if row.get("replaced_by"):
                fields = "".join(f"; {name}: {_md(_value(o))} → {_md(_value(n))}" for name, (o, n) in row.get("fields", {}).items())
                out.append(f"- renamed `{row['id']}` → `{row['replaced_by']}`: {_md(row.get('reason') or '')}{fields}")
            else:
                out.append(f"- retired `{row['id']}`: {_md(row.get('reason') or '')}")
        for row in t.removed[:limit]:
            out.append(f"- **removed without retirement** `{_md(_key_text({k: row[k] for k in key}))}`")
        for row in t.changed[:limit]:
            fields = "; ".join(f"{name}: {_md(_value(o))} → {_md(_value(n))}" for name, (o, n) in row["fields"].items())
            out.append(f"- changed `{_md(_key_text(row['key']))}`: {fields}")
        out += ["", "</details>", ""]
    return "\n".join(out)


def as_json(changes: PackageDiff) -> str:
    """Every difference as data, for tools."""
    return json.dumps(
        {
            "old": changes.old,
            "new": changes.new,
            "counts": changes.counts(),
            "tables": {
                t.table: {"added": t.added, "changed": t.changed, "retired": t.retired, "removed": t.removed}
                for t in changes.tables if not t.empty
            },
        },
        ensure_ascii=False,
        indent=1,
        default=str,
    ) + "\n"


FORMATS = {"text": as_text, "markdown": as_markdown, "json": as_json}

__all__ = ["diff_versions", "default_old", "DiffError", "PackageDiff", "TableDiff", "as_text", "as_markdown", "as_json", "FORMATS"]
