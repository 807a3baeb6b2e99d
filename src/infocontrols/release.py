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

import hashlib
import io
import os
import re
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
    """Records of one table added, changed, removed, renamed and retired between two revisions."""

    table: str
    added: int
    changed: int
    removed: int
    renamed: int = 0
    retired: int = 0

    @property
    def any(self) -> bool:
        return bool(self.added or self.changed or self.removed or self.renamed or self.retired)


def record_changes(since: str, root: str | Path | None = None) -> list[TableChanges]:
    """Per table: the record counts of ``infocontrols diff`` between git ``since`` and the working tree.

    The counting is :func:`infocontrols.diff.diff_versions`'s (rows matched by primary key;
    renames and retirements through ``retired_ids``), so the CHANGELOG and a pull request's
    summary can never count differently.

    Example:
        >>> record_changes("v0.1.0")[0]                       # doctest: +SKIP
        TableChanges(table='events', added=12, changed=3, removed=0, renamed=0, retired=0)
    """
    from .diff import DiffError, diff_versions
    from .load import contract as contract_at

    contract = contract_at(root)
    try:
        changes = diff_versions(since, str(contract.root), repo=contract.root)
    except DiffError as exc:
        raise ReleaseError(f"--since {since}: {exc}") from None
    return [TableChanges(t.table, **t.counts()) for t in changes.tables]


def changes_markdown(changes: list[TableChanges], since: str) -> str:
    """The counts as CHANGELOG lines.

    Example:
        >>> print(changes_markdown([TableChanges("events", 2, 1, 0)], "v0.1.0"))
        Records since v0.1.0:
        - events: 2 added, 1 changed, 0 removed
    """
    lines = [f"Records since {since}:"]
    for c in changes:
        if c.any:
            extra = "".join(f", {n:,} {what}" for what, n in (("renamed", c.renamed), ("retired", c.retired)) if n)
            lines.append(f"- {c.table}: {c.added:,} added, {c.changed:,} changed, {c.removed:,} removed{extra}")
    if len(lines) == 1:
        lines.append("- no record changed")
    return "\n".join(lines)


__all__ = ["release_assets", "package_zip", "zip_bytes", "package_files", "check_release", "record_changes",
           "changes_markdown", "TableChanges", "ReleaseError"]
