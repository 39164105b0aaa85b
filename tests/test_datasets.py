"""Tests for sklearn_tjepa.datasets (no network: the fetchers are monkeypatched)."""

import hashlib
from importlib import resources
from urllib.error import URLError

import numpy as np
import pandas as pd
import pytest
from sklearn.utils import Bunch

from sklearn_tjepa import datasets
from sklearn_tjepa.datasets import DatasetUnavailableError, list_benchmarks, load_benchmark

ADULT_SHA256 = "8c91455a59a742c71ddbc4ee9bf737ce3a49130e5fa408f185cffee7f2611305"
CALIFORNIA_SHA256 = "d516d3fd678a8bf9431c14cade794b1a081ed9552cb1d0fbcb8f3f9cc6855339"
CALIFORNIA_FEATURES = [
    "MedInc", "HouseAge", "AveRooms", "AveBedrms", "Population", "AveOccup", "Latitude", "Longitude"
]


@pytest.fixture(autouse=True)
def _no_env_data_dir(monkeypatch):
    monkeypatch.delenv(datasets.DATA_DIR_ENV, raising=False)


def _check_splits(bunch, sizes):
    expected = dict(zip(("train", "val", "test"), sizes))
    assert {k: len(v) for k, v in bunch.splits.items()} == expected
    together = np.concatenate(list(bunch.splits.values()))
    assert all(v.dtype == np.int64 for v in bunch.splits.values())
    assert np.unique(together).size == together.size
    assert together.max() < len(bunch.frame) == len(bunch.target)


def test_shipped_adult():
    ref = resources.files("sklearn_tjepa").joinpath("data", "adult.parquet")
    assert hashlib.sha256(ref.read_bytes()).hexdigest() == ADULT_SHA256
    assert resources.files("sklearn_tjepa").joinpath("data", "README.md").is_file()

    adult = load_benchmark("adult")
    assert isinstance(adult, Bunch)
    assert adult.frame.shape == (48842, 14)
    assert adult.source == "package" and adult.code == "adult_AD" and adult.task == "binary"
    assert not adult.partial and adult.split_protocol == "published"
    assert "split" not in adult.frame and "target" not in adult.frame
    _check_splits(adult, (26048, 6513, 16281))
    assert len(adult.categorical_features) == 8
    assert "workclass" in adult.categorical_features and "age" not in adult.categorical_features
    assert all(pd.api.types.is_string_dtype(adult.frame[c]) for c in adult.categorical_features)
    assert adult.target.dtype == np.int64 and set(adult.target.unique()) == {0, 1}
    assert round(adult.target.mean(), 4) == 0.2393  # 1 = ">50K"
    # the code and case-insensitive aliases give the same data
    assert load_benchmark("ADULT_AD").frame.equals(adult.frame)


def _refuse_downloads(monkeypatch):
    """Make every fetcher fail as without a network, so that only offline sources can answer."""

    def offline(**kwargs):
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(datasets, "fetch_openml", offline)
    monkeypatch.setattr(datasets, "fetch_california_housing", offline)


def test_shipped_california_loads_offline_with_the_published_split(monkeypatch):
    _refuse_downloads(monkeypatch)
    ref = resources.files("sklearn_tjepa").joinpath("data", "california_housing.parquet")
    data = ref.read_bytes()
    assert len(data) == 655778 and hashlib.sha256(data).hexdigest() == CALIFORNIA_SHA256

    california = load_benchmark("california", download=False)
    assert california.source == "package" and california.code == "california_CA"
    assert california.task == "regression" and california.split_protocol == "published"
    assert not california.partial and california.categorical_features == []
    assert california.frame.columns.tolist() == CALIFORNIA_FEATURES
    assert (california.frame.dtypes == np.float64).all()
    _check_splits(california, (13209, 3303, 4128))
    assert california.target.dtype == np.float64
    assert (california.target.min(), california.target.max()) == (0.14999, 5.00001)
    assert "13209/3303/4128" in california.DESCR
    assert load_benchmark("CA").frame.equals(california.frame)


@pytest.mark.parametrize(
    "name, code, shape, task, sizes, partial",
    [
        ("adult_AD", "adult_AD", (48842, 14), "binary", (26048, 6513, 16281), False),
        ("california", "california_CA", (20640, 8), "regression", (13209, 3303, 4128), False),
        ("higgs", "higgs_HI", (35298, 28), "binary", (21178, 7060, 7060), True),
        ("jannis_JA", "jannis_JA", (30145, 54), "multiclass", (18087, 6029, 6029), True),
    ],
)
def test_local_directory(benchmark_data, name, code, shape, task, sizes, partial):
    bunch = load_benchmark(name, data_dir=benchmark_data)
    assert bunch.code == code and bunch.task == task and bunch.partial is partial
    assert bunch.frame.shape == shape
    assert bunch.source == str(benchmark_data.resolve())
    assert not {"split", "orig_index", "target"} & set(bunch.frame.columns)
    _check_splits(bunch, sizes)
    if partial:
        assert "NOT comparable" in bunch.DESCR
        # the stored subset splits are exactly the project's seeded protocol
        seeded = datasets._seeded_split(bunch.target.to_numpy(), task)
        for key in ("train", "val", "test"):
            np.testing.assert_array_equal(seeded[key], bunch.splits[key])
    if task == "regression":
        assert bunch.target.dtype == np.float64
    else:
        assert bunch.target.dtype == np.int64
        n_classes = 4 if code == "jannis_JA" else 2
        assert sorted(bunch.target.unique()) == list(range(n_classes))


def test_environment_variable(monkeypatch, tmp_path, benchmark_data):
    monkeypatch.setenv(datasets.DATA_DIR_ENV, str(benchmark_data))
    assert load_benchmark("california").source == str(benchmark_data.resolve())
    # a directory from the environment that lacks the dataset is skipped ...
    monkeypatch.setenv(datasets.DATA_DIR_ENV, str(tmp_path))
    assert load_benchmark("adult").source == "package"
    # ... but one that does not exist is an error
    monkeypatch.setenv(datasets.DATA_DIR_ENV, str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match=datasets.DATA_DIR_ENV):
        load_benchmark("adult")


def test_unknown_name():
    with pytest.raises(ValueError, match="Unknown benchmark dataset 'mnist'") as info:
        load_benchmark("mnist")
    for code in list_benchmarks()["code"]:
        assert code in str(info.value)


def test_list_benchmarks():
    table = list_benchmarks()
    assert table.index.tolist() == ["adult", "california", "higgs", "jannis", "helena", "aloi"]
    assert table.loc[["adult", "california"], "shipped"].all()
    assert not table.loc[["higgs", "jannis", "helena", "aloi"], "shipped"].any()
    assert table.loc["jannis", "openml_id"] == 41168


def test_missing_local_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="california_housing.parquet"):
        load_benchmark("california", data_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="not an existing directory"):
        load_benchmark("adult", data_dir=tmp_path / "nope")
    # a partial subset without its split file
    pd.DataFrame({"f0": [0.5, 1.5], "target": [0, 1]}).to_parquet(
        tmp_path / "jannis_PARTIAL_val_test.parquet"
    )
    with pytest.raises(FileNotFoundError, match="jannis_split_indices.npz"):
        load_benchmark("jannis", data_dir=tmp_path)


def _fake_openml(calls, n=60):
    def fetch_openml(*, data_id, data_home, as_frame, **kwargs):
        calls.append({"data_id": data_id, "data_home": data_home})
        rng = np.random.default_rng(data_id)
        data = pd.DataFrame(
            {
                "V1": rng.normal(size=n),
                "V2": pd.Categorical(rng.choice(["a", "b", None], size=n)),
            }
        )
        target = pd.Series(pd.Categorical(np.tile(["7", "9", "8"], n // 3)), name="class")
        return Bunch(data=data, target=target, frame=None, feature_names=["V1", "V2"])

    return fetch_openml


def test_openml_download_is_cached_and_split_reproducible(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(datasets, "fetch_openml", _fake_openml(calls))
    first = load_benchmark("helena_HE", cache_dir=tmp_path)
    second = load_benchmark("helena", cache_dir=tmp_path)
    assert calls == [{"data_id": 41169, "data_home": str(tmp_path)}] * 2
    assert first.source == "openml:41169" and first.split_protocol == "seeded"
    assert first.task == "multiclass" and not first.partial
    _check_splits(first, (36, 12, 12))
    for key in ("train", "val", "test"):
        np.testing.assert_array_equal(first.splits[key], second.splits[key])
        # stratified: every class equally represented in each part
        assert np.bincount(first.target.to_numpy()[first.splits[key]]).std() == 0
    assert first.target.tolist()[:3] == [0, 2, 1] and list(first.target_names) == [7, 8, 9]
    assert first.categorical_features == ["V2"]
    assert first.frame["V2"].isna().any() and pd.api.types.is_string_dtype(first.frame["V2"])


def test_download_false_never_fetches(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(datasets, "fetch_openml", _fake_openml(calls))
    with pytest.raises(DatasetUnavailableError, match="download=False"):
        load_benchmark("aloi", cache_dir=tmp_path, download=False)
    assert calls == []


def test_network_failure(monkeypatch, tmp_path):
    _refuse_downloads(monkeypatch)
    monkeypatch.setattr(datasets, "_packaged_file", lambda spec: None)
    for name in ("jannis", "california"):
        with pytest.raises(DatasetUnavailableError, match="not available offline") as info:
            load_benchmark(name, cache_dir=tmp_path)
        assert "data_dir" in str(info.value) and isinstance(info.value, OSError)


def test_california_download(monkeypatch, tmp_path):
    seen = {}

    def fetch_california_housing(*, data_home, download_if_missing, as_frame):
        seen.update(data_home=data_home, download_if_missing=download_if_missing)
        data = pd.DataFrame({"MedInc": np.linspace(0, 1, 50)})
        return Bunch(data=data, target=pd.Series(np.linspace(1, 2, 50), name="MedHouseVal"))

    monkeypatch.setattr(datasets, "fetch_california_housing", fetch_california_housing)
    monkeypatch.setattr(datasets, "_packaged_file", lambda spec: None)
    bunch = load_benchmark("california_CA", cache_dir=tmp_path)
    assert seen == {"data_home": str(tmp_path), "download_if_missing": True}
    assert bunch.source == "sklearn:fetch_california_housing" and bunch.task == "regression"
    _check_splits(bunch, (30, 10, 10))


def test_openml_adult_and_sparse_aloi(monkeypatch, tmp_path):
    """OpenML's Adult gets the shipped copy's conventions; sparse ARFF (ALOI) is densified."""
    import scipy.sparse

    def fetch_openml(*, data_id, data_home, as_frame, **kwargs):
        if data_id == 1590:
            data = pd.DataFrame(
                {
                    "age": [25.0, 38.0, 28.0, 44.0, 18.0] * 4,
                    "native-country": pd.Categorical(["US", None, "US", "Peru", "US"] * 4),
                }
            )
            target = pd.Series(pd.Categorical(["<=50K", ">50K", "<=50K", ">50K", "<=50K"] * 4))
            return Bunch(data=data, target=target)
        data = scipy.sparse.csr_matrix(np.eye(20)[:, :3])
        return Bunch(data=data, target=np.array(["1", "2"] * 10, dtype=object),
                     feature_names=["a", "b", "c"])

    monkeypatch.setattr(datasets, "fetch_openml", fetch_openml)
    monkeypatch.setattr(datasets, "_packaged_file", lambda spec: None)
    adult = load_benchmark("adult", cache_dir=tmp_path)
    assert adult.source == "openml:1590"
    assert adult.frame.columns.tolist() == ["age", "native_country"]
    assert adult.frame["age"].dtype == np.int64 and adult.categorical_features == ["native_country"]
    assert (adult.frame["native_country"] == "?").sum() == 4
    assert adult.target.tolist()[:2] == [0, 1]

    aloi = load_benchmark("aloi_AL", cache_dir=tmp_path)
    assert aloi.frame.shape == (20, 3) and aloi.frame.columns.tolist() == ["a", "b", "c"]
    assert sorted(aloi.target.unique()) == [0, 1]


def test_local_full_file_without_split_gets_seeded_split(tmp_path):
    table = pd.DataFrame({"f": np.arange(40.0), "c": ["x", "y"] * 20, "target": [3, 5] * 20})
    table.to_parquet(tmp_path / "helena.parquet")
    bunch = load_benchmark("HE", data_dir=tmp_path)
    assert bunch.split_protocol == "seeded" and bunch.categorical_features == ["c"]
    assert sorted(bunch.target.unique()) == [0, 1]
    _check_splits(bunch, (24, 8, 8))
