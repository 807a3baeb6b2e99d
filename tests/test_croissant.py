"""croissant.json: MLCommons Croissant 1.0 that mlcroissant reads, record set by record set, as ic.load does."""
from __future__ import annotations

import hashlib
import json
import math

import mlcroissant as mlc  # in the test extra: missing, these tests fail rather than skip
import pytest

import infocontrols as ic
from infocontrols.contract import Contract
from infocontrols.croissant import CONFORMS_TO, CONTEXT, croissant

from conftest import ROOT, arrow_rows
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # rdflib, inside mlcroissant

CONTRACT = Contract.from_source(ROOT)
DOC = json.loads((ROOT / "croissant.json").read_text(encoding="utf-8"))


def plain(value):
    """A value as mlcroissant yields it, as ic.load's arrow rows hold it."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "date") and hasattr(value, "isoformat"):  # pandas Timestamp
        return None if str(value) == "NaT" else value.date().isoformat()
    return value


@pytest.fixture(scope="module")
def dataset():
    return mlc.Dataset(jsonld=str(ROOT / "croissant.json"))


def test_the_committed_file_is_what_the_build_writes():
    assert (ROOT / "croissant.json").read_bytes() == croissant(CONTRACT)


def test_context_is_the_standard_one_mlcroissant_expects():
    from mlcroissant._src.core.rdf import make_context

    assert DOC["@context"] == CONTEXT == make_context()
    assert DOC["conformsTo"] == CONFORMS_TO and DOC["@type"] == "sc:Dataset"


@pytest.mark.slow  # mlcroissant
def test_mlcroissant_finds_no_issues(dataset):
    issues = dataset.metadata.ctx.issues
    assert not issues.errors and not issues.warnings, issues.report()


def test_distribution_checksums_and_sizes_match_the_files():
    files = {f["contentUrl"]: f for f in DOC["distribution"]}
    assert set(files) == {t.path for t in CONTRACT.tables.values()}
    for path, entry in files.items():
        data = (ROOT / path).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest(), path
        assert entry["contentSize"] == f"{len(data)} B"


def test_metadata_carries_version_licence_and_citation():
    assert DOC["version"] == ic.__version__
    assert DOC["license"] == CONTRACT.metadata["licenses"][0]["path"]
    assert f"version = {{{ic.__version__}}}" in DOC["citeAs"]
    assert f"(Version {ic.__version__})" in DOC["citation"]
    if not CONTRACT.metadata.get("doi"):  # no made-up DOI
        assert "doi.org" not in json.dumps(DOC) and "identifier" not in DOC


def test_one_record_set_per_table_with_typed_fields_keys_and_references():
    record_sets = {r["name"]: r for r in DOC["recordSet"]}
    assert list(record_sets) == list(CONTRACT.tables)
    for table in CONTRACT.tables.values():
        fields = {f["name"]: f for f in record_sets[table.name]["field"]}
        assert list(fields) == table.field_names
        for f in table.fields:
            expected = {"string": "sc:URL" if f.format == "uri" else "sc:Text", "date": "sc:Date", "number": "sc:Float", "integer": "sc:Integer"}[f.type]
            assert fields[f.name]["dataType"] == expected, (table.name, f.name)
        key = record_sets[table.name]["key"]
        key_ids = [k["@id"] for k in (key if isinstance(key, list) else [key])]
        assert key_ids == [f"{table.name}/{name}" for name in table.primary_key]
        for fk in table.foreign_keys:
            for own, other in zip(fk.fields, fk.reference_fields):
                if fk.reference_table == table.name:  # mlcroissant cannot follow these; said in words
                    assert f"Refers to {table.name}/{other}" in fields[own]["description"]
                else:
                    assert "references" in fields[own], (table.name, own)
        for f in table.fields:
            if "references" in fields[f.name]:
                fk = next(fk for fk in table.foreign_keys if f.name in fk.fields)
                assert fields[f.name]["references"]["field"]["@id"] == f"{fk.reference_table}/{fk.reference_fields[fk.fields.index(f.name)]}"


@pytest.mark.slow  # mlcroissant reads every record set
@pytest.mark.parametrize("table", list(CONTRACT.tables))
def test_every_record_set_yields_the_rows_of_ic_load(dataset, table):
    schema_table = CONTRACT.table(table)
    records = [
        {name.split("/", 1)[1]: plain(value) for name, value in record.items()}
        for record in dataset.records(record_set=table)
    ]
    expected = arrow_rows(table)
    key = lambda row: tuple(str(row[k]) for k in schema_table.primary_key)  # noqa: E731
    assert len(records) == len(expected)
    assert sorted(records, key=key) == sorted(expected, key=key)
