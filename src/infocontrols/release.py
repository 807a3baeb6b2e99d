"""Release assets and release notes: the data package zip, the SQLite file, croissant.json.

The release workflow (``.github/workflows/release.yml``) runs, on a version tag::

    infocontrols release assets dist --tag v1.2.0

which refuses a tag that is not ``v`` + the package version or a version with no CHANGELOG
section, then writes ``infocontrols-1.2.0.zip`` (the data package: descriptor, CSV,
Parquet, schemas, codebook, croissant.json, citation, licence), ``infocontrols-1.2.0.sqlite``,
``croissant.json`` and ``SHA256SUMS``. The zip's bytes depend only on the files in it.

``infocontrols release changes --since v1.1.0`` counts the records added, changed and
removed per table since that git revision, for the CHANGELOG entry.

Example:
    >>> from infocontrols.release import release_assets
    >>> [p.name for p in release_assets("dist")]            # doctest: +SKIP
    ['infocontrols-0.1.0.zip', 'infocontrols-0.1.0.sqlite', 'croissant.json', 'SHA256SUMS']
"""
from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .contract import DESCRIPTOR, Contract

# Files beside the data that travel with it, when the package has them.
EXTRA_FILES = ("croissant.json", "CITATION.cff", "README.md", "CHANGELOG.md", "LICENSE", "docs/codebook.md", "docs/data-model.md",
               "docs/events-by-year.svg")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can say: no build time in the bytes


class ReleaseError(Exception):
    """A release cannot be made as asked; the message says what to fix."""


def package_files(contract: Contract) -> list[str]:
    """Every file of the data package, relative to its root, sorted.

    Example:
        >>> "data/events.parquet" in package_files(contract)   # doctest: +SKIP
        True
    """
    names = {DESCRIPTOR}
    for table in contract.tables.values():
        names.add(table.path)
        if table.schema_path:
            names.add(table.schema_path)
        parquet = contract.parquet_path(table.name)
        if parquet.is_file():
            names.add(parquet.relative_to(contract.root).as_posix())
    names.update(name for name in EXTRA_FILES if (contract.root / name).is_file())
    missing = sorted(name for name in names if not (contract.root / name).is_file())
    if missing:
        raise ReleaseError(f"missing from the package: {', '.join(missing)}; run `infocontrols build`")
    return sorted(names)


def _write_atomic(path: Path, data: bytes) -> None:
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def zip_bytes(contract: Contract) -> bytes:
    """The data package as a zip under ``<name>-<version>/``; same files, same bytes.

    Example:
        >>> zipfile.ZipFile(io.BytesIO(zip_bytes(contract))).namelist()[0]   # doctest: +SKIP
        'infocontrols-0.1.0/CHANGELOG.md'
    """
    folder = f"{contract.metadata.get('name', 'infocontrols')}-{contract.version}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in package_files(contract):
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3  # Unix, so the mode above is read as such everywhere
            archive.writestr(info, (contract.root / name).read_bytes(), compresslevel=9)
    return buffer.getvalue()


def package_zip(path: str | Path, root: str | Path | None = None) -> Path:
    """Write the data package zip to ``path``; return it.

    Example:
        >>> package_zip("infocontrols.zip")                   # doctest: +SKIP
        PosixPath('infocontrols.zip')
    """
    from .load import contract as contract_at

    path = Path(path)
    if not path.parent.is_dir():
        raise ReleaseError(f"{path.parent}: no such folder; create it first or choose another path")
    _write_atomic(path, zip_bytes(contract_at(root)))
    return path


def check_release(contract: Contract, tag: str | None) -> None:
    """Refuse a release whose tag is not ``v<version>`` or whose version has no CHANGELOG section.

    Example:
        >>> check_release(contract, "v0.1.0")                  # doctest: +SKIP
    """
    version = contract.version
    if tag is not None and tag != f"v{version}":
        raise ReleaseError(f"tag {tag!r} does not match the package version {version}: tag v{version}, or bump the version in schema/package.json")
    changelog = contract.root / "CHANGELOG.md"
    if tag is not None and changelog.is_file():
        if not re.search(rf"^## \[{re.escape(version)}\]", changelog.read_text(encoding="utf-8"), re.M):
            raise ReleaseError(f"CHANGELOG.md has no '## [{version}]' section: move the Unreleased entries under it")


def release_assets(outdir: str | Path, root: str | Path | None = None, tag: str | None = None) -> list[Path]:
    """Write the release assets into ``outdir``: zip, SQLite, croissant.json, SHA256SUMS.

    Example:
        >>> [p.name for p in release_assets("dist")]        # doctest: +SKIP
        ['infocontrols-0.1.0.zip', 'infocontrols-0.1.0.sqlite', 'croissant.json', 'SHA256SUMS']
    """
    from .export_sqlite import export_sqlite
    from .load import contract as contract_at

    contract = contract_at(root)
    check_release(contract, tag)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    stem = f"{contract.metadata.get('name', 'infocontrols')}-{contract.version}"
    croissant = contract.root / "croissant.json"
    if not croissant.is_file():
        raise ReleaseError(f"{croissant}: missing; run `infocontrols build`")
    written = [package_zip(outdir / f"{stem}.zip", root=contract.root), export_sqlite(outdir / f"{stem}.sqlite", root=contract.root)]
    _write_atomic(outdir / "croissant.json", croissant.read_bytes())
    written.append(outdir / "croissant.json")
    sums = "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in written)
    _write_atomic(outdir / "SHA256SUMS", sums.encode())
    written.append(outdir / "SHA256SUMS")
    return written


# ---------------------------------------------------------------- record counts for the CHANGELOG
@dataclass(frozen=True)
class TableChanges:
    """Records of one table added, changed and removed between two revisions."""

    table: str
    added: int
    changed: int
    removed: int

    @property
    def any(self) -> bool:
        return bool(self.added or self.changed or self.removed)


def _keyed_rows(text: str, key: tuple[str, ...]) -> dict[tuple, dict]:
    rows = {}
    for row in csv.DictReader(io.StringIO(text, newline="")):
        rows[tuple(row.get(k, "") for k in key)] = row
    return rows


def _git_show(root: Path, ref: str, path: str) -> str | None:
    """The file at ``ref``, or None if it did not exist there."""
    try:
        result = subprocess.run(["git", "-C", str(root), "show", f"{ref}:./{path}"], capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ReleaseError(f"cannot run git: {exc}") from None
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip()
        if "does not exist" in message or "exists on disk, but not in" in message:
            return None
        raise ReleaseError(f"--since {ref}: {message.splitlines()[0] if message else 'git show failed'}")
    return result.stdout.decode("utf-8")


def record_changes(since: str, root: str | Path | None = None) -> list[TableChanges]:
    """Per table: records added, changed (same key, other values) and removed since git ``since``.

    Rows are matched by primary key; a field added or removed by the schema counts as a
    change only where a value differs.

    Example:
        >>> record_changes("v0.1.0")[0]                       # doctest: +SKIP
        TableChanges(table='events', added=12, changed=3, removed=0)
    """
    from .load import contract as contract_at

    contract = contract_at(root)
    out = []
    for table in contract.tables.values():
        key = table.primary_key
        now = _keyed_rows((contract.root / table.path).read_text(encoding="utf-8"), key)
        old_text = _git_show(contract.root, since, table.path)
        then = _keyed_rows(old_text, key) if old_text is not None else {}
        common = now.keys() & then.keys()
        changed = sum(1 for k in common if {f: v for f, v in now[k].items() if v} != {f: v for f, v in then[k].items() if v})
        out.append(TableChanges(table.name, len(now.keys() - then.keys()), changed, len(then.keys() - now.keys())))
    return out


def changes_markdown(changes: list[TableChanges], since: str) -> str:
    """The counts as CHANGELOG lines.

    Example:
        >>> print(changes_markdown([TableChanges("events", 2, 1, 0)], "v0.1.0"))
        Records since v0.1.0:
        - events: 2 added, 1 changed, 0 removed
    """
    lines = [f"Records since {since}:"]
    lines += [f"- {c.table}: {c.added:,} added, {c.changed:,} changed, {c.removed:,} removed" for c in changes if c.any]
    if len(lines) == 1:
        lines.append("- no record changed")
    return "\n".join(lines)


__all__ = ["release_assets", "package_zip", "zip_bytes", "package_files", "check_release", "record_changes",
           "changes_markdown", "TableChanges", "ReleaseError"]
