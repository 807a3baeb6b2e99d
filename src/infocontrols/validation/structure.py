"""Phase 1: read every resource file, check its bytes and header, and type its cells.

The result is, for each table that could be parsed, a polars DataFrame whose columns
carry the schema's types (dates as Date, numbers as Float64, text as String). A cell
that does not parse to its type is reported here and set to null, so that phase 2 runs
on everything that could be read.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import io
import sys
from dataclasses import dataclass, field

import polars as pl

from .. import storage
from ..contract import Contract, Table
from . import findings as F
from .findings import Finding, finding

MAX_CELL_CHARS = 20_000
DATE_SHAPE = r"^\d{4}-\d{2}-\d{2}$"


@dataclass
class ParsedTable:
    """A table as phase 1 read it. ``frame`` is None when it could not be parsed."""

    table: Table
    frame: pl.DataFrame | None = None
    raw: pl.DataFrame | None = None  # the same cells as text, before typing
    findings: list[Finding] = field(default_factory=list)
    sha256: str | None = None  # of the file's bytes, as read
    size: int | None = None

    @property
    def ok(self) -> bool:
        return self.frame is not None


def line_of(row_index: int) -> int:
    """File line of a data row: the header is line 1 and cells never hold line breaks."""
    return row_index + 2


def _line_at(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _max_row_bytes(table: Table) -> int:
    """No valid row is longer than this: every cell at the limit, four bytes a character, quoted."""
    return len(table.fields) * (MAX_CELL_CHARS * 4 + 3)


def _without_overlong_rows(data: bytes, table: Table, file: str) -> tuple[str, list[Finding]]:
    """The text with every row too long to be valid blanked out, and a STR009 finding for each.

    The fast parser reads in blocks and fails on a row longer than a block (16 MB) with a
    message about quoting; such a row holds an over-long cell, and says so here.
    """
    limit = _max_row_bytes(table)
    lines = data.split(b"\n")
    if max(map(len, lines), default=0) <= limit:
        return data.decode("utf-8"), []
    out: list[Finding] = []
    placeholder = "," * (len(table.fields) - 1)
    texts = []
    for number, line in enumerate(lines, start=1):
        text = line.decode("utf-8")
        if len(line) <= limit:
            texts.append(text)
            continue
        texts.append(placeholder)
        previous = csv.field_size_limit()
        csv.field_size_limit(sys.maxsize)
        try:
            cells = next(csv.reader([text], strict=True), [])
        except csv.Error:
            cells = [text]
        finally:
            csv.field_size_limit(previous)
        names = table.field_names if len(cells) == len(table.fields) else [""] * len(cells)
        for name, cell in zip(names, cells):
            if len(cell) > MAX_CELL_CHARS:
                out.append(finding(F.STR009, file, number, name, f"{len(cell):,} characters", f"cell has {len(cell):,} characters; the limit is {MAX_CELL_CHARS:,}"))
        if not out or out[-1].line != number:
            out.append(finding(F.STR009, file, number, "", f"{len(line):,} bytes", f"row has {len(line):,} bytes, more than any valid row can have ({limit:,})"))
    return "\n".join(texts), out


def _scan_rows(text: str, table: Table, file: str) -> list[Finding]:
    """Slow path, used only when the fast parser disagrees with the line count:
    find the exact lines with wrong cell counts, bad quotes or line breaks in cells."""
    out: list[Finding] = []
    n_fields = len(table.fields)
    previous = csv.field_size_limit()
    csv.field_size_limit(_max_row_bytes(table))
    try:
        return _scan(text, table, file, n_fields, out)
    finally:
        csv.field_size_limit(previous)


def _scan(text: str, table: Table, file: str, n_fields: int, out: list[Finding]) -> list[Finding]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    try:
        for row in reader:
            end = reader.line_num
            if reader.line_num == 1:
                start = end + 1
                continue
            if end != start:
                out.append(finding(F.STR008, file, start, "", "", f"a quoted cell spans lines {start}-{end}: cells may not contain line breaks (check for an unbalanced quote)"))
            elif row and len(row) != n_fields:
                out.append(finding(F.STR008, file, start, "", "", f"row has {len(row)} cells, the header has {n_fields}"))
            start = end + 1
    except csv.Error as exc:
        out.append(finding(F.STR008, file, start, "", "", f"cannot parse CSV from here: {exc} (check for an unbalanced quote)"))
    if not out:
        out.append(finding(F.STR008, file, 0, "", "", "the CSV parser could not read this file; check quoting and cell counts"))
    return out


def _decode(data: bytes, file: str) -> tuple[bytes | None, list[Finding]]:
    """Check the bytes: emptiness, BOMs, NUL, UTF-8, line endings. Returns the bytes without BOM.

    UTF-8 is checked without decoding the whole file into a Python string (which for CJK text
    would take up to four times the file's size in memory); the CSV parser checks it too.
    """
    out: list[Finding] = []
    if not data:
        return None, [finding(F.STR006, file, 0, "", "", "file is empty: it needs at least the header row")]
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None, [finding(F.STR002, file, 1, "", "", "file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8 without BOM")]
    nul = data.find(b"\x00")
    if nul >= 0:
        return None, [finding(F.STR005, file, _line_at(data, nul), "", "", "file contains a NUL byte; it may be UTF-16 or binary: save it as UTF-8 text")]
    if data.startswith(codecs.BOM_UTF8):
        out.append(finding(F.STR003, file, 1, "", "", "file starts with a UTF-8 byte-order mark (BOM); `infocontrols fmt` removes it"))
        data = data[len(codecs.BOM_UTF8):]
    crlf = data.find(b"\r")
    if crlf >= 0:
        kind = "CRLF" if data[crlf:crlf + 2] == b"\r\n" else "CR"
        out.append(finding(F.STR004, file, _line_at(data, crlf), "", "", f"line ends with {kind}; `infocontrols fmt` rewrites the file with LF line endings (and git: set core.autocrlf=input)"))
    return data, out


def _not_utf8(data: bytes, file: str) -> list[Finding]:
    """The STR002 finding for bytes that are not UTF-8 (the CSV parser found it first)."""
    bad = _first_invalid_utf8(data)
    if bad is None:
        return []
    sample = data[bad:bad + 4]
    return [finding(F.STR002, file, _line_at(data, bad), "", repr(sample), f"file is not valid UTF-8 (byte {sample[:1].hex()} at offset {bad}); it may be Latin-1 or Windows-1252: save it as UTF-8")]


def _first_invalid_utf8(data: bytes) -> int | None:
    """Offset of the first byte that is not valid UTF-8, or None; decodes in chunks."""
    if data.isascii():
        return None
    decoder = codecs.getincrementaldecoder("utf-8")()
    chunk = 1 << 22
    for offset in range(0, len(data), chunk):
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(data[offset:offset + chunk], final=offset + chunk >= len(data))
        except UnicodeDecodeError as exc:
            return offset - pending + exc.start
    return None


def _check_header(data: bytes, table: Table, file: str) -> list[Finding]:
    first_line = data[: data.find(b"\n") if b"\n" in data[:65536] else 65536].decode("utf-8", "replace").rstrip("\r")
    try:
        header = next(csv.reader([first_line]))
    except (csv.Error, StopIteration):
        header = []
    expected = table.field_names
    if header == expected:
        return []
    missing = [c for c in expected if c not in header]
    extra = [c for c in header if c not in expected]
    parts = []
    if missing:
        parts.append("missing column(s) " + ", ".join(missing))
    if extra:
        parts.append("unexpected column(s) " + ", ".join(repr(c) for c in extra))
    if not missing and not extra:
        parts.append("columns are out of order")
    message = "; ".join(parts) + f". Expected header: {','.join(expected)}"
    return [finding(F.STR007, file, 1, "", first_line[:200], message)]


def _read_plain(data: bytes, table: Table) -> pl.DataFrame | None:
    """The cells of a file in the plain shape, read by polars; None for any other file.

    Plain: valid UTF-8, LF line endings (no CR at all), a final LF, no blank line, and one
    cell per field on every line, each cell either free of quotes and commas or wholly
    quoted with doubled inner quotes (what `infocontrols fmt` and Python's csv module write).
    On such a file pyarrow's parser, as :func:`_read_with_pyarrow` runs it, reads the same
    cells, empty ones as null, one row per line (tests/test_fast_paths.py compares the two on
    random files); on any other file it is pyarrow's reading, and its errors, that count.
    Polars reads faster than pyarrow reads and hands over, and a package of plain files never
    imports pyarrow (nor numpy, which pyarrow imports), which takes longer than validating
    the real package does.
    """
    names = table.field_names
    # A blank line is a row of nulls to polars and no row to pyarrow. With two fields or more
    # the comma count below finds it; a one-field table is searched for one.
    if not data.endswith(b"\n") or b"\r" in data or (len(names) == 1 and b"\n\n" in data):
        return None
    rows = data.count(b"\n") - 1
    try:
        frame = pl.read_csv(
            data, has_header=True, schema={n: pl.String for n in names}, null_values=[""],
            empty_string_is_null=True, truncate_ragged_lines=False, raise_if_empty=False,
        )
    except Exception:  # noqa: BLE001 - bad UTF-8, a stray quote, a line too long: pyarrow reads it, as before
        return None
    if frame.columns != names or frame.height != rows:  # a quoted cell spans lines
        return None
    # One cell per field on every line: the file's commas are then the separators, n - 1 on each
    # line (the header's too), and those inside quoted cells, which are in the cells' values.
    # A short line, which polars fills out with nulls, has fewer; polars refuses a long one.
    in_cells = frame.select(pl.sum_horizontal(pl.all().str.count_matches(",", literal=True).sum())).item()
    if data.count(b",") != (len(names) - 1) * (rows + 1) + (in_cells or 0):
        return None
    return frame


def _read_cells(data: bytes, table: Table, file: str) -> tuple[object, list[Finding]]:
    """The cells as text: a polars DataFrame (plain files), a ``pyarrow.Table`` (others), or None."""
    plain = _read_plain(data, table)
    if plain is not None:
        return plain, []
    return _read_with_pyarrow(data, table, file)


def _read_with_pyarrow(data: bytes, table: Table, file: str):
    """Parse with pyarrow's CSV reader: a ``pyarrow.Table`` of text, or None and the findings."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = table.field_names
    n_lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    try:
        arrow = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        # The parser checks UTF-8 as it goes; find the exact place only when something failed.
        not_utf8 = _not_utf8(data, file)
        if not_utf8:
            return None, not_utf8
        text, overlong = _without_overlong_rows(data, table, file)
        return None, overlong + [p for p in _scan_rows(text, table, file) if not (overlong and p.line == 0)]
    if arrow.num_rows != n_lines - 1:
        # Blank lines or cells spanning lines: find them precisely.
        text = data.decode("utf-8")
        problems = _scan_rows(text, table, file)
        blank = [i + 1 for i, line in enumerate(text.split("\n")[:n_lines]) if not line.strip()]
        problems = [p for p in problems if p.line != 0] + [
            finding(F.STR008, file, ln, "", "", "blank line; remove it") for ln in blank
        ]
        return None, problems or [finding(F.STR008, file, 0, "", "", "row count does not match line count")]
    return arrow, []


def _type_cells(raw: pl.DataFrame, table: Table, file: str) -> tuple[pl.DataFrame, list[Finding]]:
    out: list[Finding] = []
    typed = []
    for f in table.fields:
        col = pl.col(f.name)
        if f.type == "date":
            parsed = col.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
            ok_shape = col.str.contains(DATE_SHAPE)
            typed.append(pl.when(ok_shape).then(parsed).otherwise(None).alias(f.name))
        elif f.type in ("number", "integer"):
            typed.append(col.str.strip_chars().cast(pl.Float64 if f.type == "number" else pl.Int64, strict=False).alias(f.name))
        else:
            typed.append(col)
    frame = raw.select(typed)
    checked = [f for f in table.fields if f.type in ("date", "number", "integer")]
    if checked:
        bad = raw.with_row_index("_row").filter(
            pl.any_horizontal([pl.col(f.name).is_not_null() & frame[f.name].is_null() for f in checked])
        )
        for row in bad.iter_rows(named=True):
            for f in checked:
                value = row[f.name]
                if value is None or frame[f.name][row["_row"]] is not None:
                    continue
                if f.type == "date":
                    out.append(finding(F.DATE001, file, line_of(row["_row"]), f.name, value, f"{value!r} is not a real date in YYYY-MM-DD form"))
                else:
                    out.append(finding(F.TYPE001, file, line_of(row["_row"]), f.name, value, f"{value!r} is not a {f.type}"))
    return frame, out


def _oversized_cells(raw: pl.DataFrame, file: str) -> list[Finding]:
    out = []
    # A cell cannot have more characters than bytes: look closer only where the bytes allow it.
    longest = raw.select([pl.col(c).str.len_bytes().max().alias(c) for c in raw.columns]).row(0)
    suspects = [c for c, n in zip(raw.columns, longest) if n is not None and n > MAX_CELL_CHARS]
    if not suspects:
        return out
    lengths = raw.select([pl.col(c).str.len_chars().alias(c) for c in suspects])
    for c in suspects:
        rows = lengths.with_row_index("_row").filter(pl.col(c) > MAX_CELL_CHARS)
        for r in rows.iter_rows(named=True):
            out.append(finding(F.STR009, file, line_of(r["_row"]), c, f"{r[c]:,} characters", f"cell has {r[c]:,} characters; the limit is {MAX_CELL_CHARS:,}"))
    return out


def read_table(contract: Contract, table: Table) -> ParsedTable:
    """Read, check and type one table. Never raises for bad data.

    The file is read through :func:`infocontrols.storage.read_bytes`: only a regular file
    inside the package, at most :data:`~infocontrols.storage.MAX_TABLE_BYTES`.

    Example:
        >>> parsed = read_table(contract, contract.table("events"))          # doctest: +SKIP
        >>> parsed.ok, parsed.frame.height                                    # doctest: +SKIP
        (True, 193)
    """
    file = table.path
    parsed = ParsedTable(table)
    try:
        data = storage.read_bytes(contract.root, table.path, limit=storage.MAX_TABLE_BYTES)
    except storage.MissingFile as exc:
        message = f"file not found; the descriptor lists it as resource '{table.name}'"
        if exc.path != table.path or "folder" in exc.reason:
            message = exc.reason
        parsed.findings.append(finding(F.STR001, file, 0, "", "", message))
        return parsed
    except (storage.NotARegularFile, storage.FileTooLarge) as exc:
        parsed.findings.append(finding(F.STR011, file, 0, "", "", exc.reason))
        return parsed
    except storage.StorageError as exc:
        parsed.findings.append(finding(F.STR001, file, 0, "", "", f"cannot read file: {exc.reason}"))
        return parsed
    parsed.sha256, parsed.size = hashlib.sha256(data).hexdigest(), len(data)
    data, problems = _decode(data, file)
    parsed.findings += problems
    if data is None:
        return parsed
    header_problems = _check_header(data, table, file)
    if header_problems and _not_utf8(data, file):
        header_problems = _not_utf8(data, file)
    parsed.findings += header_problems
    if header_problems:
        return parsed
    cells, problems = _read_cells(data, table, file)
    parsed.findings += problems
    if cells is None:
        return parsed
    del data  # the bytes are parsed: free them before converting, to bound peak memory
    raw = cells if isinstance(cells, pl.DataFrame) else pl.from_arrow(cells)
    del cells
    if raw.height == 0 and not table.empty_allowed:
        parsed.findings.append(finding(F.STR010, file, 1, "", "", "table has a header but no rows"))
    oversized = _oversized_cells(raw, file)
    parsed.findings += oversized
    if oversized:
        return parsed
    parsed.raw = raw
    parsed.frame, problems = _type_cells(raw, table, file)
    parsed.findings += problems
    return parsed
