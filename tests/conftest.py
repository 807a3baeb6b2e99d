"""Shared fixtures: a private copy of the real package that a test may break."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from infocontrols.contract import Contract
from infocontrols.validation import validate_package

ROOT = Path(__file__).resolve().parents[1]
# Validation runs as of today: accessed_on dates move forward with every audit.
TODAY = dt.date.today()

# load() remembers verified CSV hashes between processes; tests keep theirs to themselves.
os.environ["INFOCONTROLS_CACHE_DIR"] = tempfile.mkdtemp(prefix="infocontrols-test-cache-")

# Tests make throwaway git repositories (and `validate --baseline`, `diff` and `release changes`
# read them). Whoever runs the tests, their git configuration (a signing key, hooks, autocrlf, a
# default branch, no user.name) must not change what the tests see: git reads no global or system
# configuration here, in this process and every process it starts.
GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "InfoControls tests",
    "GIT_AUTHOR_EMAIL": "tests@example.org",
    "GIT_COMMITTER_NAME": "InfoControls tests",
    "GIT_COMMITTER_EMAIL": "tests@example.org",
}
os.environ.update(GIT_ENV)
GIT_SETTINGS = ("user.name=InfoControls tests", "user.email=tests@example.org", "commit.gpgsign=false",
                "tag.gpgsign=false", "init.defaultBranch=main", "core.autocrlf=false", f"core.hooksPath={os.devnull}")


def git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    """Run ``git -C repo ARGS`` with a fixed identity, no signing, no hooks and no configuration
    of the user's or the machine's, even if a test changed the environment; raise if it fails.

    Example: ``git(pkg.root, "init", "-q")``, then ``git(pkg.root, "add", "-A")``.
    """
    settings = [arg for setting in GIT_SETTINGS for arg in ("-c", setting)]
    return subprocess.run(["git", "-C", str(repo), *settings, *args], env={**os.environ, **GIT_ENV},
                          check=True, capture_output=True, text=True, timeout=120)


def commit_all(repo: Path, message: str = "baseline") -> None:
    """Make ``repo`` a git repository (if it is not one) whose HEAD holds every file in it."""
    if not (repo / ".git").exists():
        git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)


class Package:
    """A copy of the package in a temporary folder, with helpers to edit its CSV files."""

    def __init__(self, root: Path):
        self.root = root
        self.contract = Contract.from_descriptor(root)

    def path(self, table: str) -> Path:
        return self.root / self.contract.table(table).path

    def rows(self, table: str) -> list[list[str]]:
        with self.path(table).open(encoding="utf-8", newline="") as handle:
            return list(csv.reader(handle))

    def write_rows(self, table: str, rows: list[list[str]]) -> None:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        self.path(table).write_text(buffer.getvalue(), encoding="utf-8")

    def set_cell(self, table: str, index: int, column: str, value: str) -> int:
        """Set one cell of data row ``index`` (0-based); return its file line."""
        rows = self.rows(table)
        rows[index + 1][rows[0].index(column)] = value
        self.write_rows(table, rows)
        return index + 2

    def find(self, table: str, column: str, value: str) -> int:
        """0-based index of the first data row whose ``column`` equals ``value``."""
        rows = self.rows(table)
        col = rows[0].index(column)
        return next(i for i, row in enumerate(rows[1:]) if row[col] == value)

    def cell(self, table: str, index: int, column: str) -> str:
        rows = self.rows(table)
        return rows[index + 1][rows[0].index(column)]

    def validate(self, **kwargs):
        kwargs.setdefault("today", TODAY)
        return validate_package(self.root, **kwargs)


def files_of(root: Path) -> dict[Path, bytes]:
    """Every file under ``root`` with its bytes, except the package lock (which is kept on purpose)."""
    return {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and p.name != ".infocontrols.lock"}


def without_generated(root: Path) -> None:
    """Drop the Parquet copies and the recorded sizes and hashes, as a package before its
    first build has none: then a test that edits a CSV sees only the findings it provokes."""
    path = root / "datapackage.json"
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    descriptor["resources"] = [r for r in descriptor["resources"] if r.get("format") != "parquet"]
    for resource in descriptor["resources"]:
        resource.pop("bytes", None)
        resource.pop("hash", None)
    path.write_text(json.dumps(descriptor, indent=2), encoding="utf-8")
    for parquet in (root / "data").glob("*.parquet"):
        parquet.unlink()


def copy_package(destination: Path) -> Path:
    for folder in ("data", "schema"):
        shutil.copytree(ROOT / folder, destination / folder)
    shutil.copy2(ROOT / "datapackage.json", destination / "datapackage.json")
    return destination


@pytest.fixture(autouse=True)
def _fresh_fault_counters():
    """The writer's test hooks count events per process; each test starts from zero."""
    from infocontrols import storage

    storage._FAULT_COUNTS.clear()
    yield
    storage._FAULT_COUNTS.clear()


@pytest.fixture
def package(tmp_path: Path) -> Package:
    """A fresh, valid copy of the real package for one test to mutate."""
    return Package(copy_package(tmp_path / "pkg"))


@pytest.fixture(scope="session")
def real_report():
    """The validation report of the real package (computed once)."""
    return validate_package(ROOT, today=TODAY)


@pytest.fixture(scope="session")
def sqlite_export(tmp_path_factory) -> Path:
    """The real package exported once to SQLite, for the export, explorer and R tests."""
    from infocontrols.export_sqlite import export_sqlite

    return export_sqlite(tmp_path_factory.mktemp("sqlite") / "infocontrols.sqlite", root=ROOT)


def csv_rows(table: str, root: Path = ROOT) -> list[dict[str, str]]:
    """The rows of a table's CSV file read with the csv module alone, as the file holds them:
    an independent count and copy to check loaders and exports against."""
    descriptor = json.loads((root / "datapackage.json").read_text(encoding="utf-8"))
    path = next(r["path"] for r in descriptor["resources"] if r["name"] == table)
    with (root / path).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def vocabulary_codes(root: Path = ROOT) -> dict[str, list[str]]:
    """Each vocabulary's codes in file order, read from ``schema/vocabularies.csv`` with the csv
    module, not through the contract the loaders use."""
    codes: dict[str, list[str]] = {}
    with (root / "schema" / "vocabularies.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            codes.setdefault(row["vocabulary"], []).append(row["code"])
    return codes


def coded_fields(root: Path = ROOT) -> dict[tuple[str, str], str]:
    """(table, field) -> vocabulary name, read from the Table Schemas in ``schema/`` as JSON."""
    out = {}
    for path in sorted((root / "schema").glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        for f in schema.get("fields", []) if path.name != "package.json" else []:
            if f.get("vocabulary"):
                out[path.stem, f["name"]] = f["vocabulary"]
    return out


def arrow_rows(table: str) -> list[dict]:
    """``ic.load(table)`` as plain Python rows: dates as ISO strings, codes as strings, None for missing."""
    import infocontrols as ic

    rows = ic.load(table, backend="arrow", root=ROOT).to_pylist()
    return [{k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in row.items()} for row in rows]
