"""`pip install .` gives a working `dfg` command with its data, and puts nothing generic in site-packages."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_installed_command_works_from_anywhere(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # see the test environment's packages (dependencies, build backend) so nothing is downloaded
    target = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                            capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    parent = next(p for p in sys.path if p.endswith("site-packages"))
    (Path(target) / "parent.pth").write_text(parent + "\n")
    subprocess.run(
        [python, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--quiet", str(ROOT)],
        check=True, capture_output=True,
    )  # fmt: skip
    site = Path(subprocess.run([python, "-c", "import dfg, pathlib; print(pathlib.Path(dfg.__file__).parent.parent)"],
                               cwd=tmp_path, capture_output=True, text=True, check=True).stdout.strip())  # fmt: skip
    assert not (site / "cli.py").exists() and not (site / "workflows").exists()
    assert (site / "dfg" / "_data" / "workflows" / "dfg.toml").is_file()
    dfg = env_dir / "bin" / "dfg"
    db = tmp_path / "x.sqlite"
    for args in (["--help"], ["workflow", "lint"], ["--db", str(db), "db", "upgrade"]):
        result = subprocess.run([dfg, *args], cwd=tmp_path, capture_output=True, text=True)
        assert result.returncode == 0, (args, result.stderr)
    assert db.exists()
