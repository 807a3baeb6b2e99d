"""STR012: the generated copies (Parquet files, the descriptor's sizes and hashes) match the CSV.

A CSV edited without rebuilding leaves a Parquet file that `load()` would read and a
descriptor whose hash no longer holds. Each Parquet file records, in its own metadata, the
table it holds and the SHA-256 of the CSV it was built from (the build writes both), so a
stale, truncated or swapped file is found without rebuilding anything.

Example:
    >>> from infocontrols.validation.generated import check_generated
    >>> check_generated(contract, parsed)                         # doctest: +SKIP
    []
"""
from __future__ import annotations

import hashlib

from .. import storage
from ..contract import DESCRIPTOR, Contract, safe_relative_path
from ..load import parquet_problem
from . import findings as F
from .findings import Finding, finding
from .structure import ParsedTable

FIX = "run `infocontrols build`"


def _resources(contract: Contract) -> dict[str, dict]:
    resources = contract.metadata.get("resources", [])
    return {r["name"]: r for r in resources if isinstance(r, dict) and isinstance(r.get("name"), str)}


def _recorded(resource: dict, prefix: str) -> tuple[int | None, str | None]:
    size, digest = resource.get(f"{prefix}bytes"), resource.get(f"{prefix}hash")
    return (size if isinstance(size, int) else None), (digest if isinstance(digest, str) else None)


def _descriptor_mismatch(path: str, resource: dict, prefix: str, size: int, sha256: str) -> list[Finding]:
    recorded_size, recorded_hash = _recorded(resource, prefix)
    actual = "sha256:" + sha256
    if (recorded_size is None or recorded_size == size) and (recorded_hash is None or recorded_hash == actual):
        return []
    message = (
        f"records {path} as {recorded_size:,} bytes with hash {recorded_hash}, but the file has {size:,} bytes "
        f"and hash {actual}: it changed since the last build; {FIX}"
    ) if recorded_size is not None else f"records a different hash for {path} than the file has: it changed since the last build; {FIX}"
    return [finding(F.STR012, DESCRIPTOR, 0, "", path, message)]


def _footer_metadata(data: bytes) -> dict[bytes, bytes] | None:
    """The key-value metadata of a Parquet file's footer, read by polars (whose schema must
    read too); None when polars cannot read them, and pyarrow is asked instead, as before,
    for its verdict and its message. Polars is already loaded, and pyarrow (with numpy)
    takes longer to import than the real package takes to validate.
    """
    import io

    import polars as pl

    try:
        pl.read_parquet_schema(io.BytesIO(data))
        metadata = pl.read_parquet_metadata(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - any doubt goes to pyarrow
        return None
    return {key.encode("utf-8"): value.encode("utf-8") for key, value in metadata.items()}


def check_generated(contract: Contract, parsed: ParsedTable) -> list[Finding]:
    """STR012 (and STR011 for a Parquet file that is not a regular file) for one table.

    Example:
        >>> [f.message for f in check_generated(contract, read_table(contract, contract.table("events")))]   # doctest: +SKIP
        ['was built from an earlier version of the CSV: the CSV changed since the last build; run `infocontrols build`']
    """
    table = parsed.table
    out: list[Finding] = []
    resources = _resources(contract)
    resource = resources.get(table.name, {})
    if parsed.sha256 is not None and parsed.size is not None:
        out += _descriptor_mismatch(table.path, resource, "", parsed.size, parsed.sha256)
    listed = resources.get(f"{table.name}-parquet")
    path = f"data/{table.name}.parquet"
    if listed is not None:
        try:
            path = safe_relative_path(listed.get("path"), f"resource {table.name}-parquet")
        except Exception:  # noqa: BLE001 - an unsafe path is the contract's to refuse; never read it
            return out + [finding(F.STR012, DESCRIPTOR, 0, "", str(listed.get("path")), f"resource {table.name}-parquet has an unusable path; {FIX}")]
    try:
        data = storage.read_bytes(contract.root, path)
    except storage.MissingFile:
        if listed is not None:
            out.append(finding(F.STR012, path, 0, "", "", f"datapackage.json lists this file but it is missing; {FIX}"))
        return out
    except (storage.NotARegularFile, storage.FileTooLarge) as exc:
        return out + [finding(F.STR011, path, 0, "", "", exc.reason)]
    except storage.StorageError as exc:
        return out + [finding(F.STR012, path, 0, "", "", f"cannot be read: {exc.reason}; {FIX}")]
    if listed is not None:
        out += _descriptor_mismatch(path, listed, "infocontrols:", len(data), hashlib.sha256(data).hexdigest())
    metadata = _footer_metadata(data)
    if metadata is None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            metadata = pq.ParquetFile(pa.BufferReader(data)).schema_arrow.metadata
        except (pa.ArrowException, OSError, ValueError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return out + [finding(F.STR012, path, 0, "", "", f"cannot be read as Parquet ({first}): truncated or damaged; {FIX}")]
    problem = parquet_problem(metadata, table.name, parsed.sha256)
    if problem:
        out.append(finding(F.STR012, path, 0, "", "", f"{problem}; {FIX}"))
    return out
