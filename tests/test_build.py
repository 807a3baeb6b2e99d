"""The build: generated files in sync, deterministic Parquet, atomic writes, one version."""
from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
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
    descriptor_mode = (root / "datapackage.json").stat().st_mode & 0o777
    old_umask = os.umask(0o027)
    try:
        written = build(root)
    finally:
        os.umask(old_umask)
    assert "data/figures.parquet" in written and "docs/codebook.md" in written
    assert (root / "data" / "figures.parquet").stat().st_mode & 0o777 == 0o640, "an existing file keeps its mode"
    assert (root / "docs" / "codebook.md").stat().st_mode & 0o777 == 0o640, "a new file gets 0666 & ~umask, not 0600"
    assert (root / "datapackage.json").stat().st_mode & 0o777 == descriptor_mode, "whatever mode the checkout gave it"


def test_parquet_is_deterministic_across_processes(tmp_path):
    """Two builds in two processes (different hash seeds) write the same bytes, Parquet included."""
    roots = []
    for seed in ("1", "2"):
        root = source_copy(tmp_path / f"seed-{seed}")
        for parquet in (root / "data").glob("*.parquet"):
            parquet.unlink()  # the build keeps a Parquet file whose content is unchanged: make it write them all
        result = subprocess.run([sys.executable, "-m", "infocontrols.cli", "build", str(root)], capture_output=True, text=True,
                                timeout=300, env={**os.environ, "PYTHONHASHSEED": seed})
        assert result.returncode == 0, result.stdout + result.stderr
        assert all(f"data/{table}.parquet" in result.stdout for table in Contract.from_source(root).tables)
        roots.append(root)
    first, second = ({p.relative_to(root): data for p, data in files_of(root).items()} for root in roots)
    assert first.keys() == second.keys()
    assert [rel for rel in first if first[rel] != second[rel]] == []
    assert len([rel for rel in first if rel.suffix == ".parquet"]) == len(Contract.from_source(ROOT).tables)


# What another writer might do with the same table: another pyarrow, other options.
OTHER_WRITER = dict(compression="snappy", row_group_size=40, write_statistics=False, data_page_size=2048, version="2.4")


def test_check_compares_parquet_by_content_not_bytes(tmp_path, monkeypatch):
    """A package whose Parquet files another writer wrote, with the same content, is up to date;
    and a build keeps those files as they are."""
    root = source_copy(tmp_path)
    for parquet in (root / "data").glob("*.parquet"):
        parquet.unlink()
    write_table = pq.write_table
    monkeypatch.setattr(pq, "write_table", lambda table, where, **options: write_table(table, where, **OTHER_WRITER))
    assert "data/figures.parquet" in build(root)
    monkeypatch.undo()
    figures = (root / "data" / "figures.parquet").read_bytes()
    contract = Contract.from_source(root)
    assert figures != parquet_bytes(contract.table("figures"), contract), "really other bytes"
    assert pq.ParquetFile(io.BytesIO(figures)).metadata.row_group(0).column(0).compression == "SNAPPY"
    before = files_of(root)
    result = subprocess.run([sys.executable, "-m", "infocontrols.cli", "build", str(root), "--check"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "all generated files are up to date" in result.stdout, result.stdout + result.stderr
    assert build(root) == [] and files_of(root) == before


def _with_value(table, column, value):
    values = table.column(column).to_pylist()
    values[0] = value
    index = table.schema.get_field_index(column)
    return table.set_column(index, table.schema.field(index), pa.array(values, table.schema.field(index).type))


def _with_version(table, version):
    return table.replace_schema_metadata({**table.schema.metadata, b"infocontrols.version": version.encode()})


def _with_field_metadata(table, column, metadata):
    index = table.schema.get_field_index(column)
    return table.cast(table.schema.set(index, table.schema.field(index).with_metadata(metadata)))


@pytest.mark.parametrize("change, what", [
    (lambda t: _with_value(t, "value", 99999.0), r"column 'value': row 1 \('fi-[a-z0-9-]+'\) is 99999.0, the CSV gives [0-9.]+$"),
    (lambda t: _with_version(t, "0.0.1"), r"key-value metadata differs: infocontrols.version is '0.0.1', the build gives '[0-9.]+'$"),
    (lambda t: _with_field_metadata(t, "unit", {b"comment": b"hand-edited"}), r"field 'unit': field metadata is .*comment.*, the build gives None$"),
], ids=["a value", "key-value metadata", "field metadata"])
def test_check_names_a_parquet_file_whose_content_differs(tmp_path, change, what):
    root = source_copy(tmp_path)
    path = root / "data" / "figures.parquet"
    pq.write_table(change(pq.read_table(path)), path, compression="zstd")
    result = subprocess.run([sys.executable, "-m", "infocontrols.cli", "build", str(root), "--check"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    [line] = [line for line in result.stdout.splitlines() if ".parquet" in line]
    assert line.startswith("  data/figures.parquet: ") and re.search(what, line), line


def test_parquet_is_typed():
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


def changelog_problem(text: str, version: str, released_on: str) -> str | None:
    """Why a Keep a Changelog file does not show ``version`` as its latest release, or None.

    The version in schema/package.json is bumped only when a release is cut (CONTRIBUTING.md), so
    it is the latest release: a '## [X.Y.Z] - YYYY-MM-DD' heading with its date_released, the first
    heading after '## [Unreleased]' (which, if there, comes first and once).
    """
    headings = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?[ \t]*$", text, re.M)
    released = [h for h in headings if h[0] != "Unreleased"]
    if not released:
        return "no released version"
    if released[0] != (version, released_on):
        return f"the latest release is {released[0]}, not ({version!r}, {released_on!r})"
    unreleased = [i for i, h in enumerate(headings) if h[0] == "Unreleased"]
    if unreleased not in ([], [0]):
        return "'## [Unreleased]' must come first, once"
    if not all(date for _, date in released):
        return "a released version without a date"
    return None


def test_changelog_has_the_version_as_its_latest_release():
    metadata = json.loads((ROOT / "schema" / "package.json").read_text(encoding="utf-8"))
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog_problem(text, metadata["version"], metadata["date_released"]) is None


@pytest.mark.parametrize("text, ok", [
    ("## [Unreleased]\n\n## [0.1.0] - 2026-11-28\n", True),
    ("## [0.1.0] - 2026-11-28\n\n## [0.0.9] - 2026-01-01\n", True),
    ("## [Unreleased]\n\n## [0.0.9] - 2026-01-01\n", False),              # the version is missing
    ("## [Unreleased]\n", False),                                            # only Unreleased: what the old check let pass
    ("## [Unreleased]\n\n## [0.1.0]\n", False),                             # no release date
    ("## [0.1.0] - 2026-11-27\n", False),                                    # another date
    ("## [0.2.0] - 2027-01-01\n\n## [0.1.0] - 2026-11-28\n", False),         # not the latest
    ("## [0.1.0] - 2026-11-28\n\n## [Unreleased]\n", False),                 # Unreleased below a release
])
def test_changelog_check_fails_for_the_right_reasons(text, ok):
    assert (changelog_problem(text, "0.1.0", "2026-11-28") is None) == ok


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
