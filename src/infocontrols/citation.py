"""How to cite the package: BibTeX, APA, Zenodo metadata, all from ``schema/package.json``.

``schema/package.json`` is the one place for the title, version, release date, authors,
licence and keywords; ``CITATION.cff`` (see :func:`infocontrols.build.citation`), the README's
"How to cite" block, ``.zenodo.json``, the SQLite file's ``package_info`` and the explorer's
front page all take them from here, so a citation always carries the version it cites.

No DOI is made up: until ``schema/package.json`` has a ``doi`` (Zenodo mints one at the first
release), the citations carry none.

Example:
    >>> from infocontrols.citation import apa
    >>> apa({"title": "T", "version": "1.2.0", "date_released": "2026-01-31",
    ...      "contributors": [{"title": "InfoControls contributors"}]})
    'InfoControls contributors. (2026). T (Version 1.2.0) [Data set].'
"""
from __future__ import annotations

import json
import re

def citation_metadata(contract) -> dict:
    """The hand-written ``schema/package.json`` of a package (it has the release date and any
    DOI, which ``datapackage.json`` does not carry); the descriptor's metadata if it is absent.

    Example:
        >>> citation_metadata(contract)["date_released"]       # doctest: +SKIP
        '2026-11-28'
    """
    from .contract import SOURCE_METADATA

    path = contract.root / SOURCE_METADATA
    if path.is_file():
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
    return contract.metadata


def authors(meta: dict) -> list[str]:
    """The names of the package's authors, in order.

    Example:
        >>> authors({"contributors": [{"title": "A"}, {"title": "B", "role": "contributor"}]})
        ['A']
    """
    people = meta.get("contributors", [])
    named = [p for p in people if p.get("role", "author") == "author"] or people
    return [p["title"] for p in named if p.get("title")]


def year(meta: dict) -> str:
    """The year of the release date.

    Example:
        >>> year({"date_released": "2026-11-28"})
        '2026'
    """
    return str(meta.get("date_released", ""))[:4]


def _apa_authors(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + ", & " + names[-1]


def doi_url(meta: dict) -> str | None:
    """``https://doi.org/...`` for the package's DOI, or None while it has none.

    Example:
        >>> doi_url({"doi": "10.5281/zenodo.1"}), doi_url({})
        ('https://doi.org/10.5281/zenodo.1', None)
    """
    doi = meta.get("doi")
    return f"https://doi.org/{doi}" if doi else None


def apa(meta: dict, *, markdown: bool = False) -> str:
    """An APA 7 reference for the dataset, with its version (title in italics if ``markdown``).

    Example:
        >>> apa({"title": "T", "version": "1.0.0", "date_released": "2026-01-31",
        ...      "contributors": [{"title": "X"}]}, markdown=True)
        'X. (2026). *T* (Version 1.0.0) [Data set].'
    """
    title = f"*{meta['title']}*" if markdown else meta["title"]
    name = _apa_authors(authors(meta))
    text = f"{name}{'' if name.endswith('.') else '.'} ({year(meta)}). {title} (Version {meta['version']}) [Data set]."
    link = doi_url(meta) or meta.get("repository")
    return f"{text} {link}" if link else text


def _bibtex_value(text: str) -> str:
    # Braces must balance inside a BibTeX value; escape the characters TeX treats specially.
    return re.sub(r"([&%$#_{}])", r"\\\1", text)


def bibtex_key(meta: dict) -> str:
    """The entry key: package name and version, which a reader can guess and which never clashes.

    Example:
        >>> bibtex_key({"name": "infocontrols", "version": "0.1.0"})
        'infocontrols_0_1_0'
    """
    return re.sub(r"[^A-Za-z0-9]+", "_", f"{meta['name']}_{meta['version']}")


def bibtex(meta: dict) -> str:
    """A BibTeX ``@misc`` entry with the version in a ``version`` field and in ``note``.

    ``note`` carries the version too because the classic BibTeX styles print no ``version``
    field; biblatex prints ``version``.

    Example:
        >>> print(bibtex({"name": "x", "title": "T", "version": "1.0.0",
        ...               "date_released": "2026-01-31", "contributors": [{"title": "X Y"}]}))
        @misc{x_1_0_0,
          author  = {{X Y}},
          title   = {{T}},
          year    = {2026},
          version = {1.0.0},
          note    = {Dataset, version 1.0.0}
        }
    """
    fields = [
        ("author", " and ".join("{" + _bibtex_value(a) + "}" for a in authors(meta))),
        ("title", "{" + _bibtex_value(meta["title"]) + "}"),
        ("year", year(meta)),
        ("version", meta["version"]),
        ("note", f"Dataset, version {meta['version']}"),
    ]
    if meta.get("doi"):
        fields.append(("doi", meta["doi"]))
    link = doi_url(meta) or meta.get("repository")
    if link:
        fields.append(("url", link))
    width = max(len(name) for name, _ in fields)
    body = ",\n".join(f"  {name:<{width}} = {{{value}}}" for name, value in fields)
    return f"@misc{{{bibtex_key(meta)},\n{body}\n}}"


def readme_block(meta: dict) -> str:
    """The README's generated "How to cite" text: APA line and BibTeX entry.

    Example:
        >>> "@misc{" in readme_block(contract.metadata)      # doctest: +SKIP
        True
    """
    lines = [f"> {apa(meta, markdown=True)}", "", "```bibtex", bibtex(meta), "```", ""]
    if not meta.get("doi"):
        lines += [
            "There is no DOI yet: Zenodo mints one when the first release is published, and from then",
            "on it appears here, in `CITATION.cff` and in `croissant.json` (see the release procedure in",
            "[CONTRIBUTING.md](CONTRIBUTING.md#release-a-version)).",
            "",
        ]
    return "\n".join(lines)


def zenodo_json(meta: dict) -> bytes:
    """``.zenodo.json``: what Zenodo records for each GitHub release, from the same metadata.

    Zenodo reads this file in preference to ``CITATION.cff``; the fields that ``cffconvert -f
    zenodo`` derives from ``CITATION.cff`` have the same values here (a test checks that).

    Example:
        >>> json.loads(zenodo_json(contract.metadata))["upload_type"]   # doctest: +SKIP
        'dataset'
    """
    record = {
        "upload_type": "dataset",
        "access_right": "open",
        "title": meta["title"],
        "description": meta["description"],
        "version": meta["version"],
        "publication_date": meta["date_released"],
        "creators": [{"name": name} for name in authors(meta)],
        "license": {"id": meta["licenses"][0]["name"]},
        "keywords": list(meta.get("keywords", [])),
        "notes": f"Cite the version you use: {apa(meta)} This record is generated from the repository's schema/package.json.",
    }
    if meta.get("repository"):
        record["related_identifiers"] = [{"identifier": meta["repository"], "relation": "isSupplementTo", "scheme": "url"}]
    return (json.dumps(record, indent=2, ensure_ascii=False) + "\n").encode()


__all__ = ["citation_metadata", "apa", "bibtex", "bibtex_key", "readme_block", "zenodo_json", "authors", "year", "doi_url"]
