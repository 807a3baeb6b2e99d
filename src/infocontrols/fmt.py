"""`infocontrols fmt`: rewrite the CSV tables in canonical form.

Canonical form is what the validator's mechanically fixable rules ask for, and nothing more:
UTF-8 without a byte-order mark (STR003), LF line endings (STR004), text in Unicode NFC
(TXT001) without leading or trailing whitespace (TXT003), rows sorted by the table's key
(ORD001), and one quoting style (a cell is quoted only when it must be). The values
themselves never change otherwise, so ``fmt`` is safe to run at any time, and running it
twice changes nothing the second time.

A file fmt cannot read as CSV with the schema's header (a broken quote, a wrong header,
text that is not UTF-8) is left alone and reported: those need a person.

Example:
    >>> from infocontrols.fmt import canonical_csv
    >>> canonical_csv(b"b,a\\r\\n2,x \\r\\n1,y\\r\\n", ("b", "a"), sort_key=("b",))
    b'b,a\\n1,y\\n2,x\\n'
"""
from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .contract import Contract


class FormatError(Exception):
    """A file cannot be put in canonical form without a person deciding something."""


def _clean(cell: str) -> str:
    return unicodedata.normalize("NFC", cell).strip()


def canonical_csv(data: bytes, header: tuple[str, ...] | list[str], sort_key: tuple[str, ...] | list[str] = ()) -> bytes:
    """The canonical bytes of one CSV file whose header must be ``header``.

    Raises :class:`FormatError` when the bytes are not UTF-8, the header differs, a row has
    the wrong number of cells or a cell holds a line break.
    """
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"not UTF-8 (byte {data[exc.start:exc.start + 1].hex()} at offset {exc.start}); save it as UTF-8 first") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise FormatError(f"cannot parse as CSV ({exc}); fix the quoting first") from None
    if not rows:
        raise FormatError("empty file: it needs at least the header row")
    if [_clean(c) for c in rows[0]] != list(header):
        raise FormatError(f"header is not the schema's: expected {','.join(header)}")
    body = []
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue  # a blank line
        if len(row) != len(header):
            raise FormatError(f"line {number}: {len(row)} cells, the header has {len(header)}")
        if any("\n" in cell for cell in row):
            raise FormatError(f"line {number}: a cell holds a line break; cells must be one line")
        body.append([_clean(cell) for cell in row])
    if sort_key:
        index = [list(header).index(k) for k in sort_key]
        # Empty keys last, as the validator sorts them (nulls last); stable otherwise.
        body.sort(key=lambda row: tuple((row[i] == "", row[i]) for i in index))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(body)
    return out.getvalue().encode("utf-8")


@dataclass
class FormatResult:
    """What fmt did: files it rewrote and files it had to leave alone (with why)."""

    changed: list[str]
    refused: dict[str, str]


def formatted_files(contract: Contract, read) -> FormatResult:
    """Canonical bytes for every table whose file differs from them.

    ``read(relative_path) -> bytes`` reads a package file (the package's safe reader).
    Returns the relative paths that would change in ``changed`` and, in ``refused``, the
    files that cannot be formatted, with the reason; the new bytes are in ``self.outputs``.
    """
    outputs: dict[str, bytes] = {}
    refused: dict[str, str] = {}
    for table in contract.tables.values():
        data = read(table.path)
        try:
            canonical = canonical_csv(data, table.field_names, table.sort_key)
        except FormatError as exc:
            refused[table.path] = str(exc)
            continue
        if canonical != data:
            outputs[table.path] = canonical
    result = FormatResult(changed=sorted(outputs), refused=refused)
    result.outputs = outputs  # type: ignore[attr-defined]
    return result


def format_package(root: str | Path, *, check: bool = False) -> FormatResult:
    """Rewrite every table of the package at ``root`` in canonical form (all files or none).

    With ``check``, write nothing and return what would change.
    """
    from .storage import package_lock, read_bytes, write_files

    root = Path(root)
    with package_lock(root):
        contract = Contract.from_source(root)
        result = formatted_files(contract, lambda rel: read_bytes(root, rel))
        if not check and result.outputs:  # type: ignore[attr-defined]
            write_files(root, result.outputs)  # type: ignore[attr-defined]
    return result


__all__ = ["canonical_csv", "format_package", "formatted_files", "FormatError", "FormatResult"]
