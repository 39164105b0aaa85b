"""The package as users get it: a wheel installed in a fresh virtual environment.

The wheel is built from this checkout, installed into a new venv (which sees this interpreter's
site-packages, so torch and the other dependencies are not downloaded again) and used from a
temporary directory, so that the installed wheel, not the checkout, is imported. It must run
README's first example (on a few rows and a tiny model) and read the shipped baseline configs.
"""

import json
import os
import re
import subprocess
import sys
import tomllib
import venv
import zipfile
from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
N_CONFIGS = len(list((ROOT / "sklearn_tjepa" / "baselines" / "configs_data").glob("*/*.json")))

# README's first example, made small: (text in README, replacement). Each must occur once.
README_SHRINK = (
    ("train, test = adult.splits[\"train\"], adult.splits[\"test\"]",
     "train, test = adult.splits[\"train\"][:300], adult.splits[\"test\"][:200]"),
    ("TJEPATransformer(random_state=0)",
     "TJEPATransformer(random_state=0, d_model=8, n_layers=1, n_heads=2, ffn_dim=16, "
     "predictor_d_model=8, predictor_n_layers=1, predictor_n_heads=2, predictor_ffn_dim=16, "
     "max_epochs=1, batch_size=64, device='cpu')"),
)

CHECKS = """
import json
import sklearn_tjepa
from sklearn_tjepa.baselines import DATASET_CODES, MODEL_NAMES, load_config
configs = {(d, m): load_config(d, m) for d in DATASET_CODES for m in MODEL_NAMES}
print(json.dumps({"file": sklearn_tjepa.__file__, "n_configs": len(configs)}))
"""


def readme_first_example() -> str:
    """README's first ``python`` block, shrunk to a few rows and a tiny model."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", text, flags=re.DOTALL).group(1)
    for old, new in README_SHRINK:
        assert code.count(old) == 1, f"README's first example no longer contains {old!r}"
        code = code.replace(old, new)
    return code


def test_build_backend_requirement_is_met_here():
    """The installed setuptools satisfies the build requirement (the wheel below is built with it)."""
    (requirement,) = (Requirement(r) for r in PYPROJECT["build-system"]["requires"])
    assert requirement.name == "setuptools"
    assert requirement.specifier.contains(version("setuptools"))
    # `license = "MIT"` (an SPDX string) and `license-files` need setuptools >= 77.
    assert not requirement.specifier.contains("76.9")


def test_wheel_in_fresh_venv_runs_readme_example_and_load_config(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
         "--wheel-dir", str(dist), str(ROOT)],
        check=True,
    )
    (wheel,) = dist.glob("sklearn_tjepa-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "sklearn_tjepa/data/adult.parquet" in names
    assert sum(n.startswith("sklearn_tjepa/baselines/configs_data/") for n in names) == N_CONFIGS
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)

    env_dir = tmp_path / "venv"
    # Without pip of its own: ensurepip would also put an old setuptools in front of the one seen here.
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    # --no-index: every dependency must already be satisfied by the packages this venv sees.
    subprocess.run(
        [str(python), "-m", "pip", "install", "--no-index", "--quiet", str(wheel)], check=True
    )
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"OMP_NUM_THREADS": "1"}
    run = dict(cwd=workdir, check=True, capture_output=True, text=True, env=env)

    checks = subprocess.run([str(python), "-c", CHECKS], **run)
    result = json.loads(checks.stdout.strip().splitlines()[-1])
    assert Path(result["file"]).is_relative_to(env_dir), result["file"]
    assert result["n_configs"] == N_CONFIGS == 36  # 4 datasets x 9 models

    example = subprocess.run([str(python), "-c", readme_first_example()], **run)
    score = float(example.stdout.strip().splitlines()[-1])
    assert 0.0 <= score <= 1.0
