"""Benchmark datasets of Gorishniy et al. (2021) as used by the T-JEPA paper.

:func:`load_benchmark` returns one dataset as a :class:`~sklearn.utils.Bunch` with its feature
table, target, task and train / validation / test row indices. A dataset is looked up, in order,

1. in a local directory (``data_dir``, or the ``SKLEARN_TJEPA_DATA`` environment variable),
   laid out like the project's offline copies (see ``docs/datasets.md``);
2. in the copy shipped inside this package (Adult and California Housing);
3. on OpenML (or, for California Housing, scikit-learn's own fetcher), cached in ``cache_dir``.

:func:`list_benchmarks` tells which datasets exist, their paper codes and where they can come from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import fetch_california_housing, fetch_openml
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch

__all__ = ["load_benchmark", "list_benchmarks", "DatasetUnavailableError", "DATA_DIR_ENV"]

#: Environment variable naming a default local data directory.
DATA_DIR_ENV = "SKLEARN_TJEPA_DATA"

_SPLITS = ("train", "val", "test")
_DROP_COLUMNS = ("target", "split", "orig_index")

_PARTIAL_NOTE = (
    "PARTIAL subset: only the validation and test rows of the benchmark's split are available "
    "offline ({n_rows} rows), re-split here into train/val/test with a seeded stratified split "
    "(test_size=0.2, then 0.25 of the rest, random_state=0). Scores on this subset are NOT "
    "comparable with published full-dataset figures."
)


class DatasetUnavailableError(OSError):
    """A benchmark dataset is neither available locally nor could it be downloaded."""


@dataclass(frozen=True)
class _Spec:
    name: str
    code: str
    task: str
    title: str
    openml_id: int | None
    full_file: str
    partial_file: str | None
    partial_split_file: str | None
    aliases: tuple[str, ...]
    licence: str


_SPECS = (
    _Spec(
        name="adult",
        code="adult_AD",
        task="binary",
        title="Adult (UCI census income)",
        openml_id=1590,
        full_file="adult.parquet",
        partial_file=None,
        partial_split_file=None,
        aliases=("ad",),
        licence="CC BY 4.0 (UCI Adult, Becker & Kohavi 1996, doi:10.24432/C5XW20)",
    ),
    _Spec(
        name="california",
        code="california_CA",
        task="regression",
        title="California Housing",
        openml_id=None,
        full_file="california_housing.parquet",
        partial_file=None,
        partial_split_file=None,
        aliases=("ca", "california_housing"),
        licence="none stated (StatLib, Pace & Barry 1997; redistributed by scikit-learn)",
    ),
    _Spec(
        name="higgs",
        code="higgs_HI",
        task="binary",
        title="Higgs small",
        openml_id=23512,
        full_file="higgs_small.parquet",
        partial_file="higgs_small_PARTIAL_val_test.parquet",
        partial_split_file="higgs_small_split_indices.npz",
        aliases=("hi", "higgs_small"),
        licence="CC BY 4.0 (derived from UCI HIGGS)",
    ),
    _Spec(
        name="jannis",
        code="jannis_JA",
        task="multiclass",
        title="Jannis",
        openml_id=41168,
        full_file="jannis.parquet",
        partial_file="jannis_PARTIAL_val_test.parquet",
        partial_split_file="jannis_split_indices.npz",
        aliases=("ja",),
        licence="none stated (OpenML / ChaLearn AutoML data)",
    ),
    _Spec(
        name="helena",
        code="helena_HE",
        task="multiclass",
        title="Helena",
        openml_id=41169,
        full_file="helena.parquet",
        partial_file=None,
        partial_split_file=None,
        aliases=("he",),
        licence="none stated (OpenML / ChaLearn AutoML data)",
    ),
    _Spec(
        name="aloi",
        code="aloi_AL",
        task="multiclass",
        title="ALOI (Amsterdam Library of Object Images)",
        openml_id=1592,
        full_file="aloi.parquet",
        partial_file=None,
        partial_split_file=None,
        aliases=("al",),
        licence="see the OpenML dataset page",
    ),
)

def _normalize(name: str) -> str:
    return name.strip().lower().replace("-", "_")


_ALIASES = {}
for _spec in _SPECS:
    for _alias in (_spec.name, _spec.code, *_spec.aliases):
        _ALIASES[_normalize(_alias)] = _spec


def _valid_names() -> str:
    return ", ".join(f"{s.name!r} ({s.code!r})" for s in _SPECS)


def _get_spec(name) -> _Spec:
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}: {name!r}")
    spec = _ALIASES.get(_normalize(name))
    if spec is None:
        raise ValueError(f"Unknown benchmark dataset {name!r}. Valid names: {_valid_names()}.")
    return spec


def list_benchmarks() -> pd.DataFrame:
    """List the benchmark datasets, their paper codes and where they can come from.

    Returns
    -------
    table : pandas.DataFrame
        One row per dataset, indexed by the short name accepted by :func:`load_benchmark`, with
        columns ``code`` (the paper's dataset code), ``title``, ``task``, ``openml_id`` (``<NA>``
        when the download goes through another fetcher), ``shipped`` (a copy is inside this
        package), ``local_files`` (file names looked for in a data directory, in order) and
        ``licence``.

    See Also
    --------
    load_benchmark : Load one of these datasets.

    Examples
    --------
    >>> from sklearn_tjepa.datasets import list_benchmarks
    >>> list_benchmarks()["code"].tolist()
    ['adult_AD', 'california_CA', 'higgs_HI', 'jannis_JA', 'helena_HE', 'aloi_AL']
    """
    rows = []
    for spec in _SPECS:
        local = [spec.full_file]
        if spec.partial_file is not None:
            local.append(f"{spec.partial_file} + {spec.partial_split_file}")
        rows.append(
            {
                "name": spec.name,
                "code": spec.code,
                "title": spec.title,
                "task": spec.task,
                "openml_id": spec.openml_id,
                "shipped": _packaged_file(spec) is not None,
                "local_files": local,
                "licence": spec.licence,
            }
        )
    table = pd.DataFrame(rows).set_index("name")
    table["openml_id"] = table["openml_id"].astype("Int64")
    return table


def load_benchmark(name, *, data_dir=None, cache_dir=None, download=True) -> Bunch:
    """Load a benchmark dataset with its train / validation / test split.

    The dataset is taken from the first of these places that has it:

    1. ``data_dir`` if given, otherwise the directory named by the ``SKLEARN_TJEPA_DATA``
       environment variable. The directory holds the files named in ``docs/datasets.md``
       (``adult.parquet``, ``california_housing.parquet``, ``higgs_small.parquet`` or
       ``higgs_small_PARTIAL_val_test.parquet`` with ``higgs_small_split_indices.npz``, ...).
       An explicit ``data_dir`` must hold the dataset; a directory from the environment
       variable that lacks it is skipped.
    2. The copy shipped inside this package (Adult and California Housing, with their
       published splits).
    3. OpenML (California Housing: :func:`sklearn.datasets.fetch_california_housing`), when
       ``download=True``; downloads are cached in ``cache_dir``.

    Parameters
    ----------
    name : str
        Dataset name, either short (``"adult"``, ``"california"``, ``"higgs"``, ``"jannis"``,
        ``"helena"``, ``"aloi"``) or the paper's code (``"adult_AD"``, ``"california_CA"``,
        ``"higgs_HI"``, ``"jannis_JA"``, ``"helena_HE"``, ``"aloi_AL"``); case-insensitive.
    data_dir : str or path-like, default=None
        Local directory to read the dataset from. ``None`` uses ``SKLEARN_TJEPA_DATA`` when set.
    cache_dir : str or path-like, default=None
        Download cache, passed as ``data_home`` to scikit-learn's fetchers. ``None`` uses
        scikit-learn's default (``~/scikit_learn_data`` or ``SCIKIT_LEARN_DATA``). A filled cache
        is read without network access.
    download : bool, default=True
        Whether the dataset may be fetched from the internet (or from ``cache_dir``) when it is
        not available locally. With ``False``, OpenML is never contacted (California Housing is
        still read from ``cache_dir`` when cached there).

    Returns
    -------
    data : sklearn.utils.Bunch
        Dictionary-like object with the attributes:

        frame : pandas.DataFrame of shape (n_samples, n_features)
            The features; categorical columns hold strings.
        target : pandas.Series of shape (n_samples,)
            ``int64`` class labels ``0..n_classes-1`` for classification (Adult: ``1`` is
            income ">50K"), ``float64`` for regression.
        task : {"binary", "multiclass", "regression"}
            The prediction task.
        name : str
            The short dataset name.
        code : str
            The paper's dataset code, for example ``"adult_AD"``.
        splits : dict of {"train", "val", "test"} -> ndarray of int64
            Sorted row positions into ``frame`` and ``target``.
        split_protocol : {"published", "seeded"}
            ``"published"``: the benchmark's fixed split. ``"seeded"``: a split made with
            :func:`~sklearn.model_selection.train_test_split` (test 20 %, then validation 25 % of
            the rest, ``random_state=0``, stratified for classification).
        categorical_features : list of str
            Names of the categorical (string) columns of ``frame``.
        source : str
            Where the data came from: ``"package"``, the directory path, ``"openml:<id>"`` or
            ``"sklearn:fetch_california_housing"``.
        partial : bool
            ``True`` when only a subset of the benchmark's rows is available (Higgs-small and
            Jannis offline copies): scores on it are not comparable with published figures.
        DESCR : str
            A description of the dataset, its source, split and licence.
        target_names : ndarray
            Classification only: the original label of each class code.

    Raises
    ------
    ValueError
        If ``name`` is not a known benchmark dataset.
    FileNotFoundError
        If ``data_dir`` (or ``SKLEARN_TJEPA_DATA``) does not exist, or an explicit ``data_dir``
        lacks the dataset's files.
    DatasetUnavailableError
        If the dataset is not available locally and cannot be downloaded (no network, or
        ``download=False``). It is a subclass of :class:`OSError`.

    See Also
    --------
    list_benchmarks : The datasets, their codes and sources.

    Notes
    -----
    The Higgs-small and Jannis offline copies hold only the benchmark's validation and test rows;
    for them ``partial`` is ``True``. OpenML copies of Higgs-small, Jannis, Helena and ALOI, and
    California Housing downloaded through scikit-learn, come without the benchmark's published
    split, so they get the seeded split (``split_protocol == "seeded"``).

    Examples
    --------
    >>> from sklearn_tjepa.datasets import load_benchmark
    >>> adult = load_benchmark("adult_AD")
    >>> adult.frame.shape, adult.task, adult.source
    ((48842, 14), 'binary', 'package')
    >>> {part: len(rows) for part, rows in adult.splits.items()}
    {'train': 26048, 'val': 6513, 'test': 16281}
    >>> X_train = adult.frame.iloc[adult.splits["train"]]
    >>> y_train = adult.target.iloc[adult.splits["train"]]
    >>> california = load_benchmark("california")  # regression, target in $100,000
    >>> california.frame.shape, california.task, california.source
    ((20640, 8), 'regression', 'package')
    """
    spec = _get_spec(name)
    if not isinstance(download, (bool, np.bool_)):
        raise TypeError(f"download must be a bool, got {download=}")

    if data_dir is not None:
        return _load_local(spec, _existing_dir(data_dir, "data_dir"), strict=True)
    env_dir = os.environ.get(DATA_DIR_ENV)
    if env_dir:
        bunch = _load_local(spec, _existing_dir(env_dir, DATA_DIR_ENV), strict=False)
        if bunch is not None:
            return bunch

    packaged = _packaged_file(spec)
    if packaged is not None:
        with resources.as_file(packaged) as path:
            table = pd.read_parquet(path)
        return _bunch_from_table(spec, table, source="package", partial=False)

    return _download(spec, cache_dir=cache_dir, download=bool(download))


# -- local files -----------------------------------------------------------------------------


def _existing_dir(path, what: str) -> Path:
    directory = Path(os.fspath(path)).expanduser()
    if not directory.is_dir():
        raise FileNotFoundError(f"{what} {str(directory)!r} is not an existing directory.")
    return directory.resolve()


def _packaged_file(spec: _Spec):
    ref = resources.files("sklearn_tjepa").joinpath("data", spec.full_file)
    return ref if ref.is_file() else None


def _load_local(spec: _Spec, directory: Path, *, strict: bool) -> Bunch | None:
    full = directory / spec.full_file
    if full.is_file():
        table = pd.read_parquet(full)
        return _bunch_from_table(spec, table, source=str(directory), partial=False)
    if spec.partial_file is not None and (directory / spec.partial_file).is_file():
        split_path = directory / spec.partial_split_file
        if not split_path.is_file():
            raise FileNotFoundError(
                f"{spec.partial_file} is in {str(directory)!r} but its split indices "
                f"{spec.partial_split_file} are missing (arrays 'train', 'val', 'test' of row "
                "positions in the Parquet file)."
            )
        table = pd.read_parquet(directory / spec.partial_file)
        with np.load(split_path) as npz:
            missing = [key for key in _SPLITS if key not in npz.files]
            if missing:
                raise ValueError(f"{split_path} lacks the arrays {missing}; it has {npz.files}.")
            splits = {key: npz[key] for key in _SPLITS}
        return _bunch_from_table(
            spec,
            table,
            source=str(directory),
            partial=True,
            splits=splits,
            split_from=split_path.name,
        )
    if not strict:
        return None
    expected = [spec.full_file]
    if spec.partial_file is not None:
        expected.append(f"{spec.partial_file} with {spec.partial_split_file}")
    raise FileNotFoundError(
        f"No file for {spec.name!r} ({spec.code}) in data_dir {str(directory)!r}: expected "
        f"{' or '.join(expected)}. Leave data_dir=None to use the shipped copy or a download."
    )


def _bunch_from_table(spec, table, *, source, partial, splits=None, split_from=None) -> Bunch:
    if "target" not in table.columns:
        raise ValueError(f"The {spec.name!r} table from {source} has no 'target' column.")
    target = table["target"]
    frame = table.drop(columns=[c for c in _DROP_COLUMNS if c in table.columns])
    if splits is not None:
        protocol = "seeded"
        split_text = f"seeded split stored in {split_from}"
    elif "split" in table.columns:
        labels = table["split"].astype(str).to_numpy()
        unknown = sorted(set(labels) - set(_SPLITS))
        if unknown:
            raise ValueError(f"The 'split' column of {spec.name!r} has unknown values {unknown}.")
        splits = {key: np.flatnonzero(labels == key) for key in _SPLITS}
        protocol = "published"
        split_text = "the benchmark's published split ('split' column)"
    else:
        splits = None
        protocol = "seeded"
        split_text = "seeded split (no 'split' column in the file)"
    return _finish(spec, frame, target, splits=splits, protocol=protocol, source=source,
                   partial=partial, split_text=split_text)


# -- downloads -------------------------------------------------------------------------------


def _unavailable(spec: _Spec, reason: str) -> DatasetUnavailableError:
    files = spec.full_file
    if spec.partial_file is not None:
        files += f" (or {spec.partial_file} with {spec.partial_split_file})"
    return DatasetUnavailableError(
        f"Benchmark dataset {spec.name!r} ({spec.code}) is not available offline and {reason}. "
        f"Pass data_dir=<directory> (or set the {DATA_DIR_ENV} environment variable) to a "
        f"directory holding {files}, or run once with network access and download=True to fill "
        "the cache_dir."
    )


def _download(spec: _Spec, *, cache_dir, download: bool) -> Bunch:
    data_home = None if cache_dir is None else os.fspath(Path(os.fspath(cache_dir)).expanduser())
    if spec.openml_id is None:  # California Housing through scikit-learn's fetcher
        try:
            raw = fetch_california_housing(
                data_home=data_home, download_if_missing=download, as_frame=True
            )
        except OSError as exc:
            reason = "download=False" if not download else f"the download failed ({exc})"
            raise _unavailable(spec, reason) from exc
        source = "sklearn:fetch_california_housing"
    else:
        if not download:
            raise _unavailable(spec, "download=False")
        try:
            raw = fetch_openml(data_id=spec.openml_id, data_home=data_home, as_frame="auto")
        except OSError as exc:  # URLError, HTTPError, timeouts and connection errors
            raise _unavailable(spec, f"the OpenML download failed ({exc})") from exc
        source = f"openml:{spec.openml_id}"

    frame, target = raw.data, raw.target
    if not isinstance(frame, pd.DataFrame):  # sparse ARFF (as_frame="auto" gives a matrix)
        names = getattr(raw, "feature_names", None)
        dense = frame.toarray() if hasattr(frame, "toarray") else np.asarray(frame)
        frame = pd.DataFrame(dense, columns=names)
    if target is None or getattr(target, "ndim", 1) != 1:
        raise ValueError(f"{source} does not have a single target column.")
    if not isinstance(target, pd.Series):
        target = pd.Series(np.asarray(target))
    target = target.set_axis(frame.index)
    keep = target.notna().to_numpy()
    frame = frame.loc[keep].reset_index(drop=True)
    target = target.loc[keep].reset_index(drop=True)

    frame = frame.copy()
    if spec.name == "adult":
        frame, target = _harmonize_openml_adult(frame, target)
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):  # category, object, string
            frame[column] = _as_strings(frame[column])
    return _finish(spec, frame, target, splits=None, protocol="seeded", source=source,
                   partial=False, split_text="seeded split (the download has no published split)")


def _harmonize_openml_adult(frame: pd.DataFrame, target: pd.Series):
    """Give OpenML's Adult the shipped copy's column names, integer columns and "?" category."""
    frame = frame.rename(columns=lambda c: str(c).replace("-", "_"))
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values):
            if values.notna().all() and np.all(np.mod(values.to_numpy(dtype=float), 1) == 0):
                frame[column] = values.astype("int64")
        else:
            frame[column] = _as_strings(values).fillna("?")
    labels = target.astype(str).str.strip().str.rstrip(".")
    return frame, (labels == ">50K").astype("int64")


def _as_strings(values: pd.Series) -> pd.Series:
    """Values as strings, missing values kept missing (pandas' ``str`` dtype on pandas >= 3)."""
    missing = values.isna().to_numpy()
    out = values.astype(object).copy()
    out[~missing] = [str(v) for v in out[~missing]]
    out[missing] = np.nan
    if int(pd.__version__.split(".")[0]) >= 3:
        out = out.astype("str")
    return out


# -- common ----------------------------------------------------------------------------------


def _seeded_split(y: np.ndarray, task: str) -> dict:
    """The project's protocol: 20 % test, then 25 % of the rest as validation, seed 0."""
    rows = np.arange(len(y))
    stratify = y if task != "regression" else None
    trval, test = train_test_split(rows, test_size=0.2, stratify=stratify, random_state=0)
    stratify = y[trval] if task != "regression" else None
    train, val = train_test_split(trval, test_size=0.25, stratify=stratify, random_state=0)
    return {"train": np.sort(train), "val": np.sort(val), "test": np.sort(test)}


def _encode_target(target: pd.Series, task: str):
    """Regression -> float64; classification -> int64 codes 0..K-1 in sorted label order."""
    if task == "regression":
        return target.astype("float64").rename("target"), None
    values = target.to_numpy()
    numeric = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
    if numeric.notna().all():
        values = numeric.to_numpy(dtype=float)
        if np.all(np.mod(values, 1) == 0):
            values = values.astype(np.int64)
    else:
        values = np.asarray([str(v) for v in values])
    classes, codes = np.unique(values, return_inverse=True)
    return pd.Series(codes.astype(np.int64), index=target.index, name="target"), classes


def _check_splits(splits: dict, n_rows: int, name: str) -> dict:
    out = {}
    for key in _SPLITS:
        rows = np.asarray(splits[key])
        if rows.ndim != 1 or not np.issubdtype(rows.dtype, np.integer):
            raise ValueError(f"Split {key!r} of {name!r} must be a 1-d integer array.")
        if rows.size and (rows.min() < 0 or rows.max() >= n_rows):
            raise ValueError(
                f"Split {key!r} of {name!r} has row positions outside 0..{n_rows - 1}: the split "
                "file does not belong to this table."
            )
        out[key] = rows.astype(np.int64)
    together = np.concatenate(list(out.values()))
    if np.unique(together).size != together.size:
        raise ValueError(f"The train/val/test splits of {name!r} overlap.")
    return out


def _finish(spec, frame, target, *, splits, protocol, source, partial, split_text) -> Bunch:
    frame = frame.reset_index(drop=True)
    target, classes = _encode_target(target.reset_index(drop=True), spec.task)
    if splits is None:
        splits = _seeded_split(target.to_numpy(), spec.task)
    splits = _check_splits(splits, len(frame), spec.name)
    categorical = [str(c) for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    sizes = "/".join(str(len(splits[k])) for k in _SPLITS)
    lines = [
        f"{spec.title} ({spec.code}): {len(frame)} rows, {frame.shape[1]} features "
        f"({len(categorical)} categorical), task {spec.task}.",
        f"Source: {source}. Split train/val/test {sizes}: {split_text}.",
        f"Licence: {spec.licence}.",
    ]
    if partial:
        lines.append(_PARTIAL_NOTE.format(n_rows=len(frame)))
    bunch = Bunch(
        frame=frame,
        target=target,
        task=spec.task,
        name=spec.name,
        code=spec.code,
        splits=splits,
        split_protocol=protocol,
        categorical_features=categorical,
        source=source,
        partial=bool(partial),
        DESCR="\n".join(lines),
    )
    if classes is not None:
        bunch["target_names"] = classes
    return bunch
