"""Shared fixtures: tiny model settings, a factory of tiny estimators, a tiny ModelSpec, small
tables (numpy and mixed-type DataFrames), the checkout's parsed ``pyproject.toml``, the folder of
the offline benchmark datasets, and :func:`assert_same_embeddings`."""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from sklearn_tjepa import TJEPATransformer
from sklearn_tjepa.datasets import DATA_DIR_ENV
from sklearn_tjepa.model import ModelSpec
from sklearn_tjepa.training import loop
from sklearn_tjepa.training.config import from_params

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, as the tomli package (test extra)
    import tomli as tomllib

# One intra-op thread for the whole test session. The models here are tiny (d_model=8); with
# two OpenMP threads on a busy 2-core machine every matmul waits on a spinning peer, and a fit
# that takes 0.2 s on one thread took 10-20 s. Results do not depend on the thread count.
torch.set_num_threads(1)

def assert_same_embeddings(actual, expected):
    """Embeddings of the same rows computed in other batches or chunks must agree.

    On the CPU they are bit-identical. The tiny estimators use ``device="auto"``, which is CUDA
    where a GPU is present, and there cuBLAS picks its kernels by matrix shape, so another batch
    size may change a value by float32 rounding (seen: at most 3.6e-7 on an H200).
    """
    if torch.cuda.is_available():
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_array_equal(actual, expected)


#: Tiny architecture used by every test (importable for collection-time parametrisation). Float32,
#: so that results are the same on CPUs with and without native bf16 (``precision="auto"`` would
#: differ between them); bf16 and "auto" are tested in test_precision.py.
TINY_PARAMS = dict(
    d_model=8,
    n_layers=1,
    n_heads=2,
    ffn_dim=16,
    predictor_d_model=8,
    predictor_n_layers=1,
    predictor_n_heads=2,
    predictor_ffn_dim=16,
    max_epochs=2,
    batch_size=32,
    device="cpu",
    precision="32",
)


#: Where the offline copies of the benchmark datasets are: the folder named by the environment
#: variable SKLEARN_TJEPA_DATA, else ``shared/datasets`` beside this checkout. Read when the tests
#: are collected, before any test changes the environment.
BENCHMARK_DATA = Path(os.environ.get(DATA_DIR_ENV) or Path(__file__).resolve().parents[2] / "shared" / "datasets")

#: The complete datasets the tests read from that folder.
_BENCHMARK_FILES = ("adult.parquet", "california_housing.parquet")


@pytest.fixture(scope="session")
def benchmark_data():
    """The folder of the offline benchmark datasets (``BENCHMARK_DATA``); skips the test when it
    lacks the Adult or California Housing Parquet file."""
    missing = [name for name in _BENCHMARK_FILES if not (BENCHMARK_DATA / name).is_file()]
    if missing:
        pytest.skip(
            f"offline benchmark datasets not found: {BENCHMARK_DATA} lacks {', '.join(missing)} "
            f"(set {DATA_DIR_ENV} to the folder that holds them)"
        )
    return BENCHMARK_DATA


@pytest.fixture(scope="session")
def pyproject():
    """This checkout's ``pyproject.toml``, parsed."""
    text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


@pytest.fixture
def tiny_params():
    """Keyword arguments of a tiny, fast, CPU-only TJEPATransformer (a fresh dict per test)."""
    return dict(TINY_PARAMS)


@pytest.fixture
def make(tiny_params):
    """Factory of tiny TJEPATransformers with ``random_state=0``; keyword arguments override."""

    def factory(**overrides):
        return TJEPATransformer(**{**tiny_params, "random_state": 0, **overrides})

    return factory


@pytest.fixture
def recorded_batches(monkeypatch):
    """The numerical rows of every batch the loop computes the objective on, as handed to
    ``loop.jepa_loss``: ``{"train": [...], "valid": [...]}`` (student in train or eval mode)."""
    batches = {"train": [], "valid": []}
    original = loop.jepa_loss

    def jepa_loss(student, target_encoder, x_num, x_cat, *args, **kwargs):
        batches["train" if student.training else "valid"].append(x_num.clone())
        return original(student, target_encoder, x_num, x_cat, *args, **kwargs)

    monkeypatch.setattr(loop, "jepa_loss", jepa_loss)
    return batches


def row_indices(est, X, batches):
    """Positions in ``X`` of the rows of each recorded batch (rows of ``X`` are distinct)."""
    encoded = torch.from_numpy(est.preprocessor_.transform(X).x_num)
    return [[int(torch.nonzero((encoded == row).all(dim=1))[0]) for row in batch] for batch in batches]


def tiny_spec(
    numerical=(0, 2, 3), categorical=(1, 4), cardinalities=(4, 3), numerical_bin_edges=None, **overrides
):
    """The ModelSpec of a tiny estimator (``TINY_PARAMS``, linear numerical embedding) for a table
    with the given numerical and categorical column positions; ``overrides`` are parameters."""
    params = TJEPATransformer(**{**TINY_PARAMS, "numerical_embedding": "linear", **overrides}).get_params()
    return from_params(
        ModelSpec,
        params,
        numerical_positions=tuple(numerical),
        categorical_positions=tuple(categorical),
        cardinalities=tuple(cardinalities),
        numerical_bin_edges=numerical_bin_edges,
    )


@pytest.fixture
def X_small():
    """A float64 array of 64 rows and 4 standard-normal features."""
    return np.random.default_rng(0).normal(size=(64, 4))


@pytest.fixture
def X_numeric():
    """A float64 array of 120 rows and 5 numerical features."""
    rng = np.random.default_rng(0)
    return rng.normal(size=(120, 5)) * np.array([1.0, 10.0, 0.1, 3.0, 100.0])


def make_mixed_frame(n_rows=120, seed=0, with_missing=False):
    """A DataFrame with numerical, ``category``, object, string and bool columns.

    With ``with_missing`` every column holds missing values (NaN, None or pd.NA).
    """
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.normal(40, 10, n_rows),
            "colour": pd.Categorical(rng.choice(["red", "green", "blue"], n_rows)),
            "count": rng.integers(0, 20, n_rows),
            "city": pd.Series(rng.choice(["paris", "rome", "oslo", "lima"], n_rows), dtype=object),
            "flag": rng.random(n_rows) < 0.4,
            "label": pd.Series(rng.choice(["a", "b"], n_rows), dtype="string"),
        }
    )
    if with_missing:
        missing = rng.random((n_rows, frame.shape[1])) < 0.15
        missing[0] = True  # one row missing everywhere
        frame["age"] = frame["age"].mask(missing[:, 0])
        frame["colour"] = frame["colour"].mask(missing[:, 1])
        frame["count"] = frame["count"].astype(float).mask(missing[:, 2])
        frame["city"] = frame["city"].mask(missing[:, 3], None)
        frame["flag"] = frame["flag"].astype("boolean").mask(missing[:, 4])
        frame["label"] = frame["label"].mask(missing[:, 5])
    return frame


@pytest.fixture
def mixed_frame():
    """120 rows: ``age`` float, ``colour`` category, ``count`` int, ``city`` object,
    ``flag`` bool, ``label`` string."""
    return make_mixed_frame()


@pytest.fixture
def mixed_frame_missing():
    """Like ``mixed_frame`` with missing values in every column (and one all-missing row)."""
    return make_mixed_frame(with_missing=True)


@pytest.fixture
def binary_problem():
    """A small, easy binary classification problem: (X, y) with 160 rows and 4 features."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(160, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    return X, y
