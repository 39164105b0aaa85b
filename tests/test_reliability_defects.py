"""One test per defect found by the reliability review of TJEPATransformer, each failing before
its fix: loading a CUDA-fitted model without CUDA, resuming with ``random_state=None``, resuming
an early-stopped run, shards too small for their rank, ``transform`` mutating the fitted encoder,
the version records of a pickle, a failed refit, callbacks with ``backend="torchrun"``, and
``LinearProbe``'s state (``y`` of the wrong length and ``predictor_n_layers=0`` are in the
bad-input battery, ``test_reliability_inputs.py``). Run with ``pytest -m reliability``."""

import pickle
import re
import threading
import warnings

import numpy as np
import pytest
import torch

from conftest import TINY_PARAMS
from sklearn_tjepa import TJEPATransformer
from sklearn_tjepa.callbacks import Callback, LinearProbe
from sklearn_tjepa.training.checkpoints import CHECKPOINT_NAME, load_checkpoint

pytestmark = pytest.mark.reliability

PARAMS = {**TINY_PARAMS, "batch_size": 16, "output": "cls", "random_state": 0}


def make(**overrides) -> TJEPATransformer:
    return TJEPATransformer(**{**PARAMS, **overrides})


@pytest.fixture
def X():
    return np.random.default_rng(0).normal(size=(64, 4))


@pytest.fixture
def backward_count(monkeypatch):
    """How many training steps ran (backward passes), as a one-element list."""
    count = [0]
    original = torch.Tensor.backward

    def counting(self, *args, **kwargs):
        count[0] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "backward", counting)
    return count


class _StopAt(Callback):
    """Ask training to stop at the end of epoch ``at`` (as early stopping would)."""

    def __init__(self, at):
        self.at = at

    def on_epoch_end(self, est, record):
        return record["epoch"] == self.at


class _Interrupt(Callback):
    """Raise at the end of epoch ``at``, like a crash in the middle of ``fit``."""

    def __init__(self, at):
        self.at = at

    def on_epoch_end(self, est, record):
        if record["epoch"] == self.at:
            raise KeyboardInterrupt(f"interrupted at epoch {self.at}")


# ---------------------------------------------------------------- 2. a CUDA-fitted model without CUDA


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_model_fitted_on_cuda_transforms_on_a_cpu_only_machine(X):
    """A fit with device="cuda" leaves device="cuda" in the estimator (and CPU weights in its
    pickle); loaded where CUDA is missing, transform falls back to the CPU with a warning."""
    est = make().fit(X)
    expected = est.transform(X)
    est.set_params(device="cuda")  # what a fit on a GPU machine leaves
    loaded = pickle.loads(pickle.dumps(est))
    with pytest.warns(UserWarning, match=r"device='cuda'.*CUDA is not available.*CPU"):
        Z = loaded.transform(X)
    np.testing.assert_array_equal(Z, expected)
    with pytest.raises(ValueError, match="CUDA is not available"):  # fitting there is still refused
        loaded.fit(X)


# ---------------------------------------------------------------- 4. resume with random_state=None


def test_resume_with_random_state_none_reuses_the_checkpoint_seed(X, tmp_path):
    params = dict(random_state=None, max_epochs=3, checkpoint_dir=tmp_path, dropout=0.1)
    with pytest.raises(KeyboardInterrupt):
        make(**params, callbacks=[_Interrupt(2)]).fit(X)
    saved = load_checkpoint(tmp_path)
    assert saved["epoch"] == 1
    resumed = make(**params, resume=True).fit(X)
    assert resumed.n_iter_ == 3 and resumed.history_[0] == saved["history"][0]
    # the same run: resuming the finished run gives the same encoder again
    again = make(**params, resume=True).fit(X)
    np.testing.assert_array_equal(again.transform(X), resumed.transform(X))


def test_resume_with_another_int_random_state_names_random_state(X, tmp_path):
    make(random_state=1, max_epochs=1, checkpoint_dir=tmp_path).fit(X)
    with pytest.raises(ValueError, match=r"tjepa-last\.pt.*seed \(the seed drawn from random_state"):
        make(random_state=2, max_epochs=2, checkpoint_dir=tmp_path, resume=True).fit(X)


def test_resume_without_checkpoint_dir_is_refused(X):
    with pytest.raises(ValueError, match="resume=True needs a checkpoint_dir"):
        make(resume=True).fit(X)


# ---------------------------------------------------------------- 5. an early-stopped run resumes as finished


def test_early_stopped_run_resumes_as_finished(X, tmp_path, backward_count):
    first = make(max_epochs=4, checkpoint_dir=tmp_path, callbacks=[_StopAt(2)]).fit(X)
    assert first.n_iter_ == 2
    steps = backward_count[0]
    resumed = make(max_epochs=4, checkpoint_dir=tmp_path, resume=True).fit(X)
    assert backward_count[0] == steps  # no training step after the resume
    assert resumed.n_iter_ == 2 and resumed.history_ == first.history_
    np.testing.assert_array_equal(resumed.transform(X), first.transform(X))


# ---------------------------------------------------------------- 6. a rank with fewer than 2 rows


def test_shards_of_fewer_than_two_rows_are_refused_before_launching(X, monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "SLURM_PROCID", "SLURM_NTASKS"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match=r"3 training rows.*2 ranks.*1 row.*at least 2"):
        make(backend="torchrun", n_procs=2).fit(X[:3])


# ---------------------------------------------------------------- 7. transform leaves the fitted encoder alone


def test_transform_never_moves_or_switches_the_fitted_encoder(X, monkeypatch):
    """``transform`` must not call ``to``/``train``/``eval`` on ``encoder_`` (moving it to the
    device and back in place is what broke concurrent transforms on a GPU)."""
    est = make().fit(X)
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
    est.transform(X)
    fitted = {id(module) for module in est.encoder_.modules()}
    assert [call for call in touched if call[1] in fitted] == []


def test_transform_embeds_on_another_device_from_a_private_copy(X):
    """On a device other than the encoder's, the copy is made for the call and the fitted
    encoder stays where it is (the meta device stands in for a GPU)."""
    from sklearn_tjepa.estimator import _encoder_on

    est = make().fit(X)
    before = {name: tensor.clone() for name, tensor in est.encoder_.state_dict().items()}
    moved = _encoder_on(est.encoder_, torch.device("meta"))
    assert all(p.device.type == "meta" for p in moved.parameters()) and not moved.training
    assert all(p.device.type == "cpu" for p in est.encoder_.parameters())
    same = _encoder_on(est.encoder_, torch.device("cpu"))  # same device: shared weights, own modules
    assert same is not est.encoder_
    assert all(a.data_ptr() == b.data_ptr() for a, b in zip(same.parameters(), est.encoder_.parameters()))
    for name, tensor in est.encoder_.state_dict().items():
        assert torch.equal(tensor, before[name])


def test_concurrent_transforms_from_threads_equal_sequential_ones(X):
    est = make(output="flatten").fit(X)
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


# ---------------------------------------------------------------- 8. pickles, parameters, refits, callbacks


def test_pickle_keeps_the_versions_that_wrote_it(X):
    import sklearn

    import sklearn_tjepa

    state = make(max_epochs=0).fit(X).__getstate__()
    assert state["_sklearn_version"] == sklearn.__version__
    assert state["_sklearn_tjepa_version"] == sklearn_tjepa.__version__


@pytest.mark.parametrize(
    ("version", "saved_by", "remedy"),
    [
        ("0.0.1", "sklearn_tjepa 0.0.1", r"the version that saved it \(pip install sklearn-tjepa==0.0.1\)\."),
        (None, "sklearn_tjepa a version that did not record itself", r"the version that saved it\."),
    ],
    ids=["another version", "no version record"],
)
def test_pickle_from_another_sklearn_tjepa_version_warns(X, version, saved_by, remedy):
    import sklearn_tjepa

    est = make(max_epochs=0).fit(X)
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
    np.testing.assert_array_equal(clone.transform(X), est.transform(X))


def test_pickle_of_this_version_loads_silently(X):
    est = make(max_epochs=0).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pickle.loads(pickle.dumps(est))


def _fitted_state(est) -> dict:
    return {k: v for k, v in vars(est).items() if k.endswith("_") and not k.startswith("_")}


@pytest.mark.parametrize(
    "failure",
    ["infinity in the new table", "a crash mid-training", "a refused checkpoint"],
)
def test_failed_refit_leaves_the_previous_fit_intact(X, tmp_path, failure):
    est = make(max_epochs=1).fit(X)
    state = _fitted_state(est)
    expected = est.transform(X)
    other = np.random.default_rng(1).normal(size=(32, 6))
    if failure == "infinity in the new table":
        other[3, 2] = np.inf
        error, call = ValueError, lambda: est.fit(other)
    elif failure == "a crash mid-training":
        error, call = KeyboardInterrupt, lambda: est.set_params(callbacks=[_Interrupt(1)]).fit(other)
    else:
        (tmp_path / CHECKPOINT_NAME).write_bytes(b"garbage")
        error, call = ValueError, lambda: est.set_params(checkpoint_dir=tmp_path, resume=True).fit(other)
    with pytest.raises(error):
        call()
    after = _fitted_state(est)
    assert after.keys() == state.keys() and all(after[k] is state[k] for k in state)
    est.set_params(callbacks=None, checkpoint_dir=None, resume=False)
    np.testing.assert_array_equal(est.transform(X), expected)


def test_failed_first_fit_leaves_no_fitted_state(X):
    est = make(callbacks=[_Interrupt(1)])
    with pytest.raises(KeyboardInterrupt):
        est.fit(X)
    assert _fitted_state(est) == {}


def test_callbacks_with_torchrun_are_refused_not_dropped(X):
    with pytest.raises(ValueError, match="callbacks.*backend='local'.*backend='torchrun'"):
        make(backend="torchrun", n_procs=2, callbacks=[_StopAt(1)]).fit(X)


def test_linear_probe_keeps_no_fitted_state_on_itself(X):
    y = (X[:, 0] > 0).astype(int)
    probe = LinearProbe(X[:32], y[:32], X[32:], y[32:])
    before = dict(vars(probe))
    est = make(callbacks=[probe]).fit(X)
    assert vars(probe).keys() == before.keys() and all(vars(probe)[k] is before[k] for k in before)
    assert "probe_score" in est.history_[0]
