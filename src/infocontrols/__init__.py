"""InfoControls: China's information controls as a typed, validated data package.

Example:
    >>> import infocontrols as ic
    >>> ic.tables()[:3]
    ['events', 'actors', 'measures']
    >>> events = ic.load("events")            # pandas; backend="polars" or "arrow" also work

Importing this module imports neither frictionless nor pandera, nor pandas, polars or
pyarrow; ``__version__`` is looked up the first time it is read.
"""
from __future__ import annotations

from pathlib import Path

from .contract import Contract, ContractError, default_root
from .load import LoadError, StaleParquetWarning, disagreements, events_wide, load, source_hosts, vocabulary
from .load import contract as _contract


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("infocontrols")
    except PackageNotFoundError:  # a checkout that is not installed
        return _contract().version


def __getattr__(name: str):
    # The version comes from the package metadata, which takes a search of sys.path to find:
    # only when asked for, then kept.
    if name == "__version__":
        globals()["__version__"] = value = _version()
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def tables(root: str | Path | None = None) -> list[str]:
    """Names of the tables, in package order.

    Example:
        >>> "events" in tables()
        True
    """
    return list(_contract(root).tables)


def path(table: str, fmt: str = "csv", *, root: str | Path | None = None) -> Path:
    """Path of a table's file, for people who want the raw CSV or Parquet.

    Example:
        >>> path("events").name, path("events", fmt="parquet").name
        ('events.csv', 'events.parquet')
    """
    c = _contract(root)
    if fmt == "csv":
        return c.csv_path(table)
    if fmt == "parquet":
        c.table(table)
        return c.parquet_path(table)
    raise ValueError(f"fmt must be 'csv' or 'parquet', not {fmt!r}")


def package(root: str | Path | None = None):
    """The data package as a ``frictionless.Package`` (imports frictionless).

    Example:
        >>> package().get_resource("events").path
        'data/events.csv'
    """
    from frictionless import Package

    base = Path(root) if root is not None else default_root()
    return Package(str(base / "datapackage.json"))


def validate(root: str | Path | None = None):
    """Validate the package (default: the bundled one) and return the report.

    Example:
        >>> validate().ok
        True
    """
    from .validation import validate_package

    return validate_package(Path(root) if root is not None else default_root())


__all__ = [
    "__version__", "load", "tables", "path", "package", "vocabulary", "events_wide", "source_hosts", "disagreements",
    "validate", "Contract", "ContractError", "LoadError", "StaleParquetWarning",
]
