"""Tests for sklearn_tjepa.estimator.TJEPATransformer: inputs, outputs, determinism, fitted
state, persistence (incl. a CUDA-fitted model loading without CUDA, and the versions a pickle
records), transform leaving the fitted encoder alone (concurrent transforms), progress bar, and
errors raised before any training."""

import copy
import io
import pickle
import re
import threading
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
import torch.serialization

from conftest import assert_same_embeddings, make_mixed_frame
from sklearn_tjepa import TJEPATransformer
from sklearn_tjepa import estimator as estimator_module
from sklearn_tjepa.callbacks import Callback
from sklearn_tjepa.training import loop

HISTORY_KEYS = {
    "loss", "lr", "weight_decay", "momentum", "seconds", "samples_per_second", "peak_memory_mb",
    "embedding_std", "effective_rank",
}


# ---------------------------------------------------------------- inputs


def test_numpy_input(make, X_numeric):
    est = make()
    out = est.fit_transform(X_numeric)
    assert out.shape == (120, (1 + 5) * 8) and out.dtype == np.float64
    assert np.isfinite(out).all()
    assert est.n_features_in_ == 5 and not hasattr(est, "feature_names_in_")


def test_dataframe_with_mixed_column_types(make, mixed_frame):
    est = make().fit(mixed_frame)
    assert list(est.feature_names_in_) == list(mixed_frame.columns)
    # types from the dtype, in input order: age, colour, count, city, flag, label
    assert est.preprocessor_.is_categorical_.tolist() == [False, True, False, True, True, True]
    assert est.model_spec_.categorical_positions == (1, 3, 4, 5)
    assert est.model_spec_.numerical_positions == (0, 2)
    assert est.model_spec_.cardinalities == (4, 5, 3, 3)  # categories + the missing/unknown row
    out = est.transform(mixed_frame)
    assert out.shape == (120, 7 * 8) and np.isfinite(out).all()


def test_missing_values_in_every_column_kind(make, mixed_frame_missing):
    frame = mixed_frame_missing
    assert frame.isna().any().all() and frame.iloc[0].isna().all()
    est = make().fit(frame)
    out = est.transform(frame)
    assert np.isfinite(out).all()
    # other rows' embeddings do not depend on the missing values of row 0
    np.testing.assert_array_equal(est.transform(frame.iloc[1:]), out[1:])


def test_missing_values_in_numpy_input(make, X_numeric):
    X = X_numeric.copy()
    X[::7, 2] = np.nan
    X[3, :] = np.nan
    out = make().fit(X).transform(X)
    assert np.isfinite(out).all()


def test_nan_gives_finite_embeddings(make, X_numeric):
    X = X_numeric.copy()
    X[0, 4] = np.nan
    X[1, :] = np.nan
    est = make().fit(X)
    out = est.transform(X)
    assert np.isfinite(out).all()
    history_values = [record["loss"] for record in est.history_]
    assert np.isfinite(history_values).all()
    # the NaN does not leak into other rows
    np.testing.assert_array_equal(est.transform(X[2:]), out[2:])


def test_unseen_category_embeds_like_missing(make, mixed_frame):
    est = make().fit(mixed_frame)
    rows = mixed_frame.iloc[[0, 0, 0]].copy()
    rows["city"] = pd.Series(["atlantis", None, "paris"], index=rows.index, dtype=object)
    rows["colour"] = pd.Categorical(["purple", None, "red"])
    out = est.transform(rows)
    np.testing.assert_array_equal(out[0], out[1])
    assert not np.array_equal(out[1], out[2])


@pytest.mark.parametrize("output,width", [("flatten", 6 * 8), ("cls", 8), ("mean", 8)])
def test_output_shapes(make, X_numeric, output, width):
    est = make(output=output).fit(X_numeric)
    out = est.transform(X_numeric)
    assert out.shape == (120, width) and out.dtype == np.float64
    assert len(est.get_feature_names_out()) == width


def test_outputs_are_views_of_the_same_tokens(make, X_numeric):
    flat = make(output="flatten").fit(X_numeric)
    tokens = flat.transform(X_numeric).reshape(120, 6, 8)
    np.testing.assert_allclose(flat.set_params(output="cls").transform(X_numeric), tokens[:, 0])
    np.testing.assert_allclose(
        flat.set_params(output="mean").transform(X_numeric), tokens[:, 1:].mean(axis=1), rtol=1e-6, atol=1e-6
    )


def test_float32_input_gives_float64_output(make, X_numeric):
    out = make().fit(X_numeric.astype(np.float32)).transform(X_numeric.astype(np.float32))
    assert out.dtype == np.float64


def test_transform_batch_size_does_not_change_embeddings(make, X_numeric):
    est = make(transform_batch_size=7).fit(X_numeric)
    small = est.transform(X_numeric)
    assert_same_embeddings(est.set_params(transform_batch_size=1000).transform(X_numeric), small)


@pytest.mark.parametrize("output", ["flatten", "mean"])
def test_float32_output_dtype_holds_the_same_values(make, X_numeric, output):
    est = make(output=output).fit(X_numeric)
    wide = est.transform(X_numeric)
    narrow = est.set_params(output_dtype="float32").transform(X_numeric)
    assert wide.dtype == np.float64 and narrow.dtype == np.float32
    np.testing.assert_array_equal(narrow, wide.astype(np.float32))  # the encoder computes in float32
    np.testing.assert_array_equal(narrow.astype(np.float64), wide)


def test_output_dtype_sets_the_preserved_dtype(make):
    assert make().__sklearn_tags__().transformer_tags.preserves_dtype == ["float64"]
    assert make(output_dtype="float32").__sklearn_tags__().transformer_tags.preserves_dtype == ["float32"]


@pytest.mark.parametrize("value, error", [("float16", ValueError), (np.float32, TypeError), ("int64", ValueError)])
def test_bad_output_dtype_is_refused(make, X_numeric, value, error):
    with pytest.raises(error, match=r"output_dtype must be one of \('float64', 'float32'\), got output_dtype="):
        make(output_dtype=value).fit(X_numeric)
    fitted = make(max_epochs=0).fit(X_numeric)
    with pytest.raises(error, match="output_dtype must be one of"):
        fitted.set_params(output_dtype=value).transform(X_numeric)


def test_transform_in_chunks_gives_the_same_embeddings(make, mixed_frame_missing, monkeypatch):
    est = make(transform_batch_size=5).fit(mixed_frame_missing)
    whole = est.transform(mixed_frame_missing)
    monkeypatch.setattr(estimator_module, "_TRANSFORM_CHUNK_ROWS", 7)  # 120 rows: 18 chunks, the last of 1 row
    assert_same_embeddings(est.transform(mixed_frame_missing), whole)


def test_transform_memory_is_one_chunk_beyond_input_and_output(make, monkeypatch):
    """The numpy memory ``transform`` allocates (traced by tracemalloc) is the output plus one
    chunk's encoding, not copies of the whole table (the float64 block, the scaled copy and the
    float32 encoding of all rows, then a list of blocks joined and cast: several times the
    output before)."""
    import tracemalloc

    X = np.random.default_rng(0).normal(size=(20_000, 54))
    est = make(max_epochs=0, output="mean").fit(X[:256])
    monkeypatch.setattr(estimator_module, "_TRANSFORM_CHUNK_ROWS", 500)
    output_bytes = 20_000 * 8 * 8  # d_model=8, float64
    table_bytes = X.nbytes  # 8.6 MB: one float64 copy of the whole table
    tracemalloc.start()
    try:
        est.transform(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < output_bytes + table_bytes / 4, (peak, output_bytes)


@pytest.mark.parametrize(
    "overrides",
    [
        dict(predictor="mlp"),
        dict(n_context_sets=2, mask_max_context_share=0.4),
        dict(norm="post", activation="relu", n_cls_tokens=2),
        dict(numerical_embedding="periodic"),
        dict(numerical_embedding="piecewise_linear", numerical_bins=4),
        dict(numerical_scaling="minmax"),
        dict(numerical_scaling="standard", feature_index_embedding=False, feature_type_embedding=False),
        dict(precision="bf16"),
        dict(grad_clip=1.0, target_norm="none"),
    ],
    ids=lambda overrides: ",".join(f"{k}={v}" for k, v in overrides.items()),
)
def test_variants_train_and_embed(make, mixed_frame_missing, overrides):
    est = make(max_epochs=1, **overrides).fit(mixed_frame_missing)
    out = est.transform(mixed_frame_missing)
    assert out.dtype == np.float64 and np.isfinite(out).all()
    assert np.isfinite(est.history_[0]["loss"])


@pytest.mark.parametrize("predictor", ["transformer", "mlp"])
@pytest.mark.parametrize("n_context_sets", [1, 2])
def test_multiple_context_views_and_mlp_predictor_train(make, X_numeric, predictor, n_context_sets):
    est = make(predictor=predictor, n_context_sets=n_context_sets, n_target_sets=3, mask_max_context_share=0.4).fit(X_numeric)
    assert all(np.isfinite(record["loss"]) for record in est.history_)
    out = est.transform(X_numeric)
    assert out.shape == (120, 48) and np.isfinite(out).all()


# ---------------------------------------------------------------- determinism and RNG


def test_same_random_state_bit_identical(make, mixed_frame_missing):
    a = make(dropout=0.1).fit(mixed_frame_missing).transform(mixed_frame_missing)
    b = make(dropout=0.1).fit(mixed_frame_missing).transform(mixed_frame_missing)
    np.testing.assert_array_equal(a, b)


def test_different_random_state_different_embeddings(make, X_numeric):
    a = make(random_state=0).fit(X_numeric).transform(X_numeric)
    b = make(random_state=1).fit(X_numeric).transform(X_numeric)
    assert not np.allclose(a, b)


def test_random_state_instance_and_none(make, X_numeric):
    out = make(random_state=np.random.RandomState(3)).fit(X_numeric).transform(X_numeric)
    np.testing.assert_array_equal(
        out, make(random_state=np.random.RandomState(3)).fit(X_numeric).transform(X_numeric)
    )
    assert np.isfinite(make(random_state=None).fit(X_numeric).transform(X_numeric)).all()


def test_caller_rng_state_untouched(make, X_numeric):
    torch.manual_seed(123)
    torch_state = torch.random.get_rng_state()
    numpy_state = np.random.get_state()
    est = make(dropout=0.2).fit(X_numeric)
    est.transform(X_numeric)
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    after = np.random.get_state()
    assert after[0] == numpy_state[0] and np.array_equal(after[1], numpy_state[1]) and after[2:] == numpy_state[2:]


def test_transform_is_repeatable_with_dropout(make, X_numeric):
    est = make(dropout=0.5).fit(X_numeric)
    np.testing.assert_array_equal(est.transform(X_numeric), est.transform(X_numeric))
    assert not est.encoder_.training


def test_embeddings_without_dropout(make, X_numeric):
    est = make(dropout=0.5).fit(X_numeric)
    first = est.transform(X_numeric)
    np.testing.assert_array_equal(est.transform(X_numeric), first)
    # row independence: a row's embedding does not depend on its batch
    assert_same_embeddings(est.set_params(transform_batch_size=1).transform(X_numeric[:5]), first[:5])


# ---------------------------------------------------------------- fitted state


def test_preprocessing_fitted_on_fit_rows_only(make, mixed_frame):
    train, new = mixed_frame.iloc[:80], make_mixed_frame(n_rows=40, seed=5)
    new["age"] = new["age"] * 100  # far outside the training range
    new["city"] = "nowhere"
    est = make(numerical_scaling="minmax").fit(train)
    scaler = est.preprocessor_.scaler_
    np.testing.assert_allclose(scaler.data_min_, train[["age", "count"]].min().to_numpy())
    np.testing.assert_allclose(scaler.data_max_, train[["age", "count"]].max().to_numpy())
    before = joblib.hash(est.preprocessor_)
    categories = copy.deepcopy(est.preprocessor_.categories_)
    est.transform(new)
    assert joblib.hash(est.preprocessor_) == before
    assert all(np.array_equal(a, b) for a, b in zip(est.preprocessor_.categories_, categories))
    assert "nowhere" not in est.preprocessor_.categories_[1]


def test_scaler_fitted_on_fit_rows_only(make, X_numeric):
    train, test = X_numeric[:80], X_numeric[80:] * 50
    est = make(numerical_scaling="minmax").fit(train)
    scaler = est.preprocessor_.scaler_
    np.testing.assert_allclose(scaler.data_min_, train.min(axis=0))
    np.testing.assert_allclose(scaler.data_max_, train.max(axis=0))
    embeddings = est.transform(train)
    est.transform(test)
    np.testing.assert_allclose(scaler.data_max_, train.max(axis=0))
    # the test rows change nothing for the training rows
    np.testing.assert_array_equal(est.transform(train), embeddings)
    # scaled test values are outside [0, 1]: they were scaled with the training range only
    scaled = est.preprocessor_.transform(test).x_num
    assert scaled.max() > 1.0 or scaled.min() < 0.0


def test_history_and_n_iter(make, X_numeric):
    est = make(max_epochs=3).fit(X_numeric)
    assert est.n_iter_ == 3 == len(est.history_)
    for epoch, record in enumerate(est.history_, start=1):
        assert HISTORY_KEYS <= set(record)
        assert record["epoch"] == epoch
        assert all(np.isfinite(record[key]) for key in HISTORY_KEYS)
        assert record["samples_per_second"] > 0 and record["seconds"] > 0 and record["peak_memory_mb"] > 0
        assert record["effective_rank"] >= 1.0 and record["embedding_std"] > 0
    assert est.best_epoch_ is None


def test_encoder_on_cpu_without_grad(make, X_numeric):
    est = make().fit(X_numeric)
    params = list(est.encoder_.parameters())
    assert all(p.device.type == "cpu" and not p.requires_grad for p in params)


def test_max_epochs_zero_gives_untrained_encoder(make, X_numeric, monkeypatch):
    """The encoder of ``max_epochs=0`` is the target encoder as initialised, before any step."""
    initial = []
    original = loop.make_target_encoder

    def capture(context_encoder):
        target = original(context_encoder)
        initial.append(copy.deepcopy(target.state_dict()))
        return target

    monkeypatch.setattr(loop, "make_target_encoder", capture)
    est = make(max_epochs=0).fit(X_numeric)
    assert est.n_iter_ == 0 and est.history_ == []
    for name, tensor in est.encoder_.state_dict().items():
        assert torch.equal(tensor, initial[0][name])
    untrained = est.transform(X_numeric)
    assert untrained.shape == (120, 48) and np.isfinite(untrained).all()
    trained = make(max_epochs=1).fit(X_numeric).transform(X_numeric)
    assert not np.allclose(untrained, trained)
    # same initialisation for the same random_state
    np.testing.assert_array_equal(make(max_epochs=0).fit(X_numeric).transform(X_numeric), untrained)


def test_refit_resets_state(make, X_numeric, mixed_frame):
    est = make().fit(mixed_frame)
    est.fit(X_numeric)
    assert est.n_features_in_ == 5 and not hasattr(est, "feature_names_in_")
    assert est.transform(X_numeric).shape == (120, 48)


# ---------------------------------------------------------------- persistence


def test_pickle_round_trip(make, mixed_frame_missing):
    est = make().fit(mixed_frame_missing)
    expected = est.transform(mixed_frame_missing)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(mixed_frame_missing), expected)
    assert restored.history_ == est.history_ and restored.get_params().keys() == est.get_params().keys()


def test_pickle_without_newer_parameters_loads_with_their_defaults(make, X_numeric):
    """A pickle written before output_dtype and recompute existed still transforms (float64, as then)."""
    est = make(precision="32").fit(X_numeric)
    state = est.__getstate__()
    for name in ("output_dtype", "recompute"):
        del state[name]
    restored = TJEPATransformer.__new__(TJEPATransformer)
    restored.__setstate__(state)
    assert restored.output_dtype == "float64" and restored.recompute == "auto"
    np.testing.assert_array_equal(restored.transform(X_numeric), est.transform(X_numeric))
    assert restored.get_params() == est.get_params()


def test_joblib_round_trip(make, mixed_frame_missing, tmp_path):
    est = make().fit(mixed_frame_missing)
    expected = est.transform(mixed_frame_missing)
    joblib.dump(est, tmp_path / "tjepa.joblib")
    restored = joblib.load(tmp_path / "tjepa.joblib", mmap_mode="r")
    np.testing.assert_array_equal(restored.transform(mixed_frame_missing), expected)


def test_pickle_holds_cpu_tensors(make, X_numeric):
    est = make().fit(X_numeric)
    state = est.__getstate__()
    assert "encoder_" not in state
    weights = state["encoder_state_"]
    assert weights.keys() == est.encoder_.state_dict().keys()
    assert all(isinstance(t, torch.Tensor) and t.device.type == "cpu" for t in weights.values())
    # nothing else in the state is a module or a tensor
    for key, value in state.items():
        if key != "encoder_state_":
            assert not isinstance(value, (torch.nn.Module, torch.Tensor)), key


def test_unfitted_pickles(make):
    est = make()
    restored = pickle.loads(pickle.dumps(est))
    assert restored.get_params() == est.get_params() and not hasattr(restored, "encoder_")


@pytest.fixture
def fake_cuda(monkeypatch):
    """Make chosen tensors behave, for serialisation, like tensors on ``cuda:0``.

    A CUDA-fitted model that pickles its tensors as they are cannot be unpickled without CUDA:
    torch pickles every storage with a location tag ("cuda:0"), and restoring that tag raises
    when CUDA is unavailable. We reproduce exactly that on a CPU-only machine, through torch's
    public serialisation hook ``torch.serialization.register_package``:

    - ``mark(module)`` records the storages of a module's tensors as "on the GPU";
    - a tagger registered ahead of the CPU one tags those storages ``"cuda:0"`` when pickled, so
      their bytes say CUDA (the deserializer half passes, letting torch's own CUDA deserializer
      reject them as it would a real GPU pickle);
    - ``Tensor.to``/``Tensor.cpu`` are patched so that moving a marked tensor to the CPU returns
      a copy in fresh, unmarked memory, as the real device-to-host copy does (on a real CPU
      tensor ``.to("cpu")`` would return the tensor itself, still marked).

    So a pickle of the estimator loads without CUDA only if ``__getstate__`` really moves the
    weights to the CPU. Empty storages (address 0) cannot be told apart and are left unmarked.
    The registry entry and the patches are undone after the test.
    """
    marked = set()
    monkeypatch.setattr(torch.serialization, "_package_registry", list(torch.serialization._package_registry))
    torch.serialization.register_package(
        -100,
        lambda storage: "cuda:0" if storage.data_ptr() in marked else None,
        lambda storage, location: None,
    )

    def is_marked(tensor):
        return tensor.untyped_storage().data_ptr() in marked

    original_to, original_cpu = torch.Tensor.to, torch.Tensor.cpu

    def to(self, *args, **kwargs):
        out = original_to(self, *args, **kwargs)
        return out.clone() if is_marked(self) and out.device.type == "cpu" else out

    def cpu(self, *args, **kwargs):
        out = original_cpu(self, *args, **kwargs)
        return out.clone() if is_marked(self) else out

    monkeypatch.setattr(torch.Tensor, "to", to)
    monkeypatch.setattr(torch.Tensor, "cpu", cpu)

    def mark(module):
        for tensor in module.state_dict().values():
            if tensor.untyped_storage().nbytes():
                marked.add(tensor.untyped_storage().data_ptr())

    yield mark
    marked.clear()


def test_cuda_fitted_transformer_loads_without_cuda(make, X_numeric, fake_cuda):
    est = make().fit(X_numeric)
    expected = est.transform(X_numeric)
    fake_cuda(est.encoder_)  # the fitted encoder now "lives on cuda:0"
    if not torch.cuda.is_available():
        # the fake is faithful: a naive pickle of the module cannot be loaded on this machine
        with pytest.raises(RuntimeError, match="CUDA"):
            pickle.loads(pickle.dumps(est.encoder_))
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(X_numeric), expected)
    buffer = io.BytesIO()
    joblib.dump(est, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(joblib.load(buffer).transform(X_numeric), expected)


@pytest.mark.reliability
@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_model_fitted_on_cuda_transforms_on_a_cpu_only_machine(make, X_small):
    """A fit with device="cuda" leaves device="cuda" in the estimator (and CPU weights in its
    pickle); loaded where CUDA is missing, transform falls back to the CPU with a warning."""
    est = make().fit(X_small)
    expected = est.transform(X_small)
    est.set_params(device="cuda")  # what a fit on a GPU machine leaves
    loaded = pickle.loads(pickle.dumps(est))
    with pytest.warns(UserWarning, match=r"device='cuda'.*CUDA is not available.*CPU"):
        Z = loaded.transform(X_small)
    np.testing.assert_array_equal(Z, expected)
    with pytest.raises(ValueError, match="CUDA is not available"):  # fitting there is still refused
        loaded.fit(X_small)


@pytest.mark.reliability
def test_pickle_keeps_the_versions_that_wrote_it(make, X_small):
    import sklearn

    import sklearn_tjepa

    state = make(max_epochs=0).fit(X_small).__getstate__()
    assert state["_sklearn_version"] == sklearn.__version__
    assert state["_sklearn_tjepa_version"] == sklearn_tjepa.__version__


@pytest.mark.reliability
@pytest.mark.parametrize(
    ("version", "saved_by", "remedy"),
    [
        ("0.0.1", "sklearn_tjepa 0.0.1", r"the version that saved it \(pip install sklearn-tjepa==0.0.1\)\."),
        (None, "sklearn_tjepa a version that did not record itself", r"the version that saved it\."),
    ],
    ids=["another version", "no version record"],
)
def test_pickle_from_another_sklearn_tjepa_version_warns(make, X_small, version, saved_by, remedy):
    import sklearn_tjepa

    est = make(max_epochs=0).fit(X_small)
    state = est.__getstate__()
    if version is None:
        del state["_sklearn_tjepa_version"]  # pickles written before the record existed
    else:
        state["_sklearn_tjepa_version"] = version
    clone = TJEPATransformer.__new__(TJEPATransformer)
    current = re.escape(sklearn_tjepa.__version__)
    with pytest.warns(UserWarning) as record:
        clone.__setstate__(state)
    (message,) = [str(w.message) for w in record]
    # both versions, then what to do: refit with this version or load with the one that saved it
    assert re.search(f"saved by {saved_by} under sklearn_tjepa {current}:", message), message
    assert re.search(f"Refit it with sklearn_tjepa {current}, or load it with {remedy}$", message), message
    np.testing.assert_array_equal(clone.transform(X_small), est.transform(X_small))


@pytest.mark.reliability
def test_pickle_of_this_version_loads_silently(make, X_small):
    est = make(max_epochs=0).fit(X_small)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pickle.loads(pickle.dumps(est))


# ---------------------------------------------------------------- transform leaves the fitted encoder alone


@pytest.mark.reliability
def test_transform_never_moves_or_switches_the_fitted_encoder(make, X_small, monkeypatch):
    """``transform`` must not call ``to``/``train``/``eval`` on ``encoder_`` (moving it to the
    device and back in place is what broke concurrent transforms on a GPU)."""
    est = make().fit(X_small)
    touched = []
    original_to, original_train = torch.nn.Module.to, torch.nn.Module.train

    def to(self, *args, **kwargs):
        touched.append(("to", id(self)))
        return original_to(self, *args, **kwargs)

    def train(self, mode=True):
        touched.append(("train", id(self)))
        return original_train(self, mode)

    monkeypatch.setattr(torch.nn.Module, "to", to)
    monkeypatch.setattr(torch.nn.Module, "train", train)
    est.transform(X_small)
    fitted = {id(module) for module in est.encoder_.modules()}
    assert [call for call in touched if call[1] in fitted] == []


@pytest.mark.reliability
def test_transform_embeds_on_another_device_from_a_private_copy(make, X_small):
    """On a device other than the encoder's, the copy is made for the call and the fitted
    encoder stays where it is (the meta device stands in for a GPU)."""
    from sklearn_tjepa.estimator import _encoder_on

    est = make().fit(X_small)
    before = {name: tensor.clone() for name, tensor in est.encoder_.state_dict().items()}
    moved = _encoder_on(est.encoder_, torch.device("meta"))
    assert all(p.device.type == "meta" for p in moved.parameters()) and not moved.training
    assert all(p.device.type == "cpu" for p in est.encoder_.parameters())
    same = _encoder_on(est.encoder_, torch.device("cpu"))  # same device: shared weights, own modules
    assert same is not est.encoder_
    assert all(a.data_ptr() == b.data_ptr() for a, b in zip(same.parameters(), est.encoder_.parameters()))
    for name, tensor in est.encoder_.state_dict().items():
        assert torch.equal(tensor, before[name])


@pytest.mark.reliability
def test_concurrent_transforms_from_threads_equal_sequential_ones(make, X_small):
    est = make(output="flatten").fit(X_small)
    chunks = [np.random.default_rng(seed).normal(size=(40, 4)) for seed in range(8)]
    expected = [est.transform(chunk) for chunk in chunks]
    results = [None] * len(chunks)
    errors = []
    start = threading.Barrier(len(chunks))

    def work(i):
        try:
            start.wait()
            for _ in range(5):
                results[i] = est.transform(chunks[i])
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(chunks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for got, want in zip(results, expected):
        np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------- progress and logging


def test_verbose_shows_progress_bar(make, X_numeric, capfd):
    make(verbose=1).fit(X_numeric)
    err = capfd.readouterr().err
    assert "T-JEPA" in err and "2/2" in err


def test_silent_by_default(make, X_numeric, capfd):
    make().fit(X_numeric).transform(X_numeric)
    captured = capfd.readouterr()
    assert "T-JEPA" not in captured.err and captured.out == ""


# ---------------------------------------------------------------- errors before training


class _NoTraining(Callback):
    def on_train_begin(self, est):
        raise AssertionError("training started before the input was validated")


@pytest.fixture
def make_untrained(make):
    """Like ``make``, with a callback that fails loudly if training starts: every error below must
    come before it."""

    def factory(**overrides):
        return make(callbacks=[_NoTraining()], **overrides)

    return factory


@pytest.mark.parametrize(
    "overrides,error,match",
    [
        (dict(mask_min_context_share=0.5, mask_max_context_share=0.3), ValueError, "mask_min_context_share"),
        (dict(mask_min_target_share=0.7, mask_max_target_share=0.6), ValueError, "mask_min_target_share"),
        (dict(mask_min_context_share=0.7, mask_max_context_share=0.8, mask_min_target_share=0.5, mask_max_target_share=0.6), ValueError, "mask shares cannot fit 5 features"),
        (dict(n_context_sets=3, mask_min_context_share=0.3, mask_max_context_share=0.4, mask_min_target_share=0.2), ValueError, "n_context_sets"),
        (dict(mask_max_target_share=1.5), ValueError, "mask_max_target_share"),
        (dict(n_target_sets=0), ValueError, "n_target_sets"),
        (dict(ema_horizon_scale=0.5), ValueError, "ema_horizon_scale"),
        (dict(mask_min_context_share=1.5), ValueError, "mask_min_context_share"),
        (dict(n_heads=3), ValueError, "n_heads"),
        (dict(predictor_n_heads=3), ValueError, "predictor_n_heads"),
        (dict(batch_size=1), ValueError, "batch_size"),
        (dict(batch_size=2.5), TypeError, "batch_size"),
        (dict(d_model=0), ValueError, "d_model"),
        (dict(dropout=1.0), ValueError, "dropout"),
        (dict(lr=0.0), ValueError, "lr"),
        (dict(ema_start=0.999, ema_end=0.99), ValueError, "ema_start"),
        (dict(output="max"), ValueError, "output"),
        (dict(predictor="rnn"), ValueError, "predictor"),
        (dict(numerical_scaling="log"), ValueError, "numerical_scaling"),
        (dict(device="tpu"), ValueError, "device"),
        (dict(device="cuda:x"), ValueError, "device"),
        (dict(precision="16"), ValueError, "precision"),
        (dict(max_epochs=-1), ValueError, "max_epochs"),
        (dict(max_epochs=True), TypeError, "max_epochs"),
        (dict(validation_fraction=1.0), ValueError, "validation_fraction"),
        (dict(grad_clip=0.0), ValueError, "grad_clip"),
    ],
)
def test_bad_parameters_raise_before_training(make_untrained, X_numeric, overrides, error, match):
    with pytest.raises(error, match=match):
        make_untrained(**overrides).fit(X_numeric)


def test_shares_that_cannot_fit_this_table(make_untrained, X_numeric):
    """Shares that fit in general (0.5 + 0.5 <= 1) but not 3 features after rounding:
    round(3 * 0.5) = 2 context + 2 target > 3."""
    with pytest.raises(ValueError, match="mask shares cannot fit 3 features"):
        make_untrained(mask_min_context_share=0.5, mask_max_context_share=0.5, mask_min_target_share=0.5, mask_max_target_share=0.5).fit(
            X_numeric[:, :3]
        )


def test_cuda_requested_without_cuda(make_untrained, X_numeric):
    if torch.cuda.is_available():
        pytest.skip("CUDA is available")
    with pytest.raises(ValueError, match="device='cuda'"):
        make_untrained(device="cuda").fit(X_numeric)


def test_wrong_column_count_at_transform(make, X_numeric, mixed_frame):
    est = make().fit(X_numeric)
    with pytest.raises(ValueError, match="4 features.*expecting 5 features"):
        est.transform(X_numeric[:, :4])
    est = make().fit(mixed_frame)
    with pytest.raises(ValueError, match="flag"):
        est.transform(mixed_frame.drop(columns=["flag"]))


def test_string_in_numerical_column_numpy(make_untrained):
    X = np.array([[1.0, "a", 2.0], ["oops", "b", 3.0]] * 10, dtype=object)
    with pytest.raises(ValueError, match="Column 0 .*numerical.*'oops'"):
        make_untrained(categorical_features=[1]).fit(X)


def test_string_in_numerical_column_at_transform(make):
    X = np.array([[1.0, "a", 2.0], [1.5, "b", 3.0]] * 10, dtype=object)
    est = make(max_epochs=1, categorical_features=[1]).fit(X)
    with pytest.raises(ValueError, match="Column 2 .*numerical"):
        est.transform(np.array([[1.0, "a", "x"], [1.0, "b", 2.0]], dtype=object))
    with pytest.raises(ValueError, match="Column 2 .*numerical"):
        est.transform(np.array([[1.0, "a", "x"]], dtype=object))  # an all-string column


def test_string_column_with_categorical_features_none(make_untrained, mixed_frame):
    with pytest.raises(ValueError, match="'city'"):
        make_untrained(categorical_features=None).fit(mixed_frame[["age", "count", "city"]])
    with pytest.raises(ValueError, match="'colour'.*categorical_features"):
        make_untrained(categorical_features=None).fit(mixed_frame)


def test_empty_input(make_untrained):
    with pytest.raises(ValueError, match="0 sample"):
        make_untrained().fit(np.empty((0, 4)))
    with pytest.raises(ValueError, match="0 feature"):
        make_untrained().fit(np.empty((10, 0)))


def test_single_row_and_single_feature(make_untrained, X_numeric):
    with pytest.raises(ValueError, match="n_samples=1"):
        make_untrained().fit(X_numeric[:1])
    with pytest.raises(ValueError, match="n_features=1"):
        make_untrained().fit(X_numeric[:, :1])


def test_infinity(make_untrained, X_numeric, mixed_frame):
    X = X_numeric.copy()
    X[4, 3] = np.inf
    with pytest.raises(ValueError, match="infinity in column 3"):
        make_untrained().fit(X)
    frame = mixed_frame.copy()
    frame.loc[2, "age"] = -np.inf
    with pytest.raises(ValueError, match="infinity in column 'age'"):
        make_untrained().fit(frame)


def test_infinity_at_transform(make, X_numeric):
    est = make().fit(X_numeric)
    X = X_numeric.copy()
    X[0, 1] = np.inf
    with pytest.raises(ValueError, match="infinity in column 1"):
        est.transform(X)


@pytest.mark.parametrize(
    "categorical_features,match",
    [
        (["colour", "nope"], "categorical_features names columns.*'nope'"),
        ([1, 10], r"categorical_features holds column indices out of range.*\[10\]"),
        ([True, False], "categorical_features as a boolean mask"),
        ([[0, 1]], "categorical_features must be 1-D"),
    ],
)
def test_bad_categorical_features(make_untrained, mixed_frame, categorical_features, match):
    with pytest.raises(ValueError, match=match):
        make_untrained(categorical_features=categorical_features).fit(mixed_frame)


def test_categorical_features_by_name_index_and_mask(make, mixed_frame):
    numeric_frame = mixed_frame[["age", "count"]].assign(code=np.arange(120) % 3)
    expected = [False, False, True]
    for spec in (["code"], [2], [False, False, True]):
        est = make(max_epochs=1).fit(numeric_frame)
        est.set_params(categorical_features=spec).fit(numeric_frame)
        assert est.preprocessor_.is_categorical_.tolist() == expected
        assert est.model_spec_.cardinalities == (4,)


def test_sparse_and_1d_input(make_untrained, X_numeric):
    import scipy.sparse

    with pytest.raises(TypeError, match="Sparse"):
        make_untrained().fit(scipy.sparse.csr_matrix(X_numeric))
    with pytest.raises(ValueError, match="2-D"):
        make_untrained().fit(X_numeric[:, 0])


def test_transform_before_fit(make, X_numeric):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        make().transform(X_numeric)
