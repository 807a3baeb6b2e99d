"""The explorer: the SQLite export in Datasette, with metadata generated from the schema.

``infocontrols serve`` exports the package to SQLite and opens it here. Datasette is an
optional dependency (the ``explore`` extra: ``pip install '.[explore]'``); ``import infocontrols``
never imports it.

Example:
    >>> from infocontrols.explorer import make_datasette
    >>> ds = make_datasette("infocontrols.sqlite")          # doctest: +SKIP
    >>> (await ds.client.get("/infocontrols/events.json")).status_code   # doctest: +SKIP
    200
"""
from __future__ import annotations

from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "templates"


class ExplorerError(Exception):
    """The explorer cannot start; the message says why and what to do."""


def _datasette():
    try:
        import datasette  # noqa: F401
    except ImportError:
        raise ExplorerError("the explorer needs Datasette: pip install 'infocontrols[explore]' (in a clone: pip install '.[explore]')") from None


def make_datasette(db_path: str | Path, root: str | Path | None = None):
    """A Datasette instance serving ``db_path`` (an export) read-only, as database ``infocontrols``.

    Metadata (titles, descriptions, facets, labels, citation) is generated from the
    contract of the package at ``root`` (default: the bundled one).

    Example:
        >>> ds = make_datasette("infocontrols.sqlite")      # doctest: +SKIP
    """
    _datasette()
    from datasette.app import Datasette
    from datasette.database import Database
    from datasette.plugins import pm

    from ..load import contract as contract_at
    from . import event_page
    from .metadata import DATABASE, datasette_metadata

    db_path = Path(db_path)
    if not db_path.is_file():
        raise ExplorerError(f"{db_path}: no such file; make it with `infocontrols export sqlite {db_path}`")
    if not pm.has_plugin(event_page.PLUGIN):
        pm.register(event_page, name=event_page.PLUGIN)
    ds = Datasette(
        metadata=datasette_metadata(contract_at(root)),
        template_dir=str(TEMPLATES),
        settings={"default_page_size": 50, "facet_time_limit_ms": 1000, "sql_time_limit_ms": 3000},
    )
    # Immutable: opened read-only, counts cached; named "infocontrols" whatever the file name.
    ds.add_database(Database(ds, path=str(db_path), is_mutable=False), name=DATABASE)
    if "_memory" in ds.databases:  # Datasette adds an empty in-memory database when given no files
        ds.remove_database("_memory")
    return ds


def _check_port_free(host: str, port: int) -> None:
    """Fail with a clear message now rather than with the web server's log line later."""
    import socket

    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ExplorerError(f"cannot listen on {host}:{port} ({exc.strerror}); choose another port with --port") from None


def serve(db_path: str | Path | None = None, *, host: str = "127.0.0.1", port: int = 8001,
          root: str | Path | None = None, open_browser: bool = False) -> None:
    """Export the package to SQLite (unless ``db_path`` is given) and serve it until interrupted.

    Example:
        >>> serve()        # then open http://127.0.0.1:8001/     # doctest: +SKIP
    """
    import tempfile

    _datasette()
    import uvicorn

    from ..export_sqlite import export_sqlite
    from ..load import contract as contract_at

    _check_port_free(host, port)
    with tempfile.TemporaryDirectory(prefix="infocontrols-") as folder:
        if db_path is None:
            db_path = export_sqlite(Path(folder) / f"infocontrols-{contract_at(root).version}.sqlite", root=root)
        ds = make_datasette(db_path, root=root)
        url = f"http://{host}:{port}/"
        print(f"InfoControls explorer on {url} (Ctrl+C to stop)", flush=True)
        if open_browser:
            import webbrowser

            webbrowser.open(url)
        uvicorn.run(ds.app(), host=host, port=port, log_level="warning")


__all__ = ["make_datasette", "serve", "ExplorerError", "TEMPLATES"]
