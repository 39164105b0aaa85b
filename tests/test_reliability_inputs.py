"""Bad input battery: malformed tables, parameters, checkpoints and pickles given to
TJEPATransformer.

Every case either works correctly (finite embeddings of the right shape, and the same embeddings
where the input holds the same values) or raises ``ValueError``/``TypeError`` whose message names
the problem, before any training step runs. Run with ``pytest -m reliability``.
"""

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import InconsistentVersionWarning, NotFittedError

from conftest import TINY_PARAMS
from sklearn_tjepa import TJEPATransformer

pytestmark = pytest.mark.reliability

D_MODEL = TINY_PARAMS["d_model"]
PARAMS = {**TINY_PARAMS, "max_epochs": 1, "batch_size": 16, "output": "cls", "random_state": 0}


def make(**overrides) -> TJEPATransformer:
    return TJEPATransformer(**{**PARAMS, **overrides})


@pytest.fixture
def no_training(monkeypatch):
    """Fail loudly if a training step starts: every error must come before the first backward."""

    def forbidden(*args, **kwargs):
        raise AssertionError("a training step ran before the input was rejected")

    monkeypatch.setattr(torch.autograd, "backward", forbidden)


def assert_embeddings(Z, n_rows):
    assert Z.shape == (n_rows, D_MODEL)
    assert np.isfinite(Z).all()


def _frame(n_rows=24, seed=0, **columns):
    """A numerical column ``x`` plus the given columns (each a callable of (rng, n_rows) or values)."""
    rng = np.random.default_rng(seed)
    data = {"x": rng.normal(size=n_rows)}
    for name, make_column in columns.items():
        data[name] = make_column(rng, n_rows) if callable(make_column) else make_column
    return pd.DataFrame(data)


def _with_missing(values, dtype, every=4):
    values = list(values)
    values[::every] = [None] * len(values[::every])
    return pd.Series(values, dtype=dtype)


# ----------------------------------------------------------------- fit: tables that must work

WORKING_TABLES = {
    "all-NaN numerical column": lambda: _frame(z=np.full(24, np.nan)),
    "constant numerical column": lambda: _frame(z=np.full(24, 3.0)),
    "every column constant": lambda: pd.DataFrame({"a": np.ones(24), "b": np.full(24, -2.0)}),
    "every value missing": lambda: pd.DataFrame({"a": np.full(24, np.nan), "b": pd.Series([None] * 24, dtype=object)}),
    "two rows": lambda: pd.DataFrame({"a": [0.0, 1.0], "b": [1.0, 3.0]}),
    "integer column names": lambda: pd.DataFrame(np.random.default_rng(0).normal(size=(24, 3)), columns=[5, 7, 9]),
    "mixed-type object column": lambda: _frame(m=pd.Series([1, "a", 2.5, None, True, "b"] * 4, dtype=object)),
    "object column of Decimal": lambda: _frame(m=pd.Series([__import__("decimal").Decimal(i % 3) for i in range(24)])),
    "object column all None": lambda: _frame(m=pd.Series([None] * 24, dtype=object)),
    "nullable Int64 with NA": lambda: _frame(i=_with_missing(range(24), "Int64")),
    "nullable Float64 with NA": lambda: _frame(f=_with_missing(np.linspace(0, 1, 24), "Float64")),
    "nullable boolean with NA": lambda: _frame(b=_with_missing([True, False, True] * 8, "boolean")),
    "pyarrow int64 with null": lambda: _frame(i=_with_missing(range(24), "int64[pyarrow]")),
    "pyarrow double with null": lambda: _frame(f=_with_missing(np.linspace(0, 1, 24), "double[pyarrow]")),
    "pyarrow string with null": lambda: _frame(s=_with_missing(["a", "b", "c"] * 8, "string[pyarrow]")),
    "pyarrow bool with null": lambda: _frame(b=_with_missing([True, False] * 12, "bool[pyarrow]")),
    "category with unused levels": lambda: _frame(c=pd.Categorical(["a", "b"] * 12, categories=["a", "b", "z"])),
    "category of integers": lambda: _frame(c=pd.Categorical([1, 2, 3] * 8)),
    "5000-level categorical": lambda: _frame(5000, c=lambda rng, n: pd.Series([f"level{i}" for i in range(n)])),
    "huge magnitudes (1e300)": lambda: _frame(h=lambda rng, n: rng.normal(size=n) * 1e300),
    "extreme magnitudes (+-1.7e308)": lambda: _frame(h=np.tile([1.7e308, -1.7e308, 0.0], 8)),
    "tiny magnitudes (1e-310, subnormal)": lambda: _frame(t=lambda rng, n: rng.normal(size=n) * 1e-310),
    "int64 near its limits": lambda: _frame(i=np.tile(np.array([2**62, -(2**62), 0], dtype=np.int64), 8)),
    "float16 and float32 columns": lambda: _frame(
        h=lambda rng, n: rng.normal(size=n).astype(np.float16), s=lambda rng, n: rng.normal(size=n).astype(np.float32)
    ),
    "list of lists": lambda: [[float(i), float(i % 3)] for i in range(24)],
    "numpy string array": lambda: np.array([["a", "b"], ["c", "a"], ["b", "b"]] * 8),
    "numpy object array with None": lambda: np.array([[1.5, "a"], [None, "b"], [2.5, None]] * 8, dtype=object),
    "Fortran-ordered read-only array": lambda: _read_only(np.asfortranarray(np.random.default_rng(0).normal(size=(24, 3)))),
}


def _read_only(array):
    array.setflags(write=False)
    return array


@pytest.mark.parametrize("name", sorted(WORKING_TABLES))
def test_fit_accepts(name):
    X = WORKING_TABLES[name]()
    n_rows = len(X)
    assert_embeddings(make().fit_transform(X), n_rows)


# ----------------------------------------------------------------- fit: tables that must be refused

REFUSED_TABLES = {
    "inf in a numerical column": (lambda: _frame(z=np.r_[np.inf, np.zeros(23)]), ValueError, "infinity in column 'z'"),
    "-inf in a numpy array": (lambda: np.r_[[[-np.inf, 0.0]], np.zeros((23, 2))], ValueError, "infinity in column 0"),
    "inf in a Float64 column": (
        lambda: _frame(z=pd.Series([np.inf] + [0.0] * 23, dtype="Float64")), ValueError, "infinity in column 'z'"
    ),
    "single row": (lambda: np.zeros((1, 3)), ValueError, "at least 2 rows"),
    "single column": (lambda: np.zeros((24, 1)), ValueError, "at least 2 features.*n_features=1"),
    "zero rows": (lambda: np.zeros((0, 3)), ValueError, "0 sample"),
    "zero columns": (lambda: np.zeros((5, 0)), ValueError, "0 feature"),
    "1-D array": (lambda: np.arange(24.0), ValueError, "2-D"),
    "3-D array": (lambda: np.zeros((4, 3, 2)), ValueError, "2-D"),
    "scalar": (lambda: np.float64(3.0), ValueError, "2-D"),
    "pandas Series": (lambda: pd.Series(np.arange(24.0)), ValueError, "Series"),
    "sparse CSR matrix": (lambda: scipy.sparse.random(24, 3, density=0.5, format="csr"), TypeError, "Sparse"),
    "complex numpy array": (lambda: np.ones((24, 2), dtype=complex), ValueError, "Complex"),
    "complex DataFrame column": (lambda: _frame(z=np.ones(24, dtype=complex)), ValueError, "Complex"),
    "duplicate column names": (
        lambda: pd.DataFrame(np.zeros((24, 3)), columns=["a", "b", "a"]), ValueError, r"duplicate column names \['a'\]"
    ),
    "mixed str and int column names": (
        lambda: pd.DataFrame(np.zeros((24, 2)), columns=["a", 1]), TypeError, "string names"
    ),
    "datetime column with NaT": (
        lambda: _frame(t=pd.Series(pd.date_range("2020-01-01", periods=24)).where(lambda t: t.dt.day > 1)),
        TypeError,
        "'t' has dtype datetime.*not a number",
    ),
    "pyarrow timestamp column": (
        lambda: _frame(t=pd.Series(pd.date_range("2020-01-01", periods=24)).astype("timestamp[us][pyarrow]")),
        TypeError,
        "'t' has dtype timestamp.*not a number",
    ),
    "period column": (
        lambda: _frame(t=pd.period_range("2020-01", periods=24, freq="M")), TypeError, "'t' has dtype period"
    ),
    "timezone-aware datetime column": (
        lambda: _frame(t=pd.date_range("2020-01-01", periods=24, tz="UTC")), TypeError, "'t'.*datetime"
    ),
    "timedelta column": (
        lambda: _frame(t=pd.timedelta_range("1D", periods=24)), TypeError, "'t'.*timedelta"
    ),
    "unhashable values in an object column": (
        lambda: _frame(u=pd.Series([[i] for i in range(24)], dtype=object)), TypeError, "'u'.*unhashable"
    ),
}


@pytest.mark.parametrize("name", sorted(REFUSED_TABLES))
def test_fit_refuses(name, no_training):
    build, error, match = REFUSED_TABLES[name]
    with pytest.raises(error, match=match):
        make().fit(build())


def test_fit_refuses_a_numerical_column_of_words(no_training):
    X = _frame(w=pd.Series(["a", "b"] * 12, dtype=object))
    with pytest.raises(ValueError, match="'w'.*cannot be converted to a number"):
        make(categorical_features=None).fit(X)


def test_fit_refuses_y_of_the_wrong_length(no_training):
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        make().fit(np.zeros((24, 2)), np.zeros(5))


def test_fit_ignores_y_of_the_right_length():
    est = make().fit(np.random.default_rng(0).normal(size=(24, 2)), np.zeros(24))
    assert_embeddings(est.transform(np.zeros((3, 2))), 3)


def test_fit_refuses_an_eval_set_with_other_columns(no_training):
    with pytest.raises(ValueError, match="3 features.*2 features"):
        make().fit(np.zeros((24, 2)), eval_set=np.zeros((8, 3)))


# ----------------------------------------------------------------- transform


def _reference_frame(n_rows=32, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "a": rng.normal(size=n_rows),
            "n": rng.integers(0, 5, n_rows),
            "c": pd.Categorical(rng.choice(["red", "green", "blue"], n_rows)),
            "s": pd.Series(rng.choice(["x", "y"], n_rows), dtype=object),
            "k": rng.integers(1, 4, n_rows),
        }
    )


@pytest.fixture(scope="module")
def fitted():
    """A transformer fitted on ``_reference_frame()`` (``k`` is an integer categorical column)."""
    frame = _reference_frame()
    return make(categorical_features=["c", "s", "k"]).fit(frame), frame


SAME_VALUES = {
    "categorical int column as float64 with a NaN": lambda f: f.assign(k=f["k"].astype(float).where(f.index > 0)),
    "categorical int column as Int64": lambda f: f.assign(k=f["k"].astype("Int64")),
    "categorical int column as pyarrow int": lambda f: f.assign(k=f["k"].astype("int64[pyarrow]")),
    "categorical int column as category": lambda f: f.assign(k=f["k"].astype("category")),
    "category column as object": lambda f: f.assign(c=f["c"].astype(object)),
    "category column as pyarrow string": lambda f: f.assign(c=f["c"].astype("string[pyarrow]")),
    "object column as pandas string": lambda f: f.assign(s=f["s"].astype("string")),
    "numerical int column as float64": lambda f: f.assign(n=f["n"].astype(float)),
    "numerical int column as Float64": lambda f: f.assign(n=f["n"].astype("Float64")),
}


@pytest.mark.parametrize("name", sorted(SAME_VALUES))
def test_transform_gives_the_same_embeddings_for_the_same_values_in_another_dtype(fitted, name):
    est, frame = fitted
    changed = SAME_VALUES[name](frame)
    expected = est.transform(frame)
    Z = est.transform(changed)
    assert_embeddings(Z, len(frame))
    rows = changed.notna().all(axis=1).to_numpy()  # a row given a NaN may differ
    np.testing.assert_array_equal(Z[rows], expected[rows])


TRANSFORM_WORKS = {
    "unseen categories": lambda f: f.assign(c="purple", s="zz", k=99),
    "missing values everywhere": lambda f: pd.DataFrame({c: pd.Series([None] * len(f), dtype=object) for c in f}).astype(
        {"a": float, "n": float}
    ),
    "huge magnitudes": lambda f: f.assign(a=1e300, n=-1e300),
    "a single row": lambda f: f.iloc[:1],
}


@pytest.mark.parametrize("name", sorted(TRANSFORM_WORKS))
def test_transform_accepts(fitted, name):
    est, frame = fitted
    X = TRANSFORM_WORKS[name](frame)
    assert_embeddings(est.transform(X), len(X))


TRANSFORM_REFUSES = {
    "columns reordered": (lambda f: f[["n", "a", "c", "s", "k"]], ValueError, "same order"),
    "a column missing": (lambda f: f.drop(columns="s"), ValueError, "Feature names seen at fit time, yet now missing"),
    "an extra column": (lambda f: f.assign(extra=1.0), ValueError, "Feature names unseen at fit time"),
    "a column renamed": (lambda f: f.rename(columns={"a": "b"}), ValueError, "Feature names unseen at fit time"),
    "words in a numerical column": (lambda f: f.assign(a="word"), ValueError, "'a' is treated as numerical"),
    "words in an object numerical column": (
        lambda f: f.assign(a=pd.Series(["word"] * len(f), dtype=object)), ValueError, "'a'.*cannot be converted to a number"
    ),
    "inf in a numerical column": (lambda f: f.assign(a=np.inf), ValueError, "infinity in column 'a'"),
    "datetime in a numerical column": (
        lambda f: f.assign(a=pd.Timestamp("2020-01-01")), TypeError, "'a'.*datetime"
    ),
    "zero rows": (lambda f: f.iloc[:0], ValueError, "0 sample"),
    "1-D array": (lambda f: f["a"].to_numpy(), ValueError, "2-D"),
    "sparse matrix": (lambda f: scipy.sparse.csr_matrix(np.zeros((3, 5))), TypeError, "Sparse"),
    "complex array": (lambda f: np.ones((3, 5), dtype=complex), ValueError, "Complex"),
}


@pytest.mark.parametrize("name", sorted(TRANSFORM_REFUSES))
def test_transform_refuses(fitted, name):
    est, frame = fitted
    build, error, match = TRANSFORM_REFUSES[name]
    with pytest.raises(error, match=match):
        est.transform(build(frame))


def test_transform_refuses_a_numpy_array_with_another_feature_count():
    est = make().fit(np.random.default_rng(0).normal(size=(24, 3)))
    with pytest.raises(ValueError, match="X has 4 features.*3 features"):
        est.transform(np.zeros((5, 4)))


def test_transform_before_fit():
    with pytest.raises(NotFittedError, match="not fitted"):
        make().transform(np.zeros((3, 2)))


# ----------------------------------------------------------------- parameters (set_params, then fit)

BAD_PARAMETERS = [
    (dict(d_model=0), ValueError, "d_model must be a positive int"),
    (dict(d_model=8.0), TypeError, "d_model must be a positive int"),
    (dict(d_model="8"), TypeError, "d_model must be a positive int"),
    (dict(n_heads=3), ValueError, "n_heads must divide d_model"),
    (dict(n_layers=-1), ValueError, "n_layers must be a non-negative int"),
    (dict(ffn_dim=0), ValueError, "ffn_dim must be a positive int"),
    (dict(dropout=1.0), ValueError, r"dropout must be a float in \[0, 1\)"),
    (dict(dropout=-0.1), ValueError, r"dropout must be a float in \[0, 1\)"),
    (dict(activation="swish"), ValueError, "activation must be one of"),
    (dict(norm="middle"), ValueError, "norm must be one of"),
    (dict(n_cls_tokens=0), ValueError, "n_cls_tokens must be a positive int"),
    (dict(numerical_embedding="fourier"), ValueError, "numerical_embedding must be one of"),
    (dict(numerical_bins=1), ValueError, "numerical_bins must be an int >= 2"),
    (dict(predictor="rnn"), ValueError, "predictor must be one of"),
    (dict(predictor_n_heads=3), ValueError, "predictor_n_heads must divide predictor_d_model"),
    (dict(target_norm="group"), ValueError, "target_norm must be one of"),
    (dict(max_epochs=-1), ValueError, "max_epochs must be a non-negative int"),
    (dict(max_epochs=1.5), TypeError, "max_epochs must be a non-negative int"),
    (dict(batch_size=1), ValueError, "batch_size must be an int >= 2"),
    (dict(lr=0.0), ValueError, "lr must be a positive float"),
    (dict(lr=float("nan")), ValueError, "lr must be a positive float"),
    (dict(lr=float("inf")), ValueError, "lr must be a positive float"),
    (dict(lr="fast"), TypeError, "lr must be a positive float"),
    (dict(start_lr=-1.0), ValueError, "start_lr must be a non-negative float"),
    (dict(warmup_epochs=-1.0), ValueError, "warmup_epochs must be a non-negative float"),
    (dict(weight_decay=-0.1), ValueError, "weight_decay must be a non-negative float"),
    (dict(ema_start=1.5), ValueError, "ema_start must be a float in"),
    (dict(ema_start=0.999, ema_end=0.99), ValueError, "ema_start must not exceed ema_end"),
    (dict(grad_clip=0.0), ValueError, "grad_clip must be a positive float"),
    (dict(grad_clip="1"), TypeError, "grad_clip must be a positive float"),
    (dict(numerical_scaling="log"), ValueError, "numerical_scaling must be one of"),
    (dict(output="max"), ValueError, "output must be one of"),
    (dict(transform_batch_size=0), ValueError, "transform_batch_size must be a positive int"),
    (dict(device="tpu"), ValueError, "device must be"),
    (dict(device=0), TypeError, "device must be"),
    (dict(precision="16"), ValueError, "precision must be one of"),
    (dict(backend="mpi"), ValueError, "backend must be one of"),
    (dict(n_procs=0), ValueError, "n_procs must be a positive int"),
    (dict(n_nodes=0), ValueError, "n_nodes must be a positive int"),
    (dict(data_on_device="sometimes"), ValueError, "data_on_device must be one of"),
    (dict(early_stopping="yes"), TypeError, "early_stopping must be a bool"),
    (dict(validation_fraction=1.5), ValueError, r"validation_fraction must be a float in \(0, 1\)"),
    (dict(validation_fraction=0.0), ValueError, r"validation_fraction must be a float in \(0, 1\)"),
    (dict(patience=0), ValueError, "patience must be a positive int"),
    (dict(checkpoint_every=0), ValueError, "checkpoint_every must be a positive int"),
    (dict(resume="yes"), TypeError, "resume must be a bool"),
    (dict(checkpoint_every_rows=0), ValueError, "checkpoint_every_rows must be None or a positive int"),
    (dict(checkpoint_every_rows=1.5), TypeError, "checkpoint_every_rows must be None or a positive int"),
    (dict(partial_fit_rows=0), ValueError, "partial_fit_rows must be None or a positive int"),
    (dict(partial_fit_rows="100"), TypeError, "partial_fit_rows must be None or a positive int"),
    (dict(preprocessing_sample_rows=1), ValueError, "preprocessing_sample_rows must be an int >= 2"),
    (dict(shuffle_buffer_rows=0), ValueError, "shuffle_buffer_rows must be a positive int"),
    (dict(shuffle_buffer_rows=1e6), TypeError, "shuffle_buffer_rows must be a positive int"),
    (dict(callbacks=[object()]), TypeError, "callbacks must be instances of sklearn_tjepa.callbacks.Callback"),
    (dict(verbose=-1), ValueError, "verbose must be a non-negative int"),
    (dict(random_state="seed"), TypeError, "random_state must be None, an int"),
    (dict(random_state=-1), ValueError, r"random_state must be None, an int in \[0, 2\*\*32\)"),
    (dict(categorical_features="all"), ValueError, "categorical_features must be 1-D"),
    (dict(categorical_features=[7]), ValueError, r"categorical_features holds column indices out of range.*\[7\]"),
    (dict(categorical_features=[1.5]), TypeError, "categorical_features must be 'auto', None, or an array"),
]
if not torch.cuda.is_available():
    BAD_PARAMETERS.append((dict(device="cuda"), ValueError, "CUDA is not available"))


@pytest.mark.parametrize("params,error,match", BAD_PARAMETERS, ids=lambda v: repr(v) if isinstance(v, dict) else "")
def test_set_params_then_fit_refuses(params, error, match, no_training):
    est = make().set_params(**params)
    with pytest.raises(error, match=match):
        est.fit(np.random.default_rng(0).normal(size=(24, 3)))


def test_predictor_without_layers_is_refused(no_training):
    with pytest.raises(ValueError, match="predictor_n_layers must be a positive int.*predictor='transformer'"):
        make(predictor_n_layers=0).fit(np.zeros((24, 3)))


def test_mlp_predictor_ignores_predictor_n_layers():
    X = np.random.default_rng(0).normal(size=(24, 3))
    assert_embeddings(make(predictor="mlp", predictor_n_layers=0).fit_transform(X), 24)


@pytest.mark.parametrize(
    "params,match",
    [
        pytest.param(dict(output="max"), "output must be one of", id="output"),
        pytest.param(
            dict(transform_batch_size=0), "transform_batch_size must be a positive int", id="transform_batch_size"
        ),
        pytest.param(dict(device="tpu"), "device must be", id="device"),
        pytest.param(dict(precision="16"), "precision must be one of", id="precision"),
    ],
)
def test_set_params_after_fit_then_transform_refuses(params, match):
    X = np.random.default_rng(0).normal(size=(24, 3))
    est = make().fit(X).set_params(**params)
    with pytest.raises(ValueError, match=match):
        est.transform(X)


# ----------------------------------------------------------------- loading: checkpoints and pickles


def _checkpoint_file(directory) -> Path:
    files = [p for p in Path(directory).iterdir() if p.is_file() and not p.name.startswith(".")]
    assert len(files) == 1, files
    return files[0]


@pytest.fixture
def checkpointed(tmp_path):
    """A table and a checkpoint directory holding the checkpoint of one epoch of ``make()``."""
    X = np.random.default_rng(0).normal(size=(24, 3))
    make(checkpoint_dir=tmp_path).fit(X)
    return X, tmp_path


def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path):
    path.write_bytes(b"not a checkpoint at all" * 10)


def _foreign(path):
    torch.save({"weights": torch.zeros(3)}, path)


@pytest.mark.parametrize("damage", [_truncate, _garbage, _foreign], ids=["truncated", "not a torch file", "foreign"])
def test_resume_refuses_a_damaged_or_foreign_checkpoint(checkpointed, damage, no_training):
    X, directory = checkpointed
    damage(_checkpoint_file(directory))
    with pytest.raises(ValueError, match=r"tjepa-last\.pt.*(cannot be read|not a sklearn_tjepa checkpoint)"):
        make(checkpoint_dir=directory, resume=True).fit(X)


def test_resume_refuses_a_checkpoint_of_other_settings(checkpointed, no_training):
    X, directory = checkpointed
    with pytest.raises(ValueError, match="checkpoint"):
        make(checkpoint_dir=directory, resume=True, d_model=16).fit(X)


def test_pickle_round_trip_gives_the_same_embeddings(fitted):
    est, frame = fitted
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.transform(frame), est.transform(frame))


def test_pickle_from_another_scikit_learn_version_warns(fitted):
    est, _ = fitted
    state = est.__getstate__()
    state["_sklearn_version"] = "0.1"
    clone = TJEPATransformer.__new__(TJEPATransformer)
    with pytest.warns(InconsistentVersionWarning):
        clone.__setstate__(state)


# ----------------------------------------------------------------- generated tables

_COLUMN_KINDS = {
    "float": lambda rng, n: rng.normal(size=n) * 10.0 ** rng.integers(-3, 4),
    "float with NaN": lambda rng, n: np.where(rng.random(n) < 0.3, np.nan, rng.normal(size=n)),
    "int": lambda rng, n: rng.integers(-5, 5, n),
    "Int64 with NA": lambda rng, n: pd.array(np.where(rng.random(n) < 0.3, None, rng.integers(0, 9, n)), dtype="Int64"),
    "bool": lambda rng, n: rng.random(n) < 0.5,
    "boolean with NA": lambda rng, n: pd.array(np.where(rng.random(n) < 0.3, None, rng.random(n) < 0.5), dtype="boolean"),
    "category": lambda rng, n: pd.Categorical(rng.choice(["a", "b", "c"], n)),
    "object strings with None": lambda rng, n: pd.Series(np.where(rng.random(n) < 0.3, None, rng.choice(["u", "v"], n)), dtype=object),
    "pyarrow string": lambda rng, n: pd.Series(rng.choice(["p", "q", "r"], n), dtype="string[pyarrow]"),
    "constant": lambda rng, n: np.full(n, 7.0),
    "all NaN": lambda rng, n: np.full(n, np.nan),
}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kinds=st.lists(st.sampled_from(sorted(_COLUMN_KINDS)), min_size=2, max_size=5),
    n_rows=st.integers(2, 40),
    seed=st.integers(0, 2**16),
)
def test_generated_tables_embed_finitely(kinds, n_rows, seed):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"{kind} {i}": _COLUMN_KINDS[kind](rng, n_rows) for i, kind in enumerate(kinds)})
    est = make().fit(frame)
    Z = est.transform(frame)
    assert_embeddings(Z, n_rows)
    order = rng.permutation(n_rows)  # rows are embedded independently of each other
    np.testing.assert_allclose(est.transform(frame.iloc[order]), Z[order], rtol=1e-6, atol=1e-6)
