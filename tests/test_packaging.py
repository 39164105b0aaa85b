"""The package as users get it: a wheel installed in a fresh virtual environment.

The wheel is built from this checkout and installed into a new venv of its own. That venv has no
packages but the wheel; a ``.pth`` file puts the running environment's site-packages after its own,
so torch and the other dependencies are found without a download, whether the tests run in a
virtualenv, a conda environment or a bare interpreter. The wheel is then used from a temporary
directory, so that the installed wheel, not the checkout, is imported. It must find every dependency
it declares, run README's first example (on a few rows and a tiny model) and read the shipped
baseline configs.
"""

import json
import os
import re
import shlex
import site
import subprocess
import sys
import sysconfig
import venv
import zipfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
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

# Run in the fresh venv: where sklearn_tjepa is imported from, how many baseline configs it reads, and
# which of the wheel's declared dependencies (extras aside) are missing or of a version it excludes.
CHECKS = """
import json
from importlib.metadata import PackageNotFoundError, requires, version
from packaging.requirements import Requirement
import sklearn_tjepa
from sklearn_tjepa.baselines import DATASET_CODES, MODEL_NAMES, load_config

def found(name):
    try:
        return version(name)
    except PackageNotFoundError:
        return None

unmet = [
    f"{r} (found {found(r.name)})"
    for r in map(Requirement, requires("sklearn-tjepa"))
    if (r.marker is None or r.marker.evaluate({"extra": ""}))
    and (found(r.name) is None or not r.specifier.contains(found(r.name), prereleases=True))
]
configs = {(d, m): load_config(d, m) for d in DATASET_CODES for m in MODEL_NAMES}
print(json.dumps({"file": sklearn_tjepa.__file__, "n_configs": len(configs), "unmet": unmet}))
"""


def shell_commands(script: str) -> list[list[str]]:
    """The simple commands of a shell script, each as its words (comments dropped, split at ``&&``)."""
    commands = []
    for line in script.splitlines():
        command = []
        for word in [*shlex.split(line, comments=True), "&&"]:
            if word != "&&":
                command.append(word)
            elif command:
                commands.append(command)
                command = []
    return commands


def readme_commands(heading: str) -> list[list[str]]:
    """The commands of README's first ``bash`` block after ``heading``."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(re.escape(heading) + r".*?```bash\n(.*?)```", text, flags=re.DOTALL)
    assert match, f"README has no bash block after {heading!r}"
    return shell_commands(match.group(1))


def is_pip_install(command: list[str]) -> bool:
    return command[:2] == ["pip", "install"] or command[:4] == ["python", "-m", "pip", "install"]


def readme_first_example() -> str:
    """README's first ``python`` block, shrunk to a few rows and a tiny model."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", text, flags=re.DOTALL).group(1)
    for old, new in README_SHRINK:
        assert code.count(old) == 1, f"README's first example no longer contains {old!r}"
        code = code.replace(old, new)
    return code


def installed(requirement: Requirement) -> bool:
    """Whether the running environment has a distribution that satisfies ``requirement``."""
    try:
        return requirement.specifier.contains(version(requirement.name), prereleases=True)
    except PackageNotFoundError:
        return False


def build_wheel(pyproject: dict, dist: Path) -> Path:
    """Build this checkout's wheel into ``dist`` and return its path.

    With the installed build backend when it meets pyproject's build requirement (no download),
    otherwise in pip's isolated build environment, as ``pip install .`` does.
    """
    backend_here = all(installed(Requirement(r)) for r in pyproject["build-system"]["requires"])
    isolation = ["--no-build-isolation"] if backend_here else []
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "--quiet",
         "--wheel-dir", str(dist), str(ROOT)],
        check=True,
    )
    (wheel,) = dist.glob("sklearn_tjepa-*.whl")
    return wheel


def running_site_dirs() -> list[str]:
    """The directories the running interpreter imports installed distributions from."""
    paths = sysconfig.get_paths()
    dirs = [paths["purelib"], paths["platlib"], *site.getsitepackages()]
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    return [d for d in dict.fromkeys(dirs) if os.path.isdir(d)]


class EnvSeeingThisOne(venv.EnvBuilder):
    """A venv without pip or packages of its own whose interpreter also imports, after its own
    site-packages, what the running environment has installed (its site directories, added by a
    ``.pth`` file)."""

    def __init__(self):
        super().__init__(with_pip=False)
        self.python = None

    def post_setup(self, context):
        self.python = Path(context.env_exe)
        purelib = subprocess.run(
            [context.env_exe, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
        # addsitedir, not bare paths: the .pth files there are processed too, as they are here.
        line = f"import site; list(map(site.addsitedir, {running_site_dirs()!r}))\n"
        Path(purelib, "running_environment.pth").write_text(line, encoding="utf-8")


def test_pyproject_declares_the_setuptools_that_reads_its_license_fields(pyproject):
    # `license = "MIT"` (an SPDX string) and `license-files` need setuptools >= 77.
    (requirement,) = (Requirement(r) for r in pyproject["build-system"]["requires"])
    assert requirement.name == "setuptools"
    assert requirement.specifier.contains("77.0")
    assert not requirement.specifier.contains("76.9")


def test_test_extra_provides_a_toml_parser_where_python_has_none(pyproject):
    # The tests parse pyproject.toml; tomllib is in the standard library from Python 3.11 on.
    assert pyproject["project"]["requires-python"] == ">=3.10"
    requirements = [Requirement(r) for r in pyproject["project"]["optional-dependencies"]["test"]]
    (tomli,) = (r for r in requirements if r.name == "tomli")
    assert tomli.marker.evaluate({"python_version": "3.10"})
    assert not tomli.marker.evaluate({"python_version": "3.11"})


def test_ci_runs_readmes_test_command_and_installs_nothing_else():
    tests, docs = readme_commands("**Tests**"), readme_commands("## Documentation")
    ci = shell_commands((ROOT / ".ci" / "run").read_text(encoding="utf-8"))
    assert [c for c in tests if c not in ci] == []
    assert [ci.index(c) for c in tests] == sorted(ci.index(c) for c in tests)
    assert [c for c in ci if is_pip_install(c)] == [c for c in tests + docs if is_pip_install(c)]


def test_wheel_in_fresh_venv_runs_readme_example_and_load_config(tmp_path, pyproject):
    wheel = build_wheel(pyproject, tmp_path / "dist")
    names = zipfile.ZipFile(wheel).namelist()
    for data in ("adult.parquet", "california_housing.parquet"):
        assert f"sklearn_tjepa/data/{data}" in names
    assert sum(n.startswith("sklearn_tjepa/baselines/configs_data/") for n in names) == N_CONFIGS
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)

    env_dir = tmp_path / "venv"
    builder = EnvSeeingThisOne()
    builder.create(env_dir)
    python = builder.python
    # pip (the running environment's) installs the wheel alone into the fresh venv: --ignore-installed
    # so that a copy of sklearn-tjepa installed in the running environment is neither taken for it
    # nor touched; the dependencies are checked below, in the fresh venv.
    subprocess.run(
        [str(python), "-m", "pip", "install", "--no-index", "--no-deps", "--ignore-installed",
         "--quiet", str(wheel)],
        check=True,
    )
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"OMP_NUM_THREADS": "1"}
    run = dict(cwd=workdir, check=True, capture_output=True, text=True, env=env)

    checks = subprocess.run([str(python), "-c", CHECKS], **run)
    result = json.loads(checks.stdout.strip().splitlines()[-1])
    assert Path(result["file"]).is_relative_to(env_dir), result["file"]
    assert result["unmet"] == []
    assert result["n_configs"] == N_CONFIGS == 36  # 4 datasets x 9 models

    example = subprocess.run([str(python), "-c", readme_first_example()], **run)
    score = float(example.stdout.strip().splitlines()[-1])
    assert 0.0 <= score <= 1.0
