"""How to cite: README's APA line and BibTeX entry, .zenodo.json and CITATION.cff agree with the version."""
from __future__ import annotations

import json
import re
import subprocess

import infocontrols as ic
from infocontrols.build import citation as citation_cff
from infocontrols.citation import apa, bibtex, readme_block, zenodo_json
from infocontrols.contract import Contract

from conftest import ROOT
from test_build import cffconvert

import pytest

pytestmark = pytest.mark.slow  # cffconvert in subprocesses


CONTRACT = Contract.from_source(ROOT)
README = (ROOT / "README.md").read_text(encoding="utf-8")


def cite_block() -> str:
    return re.search(r"<!-- generated:citation -->\n(.*?)<!-- /generated:citation -->", README, re.S).group(1)


def test_readme_citation_is_generated_from_the_metadata():
    assert cite_block() == readme_block(CONTRACT.metadata)


def test_readme_bibtex_and_apa_carry_the_installed_version():
    block = cite_block()
    entry = re.search(r"```bibtex\n(.*?)```", block, re.S).group(1)
    fields = dict(re.findall(r"^\s+(\w+)\s+= \{(.*)\},?$", entry, re.M))
    assert fields["version"] == ic.__version__
    assert fields["note"] == f"Dataset, version {ic.__version__}"
    assert fields["year"] == CONTRACT.metadata["date_released"][:4]
    assert entry.startswith("@misc{infocontrols_" + ic.__version__.replace(".", "_") + ",")
    assert entry.count("{") == entry.count("}")
    apa_line = next(line for line in block.splitlines() if line.startswith("> "))
    assert f"(Version {ic.__version__}) [Data set]." in apa_line
    assert apa_line.startswith(f"> {CONTRACT.metadata['contributors'][0]['title']}. ({CONTRACT.metadata['date_released'][:4]}).")


def test_zenodo_json_agrees_with_what_cffconvert_derives_from_citation_cff():
    ours = json.loads((ROOT / ".zenodo.json").read_text(encoding="utf-8"))
    assert (ROOT / ".zenodo.json").read_bytes() == zenodo_json(CONTRACT.metadata)
    result = subprocess.run([cffconvert(), "-f", "zenodo", "-i", str(ROOT / "CITATION.cff")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    theirs = json.loads(result.stdout)
    assert {k: ours[k] for k in theirs} == theirs
    assert ours["version"] == ic.__version__ and ours["upload_type"] == "dataset"


def test_cffconvert_apa_carries_the_version():
    # cffconvert's BibTeX writer has no version field (it writes author, doi, month, title,
    # url and year only), so the README's entry is the one to use; its APA-like output has it.
    result = subprocess.run([cffconvert(), "-f", "apalike", "-i", str(ROOT / "CITATION.cff")], capture_output=True, text=True, timeout=120)
    assert f"(version {ic.__version__})" in result.stdout


def test_no_doi_is_made_up():
    assert "doi" not in CONTRACT.metadata, "a DOI is added to schema/package.json only after Zenodo mints it"
    for name in ("CITATION.cff", ".zenodo.json", "croissant.json", "README.md"):
        text = (ROOT / name).read_text(encoding="utf-8")
        assert "10.5281" not in text and "doi.org" not in text, name
        assert not re.search(r"^doi:", text, re.M), name
    assert "There is no DOI yet" in cite_block()


def test_a_doi_once_minted_reaches_every_citation():
    meta = {**CONTRACT.metadata, "doi": "10.5281/zenodo.0000000"}
    assert re.search(r"doi\s+= \{10\.5281/zenodo\.0000000\}", bibtex(meta))
    assert re.search(r"url\s+= \{https://doi\.org/10\.5281/zenodo\.0000000\}", bibtex(meta))
    assert apa(meta).endswith("https://doi.org/10.5281/zenodo.0000000")
    assert "There is no DOI yet" not in readme_block(meta)
    contract = Contract(root=CONTRACT.root, metadata=meta, tables=CONTRACT.tables)
    assert 'doi: "10.5281/zenodo.0000000"' in citation_cff(contract).decode()


def test_bibtex_escapes_tex_specials_and_lists_every_author():
    meta = {"name": "x", "title": "A & B_C 100%", "version": "1.0.0", "date_released": "2026-01-01",
            "contributors": [{"title": "One"}, {"title": "Two"}]}
    entry = bibtex(meta)
    assert r"{A \& B\_C 100\%}" in entry and "{{One} and {Two}}" in entry
    assert apa(meta).startswith("One, & Two. (2026).")
