"""Phase 2a: the schema's own constraints, as pandera checks generated from the contract.

Nothing here is written twice: required, unique, pattern, minimum/maximum, enum, format
and the vocabulary of every field come from ``schema/`` through the contract, and every one
of them is enforced. Patterns match the whole cell, as Table Schema (and frictionless)
reads them; a pattern polars' regex engine cannot run (a lookahead, a backreference) is
run with Python's ``re`` on that column instead of being skipped.

Importing pandera costs about a second (it imports pandas), more than validating the real
package takes. So each table is first screened with the very expressions pandera's polars
backend evaluates, in one pass; pandera runs, and is imported, only for a table the screen
says fails (or cannot vouch for), and reports exactly what it always reported.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache

import polars as pl

from ..contract import Contract, Table
from . import findings as F
from .findings import Finding, finding
from .structure import ParsedTable, line_of

_DTYPES = {"date": pl.Date, "number": pl.Float64, "integer": pl.Int64}
URI = r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$"  # a scheme and something after it, no whitespace
# URI for polars' regex engine, as strict or stricter: its \s lacks the four information
# separators (\x1c-\x1f) that Python's has, and its $ matches only at the very end. A cell
# it accepts, URI accepts; only the cells it rejects are put to URI itself.
URI_SURE = r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s\x1c-\x1f]+$"


def anchored(pattern: str) -> str:
    """The pattern as a whole-cell match, as Table Schema means it."""
    return f"^(?:{pattern})$"


@lru_cache(maxsize=256)
def polars_can_run(pattern: str) -> bool:
    """Whether polars' regex engine compiles ``pattern`` (it has no lookaround or backreferences).

    Example:
        >>> polars_can_run("^[A-Z]{2}$"), polars_can_run("^(?!CN)[A-Z]{2}$")
        (True, False)
    """
    try:
        pl.Series(["x"]).str.contains(anchored(pattern))
    except Exception:  # noqa: BLE001 - polars raises ComputeError (or others) for what it cannot compile
        return False
    return True


@dataclass(frozen=True)
class ColumnSpec:
    """What the schema asks of one column: its type, nullability, uniqueness and value checks.

    ``checks`` holds ``(kind, argument)`` pairs, kind one of ``str_matches``, ``isin``,
    ``ge``, ``le``. The pandera schema and the screen are both built from these, so they
    cannot drift apart.
    """

    name: str
    dtype: object
    nullable: bool
    unique: bool
    checks: tuple[tuple[str, object], ...]


def column_specs(table: Table, contract: Contract) -> tuple[list[ColumnSpec], list[str] | None]:
    """One :class:`ColumnSpec` per field, and the composite primary key (None for a single-field key)."""
    specs = []
    # A foreign key that resolves equals a valid key, so its pattern is already checked there;
    # one that does not resolve is reported by KEY003. Skipping them halves the regex work.
    foreign = {fk.fields[0] for fk in table.foreign_keys if len(fk.fields) == 1}
    for f in table.fields:
        checks: list[tuple[str, object]] = []
        if f.pattern and f.name not in foreign and polars_can_run(f.pattern):
            checks.append(("str_matches", anchored(f.pattern)))
        if f.vocabulary and f.vocabulary in contract.vocabularies:
            checks.append(("isin", list(contract.vocabulary(f.vocabulary).codes)))
        if f.minimum is not None:
            checks.append(("ge", f.minimum))
        if f.maximum is not None:
            checks.append(("le", f.maximum))
        single_key = tuple(table.primary_key) == (f.name,)
        specs.append(ColumnSpec(f.name, _DTYPES.get(f.type, pl.Utf8), not f.required, f.unique or single_key, tuple(checks)))
    composite = list(table.primary_key) if len(table.primary_key) > 1 else None
    return specs, composite


def pandera_schema(table: Table, contract: Contract):
    """The pandera schema for ``table`` (a ``pandera.polars.DataFrameSchema``): one Column per
    field, checks from its constraints. Imports pandera.

    Example:
        >>> pandera_schema(contract.table("events"), contract).columns["event_id"].unique   # doctest: +SKIP
        True
    """
    import pandera.polars as pa

    make = {"str_matches": pa.Check.str_matches, "isin": pa.Check.isin, "ge": pa.Check.ge, "le": pa.Check.le}
    specs, composite = column_specs(table, contract)
    columns = {
        spec.name: pa.Column(spec.dtype, checks=[make[kind](arg) for kind, arg in spec.checks],
                             nullable=spec.nullable, unique=spec.unique)
        for spec in specs
    }
    return pa.DataFrameSchema(columns, unique=composite, name=table.name)


def screen_passes(frame: pl.DataFrame, table: Table, contract: Contract) -> bool:
    """True when pandera's schema for ``table`` certainly finds nothing in ``frame``.

    It evaluates, in one polars pass, the expressions pandera's polars backend evaluates
    for each check (``is_null`` and, for floats, ``is_nan`` for a required column;
    ``str.contains``, ``is_in``, ``ge``, ``le`` with nulls passing), counts distinct values
    where pandera looks for duplicates (a unique column, the composite key: fewer distinct
    values than rows, null counting as a value, is exactly a duplicate), and also refuses any
    NaN in a checked float column and any column whose name or type differs from the
    schema's. False means "run pandera", never "invalid".

    Example:
        >>> screen_passes(read_table(contract, contract.table("events")).frame, contract.table("events"), contract)   # doctest: +SKIP
        True
    """
    specs, composite = column_specs(table, contract)
    if frame.columns != [spec.name for spec in specs]:
        return False
    failing: list[pl.Expr] = []
    for spec in specs:
        if frame.schema[spec.name] != spec.dtype:
            return False
        col = pl.col(spec.name)
        is_float = spec.dtype == pl.Float64
        if not spec.nullable:
            failing.append(col.is_null().any())
        if is_float and (not spec.nullable or spec.checks):
            failing.append(col.is_nan().any())
        if spec.unique:  # a repeated value (null counting as one) leaves fewer distinct values than rows
            failing.append(col.n_unique() != pl.len())
        for kind, arg in spec.checks:
            if kind == "str_matches":
                passed = col.str.contains(arg if arg.startswith("^") else f"^{arg}")
            elif kind == "isin":
                passed = col.is_in(arg)
            elif kind == "ge":
                passed = col.ge(arg)
            elif kind == "le":
                passed = col.le(arg)
            else:  # pragma: no cover - a kind column_specs does not make
                return False
            failing.append(passed.not_().any())  # a null outcome passes, as pandera's ignore_na has it
    if composite:
        failing.append(pl.struct(composite).n_unique() != pl.len())
    if not failing:
        return True
    return not any(frame.select([expr.alias(f"_{i}") for i, expr in enumerate(failing)]).row(0))


def did_you_mean(value: str, codes: tuple[str, ...]) -> str:
    """' (did you mean 'x' or 'y'?)' for the closest codes, or '' when none is close."""
    close = difflib.get_close_matches(value.lower().strip(), codes, n=2, cutoff=0.5)
    if not close:
        prefix = [c for c in codes if c.startswith(value.lower()[:3])] if len(value) >= 3 else []
        close = prefix[:2]
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


def did_you_mean_id(value: str, known) -> str:
    """' (did you mean 'so-x'?)' for the closest existing ID, or ''.

    Only IDs that sort near ``value`` are compared (a mistyped ID usually keeps its prefix,
    and the date that starts most IDs), so this stays fast with millions of IDs.

    Example:
        >>> did_you_mean_id("so-reuters-74698", {"so-reuters-746898", "so-xinhua-1"})
        " (did you mean 'so-reuters-746898'?)"
    """
    import bisect

    ordered = known if isinstance(known, list) else sorted(known)
    at = bisect.bisect_left(ordered, value)
    nearby = ordered[max(0, at - 50): at + 50]
    close = difflib.get_close_matches(value, nearby, n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _message(table: Table, contract: Contract, column: str, check: str, value: str) -> tuple[F.Rule, str]:
    if check == "not_nullable":
        return F.REQ001, "required value is missing"
    if check == "field_uniqueness":
        if tuple(table.primary_key) == (column,):
            return F.KEY001, f"duplicate primary key {value!r}"
        return F.UNQ001, f"{value!r} appears more than once; {column} must be unique"
    if check == "multiple_fields_uniqueness":
        return F.KEY001, f"duplicate primary key ({', '.join(table.primary_key)})"
    f = table.field(column)
    if check.startswith("str_matches"):
        if re.match(r"\^\(?(ev|ac|me|so|fi)[-|]", f.pattern or ""):
            return F.KEY002, f"{value!r} is not a valid ID: it must match {f.pattern}"
        return F.PAT001, f"{value!r} does not match the pattern {f.pattern}"
    if check.startswith("isin"):
        vocab = contract.vocabulary(f.vocabulary)
        return F.VOC001, f"{value!r} is not in vocabulary {f.vocabulary}{did_you_mean(value, vocab.codes)}"
    if check.startswith("greater_than_or_equal_to"):
        return F.RNG001, f"{value} is below the minimum {f.minimum}"
    if check.startswith("less_than_or_equal_to"):
        return F.RNG001, f"{value} is above the maximum {f.maximum}"
    return F.PAT001, f"{value!r} fails check {check}"


def _later_duplicates_only(cases: pl.DataFrame, frame: pl.DataFrame, table: Table) -> pl.DataFrame:
    """Keep a duplicate key's later rows only, as frictionless does: the first one is the original."""
    unique_checks = ("field_uniqueness", "multiple_fields_uniqueness")
    is_unique_check = pl.col("check").is_in(list(unique_checks))
    dups = cases.filter(is_unique_check)
    if dups.height == 0:
        return cases
    keep = []
    for (column, check), group in dups.group_by(["column", "check"], maintain_order=True):
        columns = [column] if check == "field_uniqueness" else list(table.primary_key)
        keys = frame.select(columns).with_row_index("index").filter(pl.col("index").is_in(group["index"].cast(pl.UInt32).implode()))
        first = keys.group_by(columns).agg(pl.col("index").min())["index"]
        keep.append(group.filter(~pl.col("index").cast(pl.UInt32).is_in(first.implode())))
    return pl.concat([cases.filter(~is_unique_check), *keep], how="vertical_relaxed")


def _cells_failing(frame: pl.DataFrame, column: str, ok, surely_ok: pl.Expr | None = None) -> list[tuple[int, str]]:
    """(row index, value) of the non-null cells of ``column`` for which ``ok(value)`` is false.

    ``surely_ok``, if given, is a polars expression true only of cells ``ok`` accepts: the
    cells it holds for are not put to ``ok`` one by one.
    """
    cells = frame[column] if surely_ok is None else frame.select(pl.col(column).filter(~surely_ok))[column]
    values = cells.drop_nulls().unique().to_list()
    bad = [v for v in values if not ok(v)]
    if not bad:
        return []
    hits = frame.select(column).with_row_index("_row").filter(pl.col(column).is_in(bad))
    return list(hits.iter_rows())


def extra_checks(parsed: ParsedTable, contract: Contract) -> list[Finding]:
    """Constraints pandera cannot run here: Python-only patterns, enums apart from a vocabulary, format uri.

    Example:
        >>> extra_checks(read_table(contract, contract.table("events")), contract)   # doctest: +SKIP
        []
    """
    table, frame = parsed.table, parsed.frame
    out: list[Finding] = []
    file = table.path
    for f in table.fields:
        if f.name not in frame.columns:
            continue
        if f.pattern and not polars_can_run(f.pattern):
            regex = re.compile(f.pattern)
            for index, value in _cells_failing(frame, f.name, lambda v: regex.fullmatch(v) is not None):
                rule, message = _message(table, contract, f.name, "str_matches", value)
                out.append(finding(rule, file, line_of(index), f.name, value, message))
        if f.enum is not None:
            vocabulary = contract.vocabularies.get(f.vocabulary) if f.vocabulary else None
            codes = set(vocabulary.codes) if vocabulary else None
            if codes != set(f.enum):
                allowed = set(f.enum)
                # A value outside the vocabulary is already reported against the vocabulary.
                for index, value in _cells_failing(frame, f.name, lambda v: v in allowed or (codes is not None and v not in codes)):
                    where = table.schema_path or "the schema"
                    out.append(finding(F.VOC001, file, line_of(index), f.name, value, f"{value!r} is not one of the values {where} allows for {f.name} (its enum); if the vocabulary changed, run `infocontrols build`"))
        if f.format == "uri":
            sure = pl.col(f.name).str.contains(URI_SURE)
            for index, value in _cells_failing(frame, f.name, lambda v: re.match(URI, v) is not None, sure):
                out.append(finding(F.PAT001, file, line_of(index), f.name, value, f"{value!r} is not a URI (the field's format is uri)"))
    return out


def check_constraints(parsed: ParsedTable, contract: Contract) -> list[Finding]:
    """Run the generated pandera schema lazily and turn every failure case into a finding.

    A table that passes :func:`screen_passes` has no failure case, and pandera is not run.

    Example:
        >>> check_constraints(read_table(contract, contract.table("events")), contract)   # doctest: +SKIP
        []
    """
    table, frame = parsed.table, parsed.frame
    if frame is None or frame.height == 0:
        return []
    extra = extra_checks(parsed, contract)
    if screen_passes(frame, table, contract):
        return extra
    from pandera.errors import SchemaError, SchemaErrors

    schema = pandera_schema(table, contract)
    try:
        schema.validate(frame, lazy=True)
        return extra
    except SchemaErrors as exc:
        cases = exc.failure_cases
    except SchemaError as exc:  # pragma: no cover - lazy mode raises SchemaErrors
        cases = exc.failure_cases
    cases = _later_duplicates_only(cases, frame, table)
    out: list[Finding] = []
    file = table.path
    hints: dict[tuple[str, str, str], tuple[F.Rule, str]] = {}
    composite_row = None
    for case in cases.iter_rows(named=True):
        column, check, index = case["column"], str(case["check"]), case["index"]
        if index is None:
            continue
        if check == "multiple_fields_uniqueness":
            if composite_row is None:
                composite_row = frame.select(table.primary_key)
            key = composite_row.row(index)
            rule, message = F.KEY001, f"duplicate primary key ({', '.join(table.primary_key)}) = {key}"
            out.append(finding(rule, file, line_of(index), ",".join(table.primary_key), ",".join(map(str, key)), message))
            continue
        value = "" if case["failure_case"] is None else str(case["failure_case"])
        memo = (column, check, value)
        if memo not in hints:
            hints[memo] = _message(table, contract, column, check, value)
        rule, message = hints[memo]
        out.append(finding(rule, file, line_of(index), column, value, message))
    return out + extra
