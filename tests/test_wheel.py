"""The package works when installed from a wheel (not editable): resources are found."""

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow


def parent_site_dirs() -> list[str]:
    """The site-packages folders on the running interpreter's path (a venv's, the base
    interpreter's when the venv includes them, the user's), where the dependencies are."""
    import sysconfig

    dirs = [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    dirs += [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages")]
    return [d for d in dict.fromkeys(dirs) if Path(d).is_dir()]


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory):
    """Build the wheel once and install it (without its dependencies) into a fresh virtual
    environment that sees the dependencies of the environment running the tests.

    Not ``system_site_packages=True``: that gives the base interpreter's site-packages, not
    those of the venv the user installed ``.[test]`` into (``No module named 'pyoxigraph'``).
    A ``.pth`` file lists the running environment's site-packages as plain path lines, so
    their own ``.pth`` files (the editable install of this repository among them) are not
    processed and the wheel's copy of ``kg`` is the only one importable.
    """
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO)], check=True)
    wheel = next(out.glob("ai_capital_kg-*.whl"))
    env_dir = out / "venv"
    venv.create(env_dir, system_site_packages=False, with_pip=True)
    py = env_dir / "bin" / "python"
    own = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    (Path(own) / "_kg_test_dependencies.pth").write_text("\n".join(parent_site_dirs()) + "\n", encoding="utf-8")
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheel)], check=True)
    return env_dir, out


def test_installed_wheel_runs_kg_info_from_anywhere(wheel_env):
    env_dir, cwd = wheel_env
    env = {**os.environ, "PYTHONPATH": ""}
    where = subprocess.run([str(env_dir / "bin" / "python"), "-c", "import kg, kg.resources as r; print(kg.__file__); print(r.ontology_dir())"],
                           cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert where[0].startswith(str(env_dir)), "the wheel's package must be the one imported"
    assert "_resources" in where[1]
    result = subprocess.run([str(env_dir / "bin" / "kg"), "info", "--format", "json"], cwd=cwd, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert '"relationships by kind"' in result.stdout
    q = subprocess.run([str(env_dir / "bin" / "kg"), "query", "relationships", "--param", "layer=article", "--format", "csv"],
                       cwd=cwd, env=env, capture_output=True, text=True)
    assert q.returncode == 0 and q.stdout.count("\n") > 10
    assert not (Path(cwd) / "lib").exists()
