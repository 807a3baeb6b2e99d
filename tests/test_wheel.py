"""The wheel carries the whole package: install it into a fresh venv and load every table."""
from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
import zipfile

from conftest import ROOT

import pytest

pytestmark = pytest.mark.slow  # builds a wheel and installs it into a fresh venv


def test_wheel_installs_and_loads_every_table(tmp_path):
    dist = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = next(dist.glob("infocontrols-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("infocontrols/package/datapackage.json", "infocontrols/package/data/events.csv",
                   "infocontrols/package/data/events.parquet", "infocontrols/package/schema/events.json",
                   "infocontrols/package/schema/vocabularies.csv", "infocontrols/package/schema/package.json",
                   "infocontrols/explorer/templates/_table-row-infocontrols-events.html"):
        assert needed in names, needed
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True, timeout=300)
    # Dependencies come from this environment's site-packages (read-only on PYTHONPATH), not the checkout.
    deps = sysconfig.get_paths()["purelib"]
    code = (
        "import infocontrols as ic, pathlib\n"
        "assert 'site-packages' in ic.__file__ and str(pathlib.Path(ic.__file__).parents[3]).startswith(r'%s'), ic.__file__\n"
        "counts = {t: len(ic.load(t)) for t in ic.tables()}\n"
        "assert all(counts[t] > 0 for t in counts if t != 'retired_ids'), counts\n"
        "assert ic.validate().ok\n"
        "import sqlite3; from infocontrols.export_sqlite import export_sqlite\n"
        "info = dict(sqlite3.connect(export_sqlite('bundled.sqlite')).execute('SELECT key, value FROM package_info'))\n"
        "assert info['version'] == ic.__version__ and ic.__version__ in info['cite_apa'], info\n"
        "print(ic.__version__, sum(counts.values()))\n" % env_dir
    )
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300,
                            env={"PYTHONPATH": deps, "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-3000:]
    import infocontrols

    assert result.stdout.split()[0] == infocontrols.__version__
