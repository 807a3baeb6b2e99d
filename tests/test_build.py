"""The build: generated files in sync, deterministic Parquet, atomic writes, one version."""
from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import infocontrols
from infocontrols import storage
from infocontrols.build import BuildError, build, outputs, parquet_bytes
from infocontrols.contract import Contract

from conftest import ROOT, files_of

pytestmark = pytest.mark.slow  # full builds, in-process and through the CLI, and cffconvert


def source_copy(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    for folder in ("data", "schema", "docs"):
        shutil.copytree(ROOT / folder, root / folder)
    for name in ("datapackage.json", "README.md", "CONTRIBUTING.md", "CITATION.cff", ".zenodo.json", "croissant.json"):
        shutil.copy2(ROOT / name, root / name)
    return root


def test_generated_files_are_in_sync():
    result = subprocess.run([sys.executable, "-m", "infocontrols.cli", "build", str(ROOT), "--check"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_names_every_stale_file_and_writes_nothing(tmp_path):
    root = source_copy(tmp_path)
    path = root / "data" / "figures.csv"
    rows = path.read_text(encoding="utf-8").split("\n")
    replacements = (root / "data" / "retired_ids.csv").read_text(encoding="utf-8")
    # drop one figure that no retired ID names as its replacement, so the package stays valid
    drop = next(i for i, row in enumerate(rows[1:], start=1) if row and f",{row.split(',')[0]}," not in replacements)
    path.write_text("\n".join(rows[:drop] + rows[drop + 1:]), encoding="utf-8")
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert sorted(build(root, check=True)) == ["README.md", "croissant.json", "data/figures.parquet", "datapackage.json"]
    assert before == {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    result = subprocess.run([sys.executable, "-m", "infocontrols.cli", "build", str(root), "--check"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and "data/figures.parquet" in result.stdout


def test_vocabulary_change_regenerates_schema_enum_and_codebook(tmp_path):
    root = source_copy(tmp_path)
    vocab = root / "schema" / "vocabularies.csv"
    vocab.write_text(vocab.read_text(encoding="utf-8") + 'unit,weeks,Weeks,"Weeks of time."\n', encoding="utf-8")
    stale = build(root, check=True)
    assert {"schema/figures.json", "docs/codebook.md", "datapackage.json"} <= set(stale)
    build(root)
    schema = json.loads((root / "schema" / "figures.json").read_text(encoding="utf-8"))
    unit = next(f for f in schema["fields"] if f["name"] == "unit")
    assert unit["constraints"]["enum"][-1] == "weeks"
    assert "| `weeks` | Weeks | Weeks of time. |" in (root / "docs" / "codebook.md").read_text(encoding="utf-8")
    assert build(root, check=True) == []


def test_build_refuses_an_invalid_package_and_changes_nothing(tmp_path):
    root = source_copy(tmp_path)
    events = root / "data" / "events.csv"
    events.write_text(events.read_text(encoding="utf-8").replace(",confirmed,", ",certain,", 1), encoding="utf-8")
    before = files_of(root)
    with pytest.raises(BuildError, match="VOC001"):
        build(root)
    assert before == files_of(root)
    result = subprocess.run([sys.executable, "-m", "infocontrols.cli", "build", str(root)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and "nothing was built" in result.stderr


def edited_source_copy(tmp_path: Path) -> Path:
    root = source_copy(tmp_path)
    figures = root / "data" / "figures.csv"
    figures.write_text(figures.read_text(encoding="utf-8").replace(",approximate,", ",exact,", 1), encoding="utf-8")
    return root


def test_build_failing_before_its_commit_changes_nothing(tmp_path, monkeypatch):
    root = edited_source_copy(tmp_path)
    old = files_of(root)
    real_write_temp = storage._write_temp
    calls = {"n": 0}

    def disk_full_at_second_file(dir_fd, data, mode):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write_temp(dir_fd, data, mode)

    monkeypatch.setattr(storage, "_write_temp", disk_full_at_second_file)
    with pytest.raises(storage.StorageError, match="nothing was written: cannot write the file: no space left on device"):
        build(root)
    assert files_of(root) == old, "every file as it was, and no temporary left behind"
    monkeypatch.setattr(storage, "_write_temp", real_write_temp)
    assert build(root) and build(root, check=True) == []


def test_build_failing_after_its_commit_is_completed(tmp_path, monkeypatch):
    root = edited_source_copy(tmp_path)
    monkeypatch.setenv("INFOCONTROLS_TEST_FAIL", "replace:2")  # an I/O error at the second rename
    written = build(root)
    assert len(written) >= 2 and build(root, check=True) == []
    assert not list(root.rglob(".infocontrols-*")), "no journal or temporary left behind"


def test_build_keeps_file_modes(tmp_path):
    root = edited_source_copy(tmp_path)
    (root / "data" / "figures.parquet").chmod(0o640)
    (root / "docs" / "codebook.md").unlink()
    old_umask = os.umask(0o027)
    try:
        written = build(root)
    finally:
        os.umask(old_umask)
    assert "data/figures.parquet" in written and "docs/codebook.md" in written
    assert (root / "data" / "figures.parquet").stat().st_mode & 0o777 == 0o640, "an existing file keeps its mode"
    assert (root / "docs" / "codebook.md").stat().st_mode & 0o777 == 0o640, "a new file gets 0666 & ~umask, not 0600"
    assert (root / "datapackage.json").stat().st_mode & 0o777 == 0o644


def test_parquet_is_deterministic_and_typed():
    contract = Contract.from_source(ROOT)
    table = contract.table("events")
    assert parquet_bytes(table, contract) == parquet_bytes(table, contract)
    parquet = pq.ParquetFile(ROOT / "data" / "events.parquet")
    schema = parquet.schema_arrow
    assert str(schema.field("date_start").type) == "date32[day]"
    assert str(schema.field("event_type").type) == "dictionary<values=string, indices=int32, ordered=0>"
    assert parquet.metadata.row_group(0).column(0).compression == "ZSTD"
    assert schema.metadata[b"infocontrols.version"].decode() == infocontrols.__version__
    ids = parquet.read().column("event_id").to_pylist()
    assert ids == sorted(ids)


def test_descriptor_records_true_sizes_and_hashes():
    descriptor = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))
    for resource in descriptor["resources"]:
        data = (ROOT / resource["path"]).read_bytes()
        size = resource.get("bytes", resource.get("infocontrols:bytes"))
        digest = resource.get("hash", resource.get("infocontrols:hash"))
        assert size == len(data), resource["name"]
        assert digest == "sha256:" + hashlib.sha256(data).hexdigest(), resource["name"]
    names = [r["name"] for r in descriptor["resources"]]
    for table in Contract.from_source(ROOT).tables:
        assert table in names and f"{table}-parquet" in names
    assert all(isinstance(r.get("schema", "schema/x.json"), str) for r in descriptor["resources"])


def test_one_version_everywhere():
    from importlib.metadata import version

    metadata = json.loads((ROOT / "schema" / "package.json").read_text(encoding="utf-8"))["version"]
    descriptor = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))["version"]
    citation = next(l for l in (ROOT / "CITATION.cff").read_text(encoding="utf-8").splitlines() if l.startswith("version:"))
    assert version("infocontrols") == infocontrols.__version__ == metadata == descriptor == json.loads(citation.split(":", 1)[1])
    assert f"## [{metadata}]" in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8") or "## [Unreleased]" in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")


def cffconvert() -> str:
    for candidate in (os.environ.get("CFFCONVERT"), str(ROOT / ".venv-tools" / "bin" / "cffconvert"), shutil.which("cffconvert")):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.fail("cffconvert not found: run `bash scripts/setup.sh` (it installs it into .venv-tools)")


def test_citation_validates_with_cffconvert():
    result = subprocess.run([cffconvert(), "--validate", "-i", str(ROOT / "CITATION.cff")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    text = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    for key in ("cff-version: 1.2.0", "type: dataset", "title:", "version:", "date-released:", "license:", "authors:", "keywords:", "message:"):
        assert key in text


def test_codebook_defines_every_field_and_code():
    contract = Contract.from_source(ROOT)
    text = (ROOT / "docs" / "codebook.md").read_text(encoding="utf-8")
    for table in contract.tables.values():
        for field in table.fields:
            assert f"| `{field.name}` | {field.type} |" in text
    for vocab in contract.vocabularies.values():
        for code in vocab.codes:
            assert f"| `{code}` | {vocab.labels[code]} | {vocab.definitions[code]} |" in text


def test_outputs_cover_every_table():
    files = outputs(Contract.from_source(ROOT))
    for table in Contract.from_source(ROOT).tables:
        assert f"data/{table}.parquet" in files


@pytest.mark.parametrize("change, message", [
    (lambda m: m.pop("title"), "schema/package.json: title: required, as a non-empty string"),
    (lambda m: m.update(licenses="CC-BY-4.0"), "schema/package.json: licenses: required, as a list of objects each with a name"),
    (lambda m: m.update(contributors=["someone"]), "schema/package.json: contributors: must be a list of objects each with a title"),
])
def test_broken_package_metadata_exits_2_naming_it(tmp_path, change, message):
    root = source_copy(tmp_path)
    path = root / "schema" / "package.json"
    metadata = json.loads(path.read_text(encoding="utf-8"))
    change(metadata)
    path.write_text(json.dumps(metadata), encoding="utf-8")
    before = files_of(root)
    result = subprocess.run([sys.executable, "-m", "infocontrols.cli", "build", str(root)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert files_of(root) == before
