"""Stale, truncated or swapped Parquet files: validate names them with the fix, and load() never
returns another table or old data, nor a bare ArrowInvalid."""
from __future__ import annotations

import json
import shutil
import warnings

import pyarrow.parquet as pq
import pytest

import infocontrols as ic
from infocontrols.load import LoadError, StaleParquetWarning

BACKENDS = ("pandas", "polars", "arrow")


def titles(frame, backend):
    column = frame.column("title").to_pylist() if backend == "arrow" else list(frame["title"])
    return [str(t) for t in column]


def load_quietly(name, backend, root):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = ic.load(name, backend=backend, root=root)
    return frame, [w for w in caught if issubclass(w.category, StaleParquetWarning)]


def fresh(package):
    from infocontrols.load import _contract_at

    _contract_at.cache_clear()  # load() caches contracts per folder; each test has its own copy
    return package


def test_the_built_parquet_files_record_their_table_and_csv(package):
    import hashlib

    for table in package.contract.tables.values():
        metadata = pq.ParquetFile(package.root / "data" / f"{table.name}.parquet").schema_arrow.metadata
        csv = (package.root / table.path).read_bytes()
        assert metadata[b"infocontrols.table"] == table.name.encode()
        assert metadata[b"infocontrols.csv_sha256"].decode() == hashlib.sha256(csv).hexdigest()
        assert int(metadata[b"infocontrols.csv_bytes"]) == len(csv)


def test_a_valid_package_loads_from_parquet_without_warning(package):
    fresh(package)
    for backend in BACKENDS:
        _, stale = load_quietly("events", backend, package.root)
        assert stale == []


# --------------------------------------------------------------- stale: a CSV edited without rebuilding
@pytest.mark.parametrize("backend", BACKENDS)
def test_an_edited_csv_is_what_load_returns(package, backend):
    fresh(package)
    line = package.set_cell("events", 0, "title", "Edited without rebuilding")
    frame, stale = load_quietly("events", backend, package.root)
    assert titles(frame, backend)[line - 2] == "Edited without rebuilding", "never the old value"
    assert stale and "data/events.parquet: was built from an earlier version of the CSV" in str(stale[0].message)
    assert "run `infocontrols build`" in str(stale[0].message)


def test_validate_reports_a_stale_parquet_file_and_descriptor(package):
    package.set_cell("events", 0, "title", "Edited without rebuilding")
    hits = package.validate().by_rule("STR012")
    by_file = {h.file: h.message for h in hits}
    assert set(by_file) == {"data/events.parquet", "datapackage.json"}
    assert "the CSV changed since the last build; run `infocontrols build`" in by_file["data/events.parquet"]
    assert by_file["datapackage.json"].startswith("records data/events.csv as ") and "run `infocontrols build`" in by_file["datapackage.json"]


def test_same_size_edit_is_found_by_hash(package):
    fresh(package)
    path = package.path("actors")
    data = path.read_bytes()
    path.write_bytes(data.replace(b"Baidu,", b"Baidv,", 1))  # same size, different bytes
    assert len(path.read_bytes()) == len(data)
    frame, stale = load_quietly("actors", "arrow", package.root)
    assert "Baidv" in frame.column("name").to_pylist() and stale
    assert {h.file for h in package.validate().by_rule("STR012")} == {"data/actors.parquet", "datapackage.json"}


# --------------------------------------------------------------- truncated
def test_a_truncated_parquet_file_is_reported_and_load_falls_back(package):
    fresh(package)
    path = package.root / "data" / "events.parquet"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    [hit] = [h for h in package.validate().by_rule("STR012") if h.file == "data/events.parquet"]
    assert "cannot be read as Parquet" in hit.message and "truncated or damaged; run `infocontrols build`" in hit.message
    for backend in BACKENDS:
        frame, stale = load_quietly("events", backend, package.root)
        assert len(frame) == len(package.rows("events")) - 1 and stale


def test_an_empty_parquet_file_is_reported(package):
    (package.root / "data" / "figures.parquet").write_bytes(b"")
    assert any(h.file == "data/figures.parquet" for h in package.validate().by_rule("STR012"))


# --------------------------------------------------------------- swapped
def test_a_swapped_parquet_file_never_yields_the_other_table(package):
    fresh(package)
    shutil.copy(package.root / "data" / "actors.parquet", package.root / "data" / "events.parquet")
    arrow, stale = load_quietly("events", "arrow", package.root)
    assert arrow.column_names[0] == "event_id" and arrow.schema.metadata[b"infocontrols.table"] == b"events"
    assert stale and "holds table 'actors', not 'events' (copied or swapped?)" in str(stale[0].message)
    hits = {h.file: h.message for h in package.validate().by_rule("STR012")}
    assert "holds table 'actors', not 'events'" in hits["data/events.parquet"]
    assert "datapackage.json" in hits, "the descriptor's hash of events.parquet no longer holds either"


# --------------------------------------------------------------- no usable copy at all
def test_stale_parquet_and_a_broken_csv_raise_an_error_that_says_what_to_do(package):
    fresh(package)
    package.set_cell("events", 0, "date_start", "not a date")
    with pytest.raises(LoadError) as caught:
        ic.load("events", root=package.root)
    message = str(caught.value)
    assert message.startswith("data/events.parquet: was built from an earlier version of the CSV")
    assert "data/events.csv: cannot be read: line 2: 'not a date' is not a real date" in message and "[rule DATE001]" in message
    assert "run `infocontrols build`" in message


def test_a_missing_parquet_file_listed_in_the_descriptor_is_reported(package):
    (package.root / "data" / "figures.parquet").unlink()
    [hit] = [h for h in package.validate().by_rule("STR012") if h.file == "data/figures.parquet"]
    assert "datapackage.json lists this file but it is missing" in hit.message


def test_a_parquet_file_without_its_csv_still_loads(package):
    """Someone who ships only the Parquet files: nothing to compare with, so it is used as is."""
    fresh(package)
    expected = ic.load("figures", root=package.root)
    package.path("figures").unlink()
    frame, stale = load_quietly("figures", "pandas", package.root)
    assert stale == [] and frame.equals(expected)


def test_a_parquet_file_from_an_older_build_is_stale(package):
    fresh(package)
    path = package.root / "data" / "events.parquet"
    table = pq.read_table(path)
    metadata = {k: v for k, v in table.schema.metadata.items() if not k.startswith(b"infocontrols.csv")}
    pq.write_table(table.replace_schema_metadata(metadata), path)
    _, stale = load_quietly("events", "arrow", package.root)
    assert stale and "older infocontrols" in str(stale[0].message)
    descriptor = json.loads((package.root / "datapackage.json").read_text(encoding="utf-8"))
    assert any(r["name"] == "events-parquet" for r in descriptor["resources"])
