"""Validate a package: phase 1 reads and types every file, phase 2 checks every rule.

Example:
    >>> from infocontrols.validation import validate_package
    >>> report = validate_package(".")                   # doctest: +SKIP
    >>> report.ok, report.summary()                      # doctest: +SKIP
    (True, '0 errors, 0 warnings in 10 tables (1,204 rows)')
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from .. import progress
from ..contract import Contract, ContractError
from .findings import ERROR, RULES, WARNING, Finding, Rule
from .rules import HAND_RULES, BaselineError, Context, resolve_baseline
from .structure import ParsedTable, read_table

__all__ = ["Report", "validate_package", "validate_contract", "RULES", "Rule", "Finding", "ContractError", "BaselineError"]


@dataclass
class Report:
    """Every finding of one validation run, with the tables and rows it read."""

    findings: list[Finding] = field(default_factory=list)
    tables: int = 0
    rows: int = 0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        e, w = len(self.errors), len(self.warnings)
        return (
            f"{e:,} error{'s' if e != 1 else ''}, {w:,} warning{'s' if w != 1 else ''} "
            f"in {self.tables} tables ({self.rows:,} rows)"
        )

    def by_rule(self, rule: str) -> list[Finding]:
        return [f for f in self.findings if f.rule == rule]


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """Drop 'missing' findings for cells already reported as unparseable, and 'not a URI'
    findings for URLs already reported by the stricter SRC003."""
    unparsed = {(f.file, f.line, f.column) for f in findings if f.rule in ("DATE001", "TYPE001")}
    bad_urls = {(f.file, f.line, f.column) for f in findings if f.rule == "SRC003"}
    return [
        f for f in findings
        if not (f.rule == "REQ001" and (f.file, f.line, f.column) in unparsed)
        and not (f.rule == "PAT001" and (f.file, f.line, f.column) in bad_urls)
    ]


# Text columns that cross-table rules still read after a table's own checks are done.
CROSS_TABLE_TEXT = {"outlet", "original_outlet", "note"}


def _slim(parsed: ParsedTable) -> None:
    """Drop the free text a table's own checks have finished with, to bound memory."""
    if parsed.frame is None or parsed.table.name == "vocabularies":
        return
    from .rules import free_text_columns

    done = [c for c in free_text_columns(parsed.table) if c not in CROSS_TABLE_TEXT]
    parsed.frame = parsed.frame.drop(done)
    parsed.raw = None


def validate_contract(
    contract: Contract, *, today: dt.date | None = None, baseline: str | None = None, generated: bool = True
) -> Report:
    """Validate the package that ``contract`` describes; see :func:`validate_package`.

    Each table is read, checked against its schema and its own rules, then slimmed to the
    columns other tables refer to; the cross-table rules run last. ``generated=False``
    leaves out STR012 (generated files match the CSV): the build, which regenerates them,
    and `add`, which checks a state not yet built, use it.

    Example:
        >>> validate_contract(Contract.from_source("."), generated=False).ok    # doctest: +SKIP
        True
    """
    from .constraints import check_constraints  # imports pandera: only when validating
    from .generated import check_generated
    from .rules import TABLE_RULES

    today = today or dt.date.today()
    parsed: dict[str, ParsedTable] = {}
    report = Report(tables=len(contract.tables))
    context = Context(contract=contract, tables=parsed, today=today, baseline=baseline)
    for number, table in enumerate(contract.tables.values(), start=1):
        progress.step(f"checking {table.path}", number, len(contract.tables))
        current = parsed[table.name] = read_table(contract, table)
        report.findings += current.findings
        if generated:
            report.findings += check_generated(contract, current)
        if current.frame is not None:
            report.rows += current.frame.height
        report.findings += check_constraints(current, contract)
        for rule in TABLE_RULES:
            report.findings += list(rule(context, table))
        _slim(current)
    progress.step("checking the rules across tables")
    for rule in HAND_RULES:
        report.findings += list(rule(context))
    report.findings = _dedupe(report.findings)
    report.findings.sort(key=lambda f: (f.rule, f.file, f.line, f.column))
    return report


READ_ATTEMPTS = 3


def descriptor_report(exc: ContractError) -> Report:
    """The report of a package whose descriptor or a schema it names cannot be used: one
    DESC001 finding at the file (and line, if known) the error names; no table is read."""
    from .findings import DESC001, finding

    message = f"{exc.detail}; no table can be checked until this is fixed"
    return Report(findings=[finding(DESC001, exc.file, exc.line, "", "", message)])


def validate_package(root: str | Path = ".", *, today: dt.date | None = None, baseline: str | None = None) -> Report:
    """Validate the package whose ``datapackage.json`` is in ``root``.

    Returns a :class:`Report`. A descriptor or schema that is broken (not JSON, missing, a
    constraint that cannot be enforced, a path outside the package) is a DESC001 finding naming
    the file, and nothing else can be checked. Raises :class:`ContractError` when there is no
    package to validate (no such folder, no ``datapackage.json``) and :class:`BaselineError`
    when ``baseline`` is not a readable git revision.
    Never writes to the package (except to complete a write another command was
    interrupted in) and makes no network request.

    It takes no lock. Writers replace whole files by rename, so each file is read either
    before or after a change; if any file it read was replaced while it was reading, it
    reads the package again, so a report never mixes two states of the package.

    Example:
        >>> validate_package(".").ok                                           # doctest: +SKIP
        True
    """
    from .. import storage

    if baseline is not None:
        resolve_baseline(Path(root), baseline)  # a bad revision stops here, before any reading
    for _ in range(READ_ATTEMPTS):
        with storage.watch_reads() as reads:
            try:
                contract = Contract.from_descriptor(root)
            except ContractError as exc:
                if exc.file is None:  # no package here at all: validate cannot run
                    raise
                report = descriptor_report(exc)
            else:
                report = validate_contract(contract, today=today, baseline=baseline)
        if not reads.changed():
            return report
    raise ContractError(f"{root}: the package kept changing while it was being validated (another command is writing it); run validate again when it finishes")
