"""TJEPAClassifier and TJEPARegressor: T-JEPA pretraining on every row, then fine-tuning on labels.

The supervised loop is the baselines' skorch machinery
(:class:`~sklearn_tjepa.baselines.skorch_base._SkorchTabularBase`: validation split, early
stopping, learning-rate schedule, progress bar, seeding). What differs from a baseline is where
the network and the preprocessing come from: both are taken from a fitted
:class:`~sklearn_tjepa.TJEPATransformer`. With ``target_aware=True`` that transformer is
pretrained on the table plus a label column (:data:`TARGET_COLUMN`), which every row fine-tuned
on or predicted shows missing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from skorch.callbacks import Freezer, Unfreezer
from sklearn.base import clone, is_classifier
from sklearn.frozen import FrozenEstimator
from sklearn.utils.validation import validate_data

from sklearn_tjepa._checks import check_bool, check_int, check_option, check_rate, check_real
from sklearn_tjepa.baselines.skorch_base import _SkorchTabularBase
from sklearn_tjepa.estimator import TJEPATransformer
from sklearn_tjepa.finetune.module import READOUTS, build_finetune_network
from sklearn_tjepa.finetune.tasks import SemiSupervisedClassifierTask, SemiSupervisedRegressorTask
from sklearn_tjepa.preprocessing import EncodedTable, as_frame, check_not_empty

__all__ = ["TARGET_COLUMN", "TJEPAClassifier", "TJEPARegressor"]

# fnmatch pattern of the encoder's parameters in FineTuneNetwork (skorch param groups, freezing).
_ENCODER_PARAMETERS = "encoder.*"
#: Name of the label column of target-aware pretraining, for tables with string column names.
TARGET_COLUMN = "__tjepa_target__"


def _has_string_names(frame: pd.DataFrame) -> bool:
    """Whether every column name is a string (scikit-learn then records ``feature_names_in_``)."""
    return all(isinstance(name, str) for name in frame.columns)


def _label_categorical_features(spec, table: pd.DataFrame, categorical: bool):
    """``categorical_features`` of a transformer for ``table``, whose last column is the label.

    ``"auto"`` reads the label column's type from its dtype; a spec of positions, names or a mask
    over the other columns is extended with the label column, categorical or not as
    ``categorical`` says. A spec the preprocessing would reject is returned as it is, for the
    preprocessing to reject.
    """
    if isinstance(spec, str) and spec == "auto":
        return spec
    position, name = table.shape[1] - 1, str(table.columns[-1])
    if spec is None:
        return [position] if categorical else None
    values = np.asarray(spec)
    if values.ndim != 1:
        return spec
    if values.dtype == bool:
        return [*values.tolist(), categorical]
    if not categorical:
        return spec
    if values.size == 0 or values.dtype.kind in "iu":
        return [*values.tolist(), position]
    if values.dtype.kind in "OUS":
        return [*values.tolist(), name]
    return spec


class _TJEPAFineTuner(_SkorchTabularBase):
    """Pretrain (or take) a T-JEPA encoder, then fine-tune it with a head through skorch.

    The parameters are documented on the public estimators.
    """

    def __init__(
        self,
        *,
        tjepa=None,
        readout="flatten",
        head_n_blocks=1,
        head_d_block=256,
        head_dropout=0.0,
        max_epochs=100,
        batch_size=256,
        lr=1e-3,
        encoder_lr_ratio=0.3,
        freeze_epochs=0,
        weight_decay=1e-5,
        lr_scheduler="constant",
        validation_fraction=0.1,
        patience=8,
        target_aware=False,
        device="auto",
        random_state=None,
        verbose=0,
    ):
        # The base's constructor takes the preprocessing parameters, which belong to ``tjepa``.
        self.tjepa = tjepa
        self.readout = readout
        self.head_n_blocks = head_n_blocks
        self.head_d_block = head_d_block
        self.head_dropout = head_dropout
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.encoder_lr_ratio = encoder_lr_ratio
        self.freeze_epochs = freeze_epochs
        self.weight_decay = weight_decay
        self.lr_scheduler = lr_scheduler
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.target_aware = target_aware
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # The preprocessing and the input width belong to ``tjepa``; there is no token reduction.
    token_width = None

    def _check_input_params(self) -> None:
        tjepa = self.tjepa.estimator if isinstance(self.tjepa, FrozenEstimator) else self.tjepa
        if tjepa is not None and not isinstance(tjepa, TJEPATransformer):
            raise TypeError(
                "tjepa must be None, a TJEPATransformer or a FrozenEstimator around a fitted "
                f"TJEPATransformer, got tjepa={self.tjepa!r}"
            )
        check_bool("target_aware", self.target_aware)
        if self.target_aware and isinstance(self.tjepa, FrozenEstimator):
            raise ValueError(
                "target_aware=True pretrains the transformer on X plus the label column, but "
                "tjepa is a FrozenEstimator, whose transformer was pretrained without the label; "
                "pass the TJEPATransformer itself (or None) to pretrain it, or "
                "target_aware=False to fine-tune the frozen one."
            )

    def _check_model_params(self) -> None:
        check_option("readout", self.readout, READOUTS)
        check_int("head_n_blocks", self.head_n_blocks, min_value=0)
        check_int("head_d_block", self.head_d_block)
        check_rate("head_dropout", self.head_dropout)
        check_real("encoder_lr_ratio", self.encoder_lr_ratio, positive=True)
        check_int("freeze_epochs", self.freeze_epochs, min_value=0)

    def _make_module(self, *, d_out, **table_layout):
        """Fine-tuning network on ``tjepa_``'s encoder; the encoder's spec fixes the input layout."""
        return build_finetune_network(
            self.tjepa_.model_spec_,
            self.tjepa_.encoder_.state_dict(),
            readout=self.readout,
            d_out=d_out,
            head_n_blocks=self.head_n_blocks,
            head_d_block=self.head_d_block,
            head_dropout=self.head_dropout,
        )

    def _build_network(self, table: EncodedTable, d_out: int):
        """The encoder-and-head network; the encoder gets ``lr * encoder_lr_ratio``."""
        encoder_group = (_ENCODER_PARAMETERS, {"lr": self.lr * self.encoder_lr_ratio})
        return self._make_module(d_out=d_out), [encoder_group]

    def _validate_rows(self, X, *, reset: bool):
        """``X`` as a DataFrame; records (and, at fit, refuses an empty table) or checks
        ``n_features_in_`` and ``feature_names_in_``."""
        frame = as_frame(X)
        if reset:  # before a label column could make a table without columns look like one
            check_not_empty(frame)
        validate_data(self, X, reset=reset, skip_check_array=True)
        return frame

    def _with_label(self, frame: pd.DataFrame, rows=None, target=None) -> pd.DataFrame:
        """``frame`` with the label column appended when ``target_aware``, else ``frame`` itself.

        Parameters
        ----------
        frame : DataFrame of shape (n_samples, n_features)
            Validated rows.
        rows : ndarray of int of shape (n_shown,), default=None
            Positions of the rows that show their label; None (fine-tuning, validation and
            prediction) shows none.
        target : ndarray, default=None
            Their encoded target, as :meth:`_labelled_target` returns it.

        Returns
        -------
        table : DataFrame of shape (n_samples, n_features + 1) or (n_samples, n_features)
            The label column is :data:`TARGET_COLUMN` when every column name is a string;
            otherwise the columns are renamed to their positions and the label is the last.
        """
        if not self.target_aware:
            return frame
        label = self._label_column(frame.shape[0], rows, target)
        if _has_string_names(frame):
            if TARGET_COLUMN in frame.columns:
                raise ValueError(
                    f"X has a column named {TARGET_COLUMN!r}, the name target_aware=True gives "
                    "the label column of the pretraining; rename that column."
                )
            return frame.assign(**{TARGET_COLUMN: label})
        n_features = frame.shape[1]
        positions = frame.set_axis(range(n_features), axis=1)
        return pd.concat([positions, pd.DataFrame({n_features: label}, index=frame.index)], axis=1)

    def _encoded(self, frame: pd.DataFrame) -> EncodedTable:
        """Validated rows encoded by ``tjepa_``'s preprocessing, with the label column missing."""
        return self.tjepa_.preprocessor_.transform(self._with_label(frame))

    def _encode(self, X) -> EncodedTable:
        return self._encoded(self._validate_rows(X, reset=False))

    def _pretrain(self, X, seed: int):
        """Fit a clone of ``tjepa`` on all rows of ``X``, or take a frozen one as it is.

        ``X`` includes the label column when ``target_aware``. A clone whose ``random_state`` is
        None gets ``seed``, so that an int ``random_state`` of this estimator makes the
        pretraining reproducible too.
        """
        tjepa = clone(TJEPATransformer() if self.tjepa is None else self.tjepa)
        if "random_state" in tjepa.get_params(deep=False) and tjepa.random_state is None:
            tjepa.set_params(random_state=seed)
        if self.target_aware:
            tjepa.set_params(categorical_features=_label_categorical_features(
                tjepa.categorical_features, X, categorical=is_classifier(self)
            ))
        # FrozenEstimator.fit only checks that the transformer is fitted; TJEPATransformer ignores y.
        tjepa.fit(X, None)
        n_features = self.n_features_in_ + int(self.target_aware)
        if tjepa.n_features_in_ != n_features:
            raise ValueError(
                f"X has {self.n_features_in_} features, but tjepa was fitted on "
                f"{tjepa.n_features_in_} features."
            )
        names = getattr(tjepa, "feature_names_in_", None)
        own = getattr(self, "feature_names_in_", None)
        if own is not None and self.target_aware:
            own = np.append(own, TARGET_COLUMN).astype(object)
        if names is not None and own is not None and not np.array_equal(names, own):
            raise ValueError(
                f"X has columns {own.tolist()}, but tjepa was fitted on columns {names.tolist()}."
            )
        return tjepa

    def _callbacks(self, early_stopping: bool) -> list:
        callbacks = super()._callbacks(early_stopping)
        if self.freeze_epochs:
            callbacks.append(("freeze_encoder", Freezer(_ENCODER_PARAMETERS, at=1)))
            unfreeze = Unfreezer(_ENCODER_PARAMETERS, at=self.freeze_epochs + 1)
            callbacks.append(("unfreeze_encoder", unfreeze))
        return callbacks

    def fit(self, X, y, X_val=None, y_val=None):
        """Pretrain T-JEPA on all rows, then fine-tune its encoder and a head on the labelled rows.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training rows, labelled or not; numerical and categorical (category, object, string,
            bool) columns and NaN anywhere. Every row is used for pretraining.
        y : array-like of shape (n_samples,)
            Target; ``-1`` (classifier) or NaN (regressor) marks an unlabelled row, used for
            pretraining only. The pretraining sees the labels only with ``target_aware=True``.
        X_val : array-like or DataFrame of shape (n_valid, n_features), default=None
            Validation rows for early stopping, instead of holding out ``validation_fraction``
            of the labelled rows. Not used for pretraining. Route it with
            ``set_fit_request(X_val=True, y_val=True)`` under metadata routing.
        y_val : array-like of shape (n_valid,), default=None
            Their target; unlabelled validation rows are left out.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return super().fit(X, y, X_val=X_val, y_val=y_val)

    def _fit_data(self, X, y, X_val, y_val, seed: int) -> tuple:
        """Check the labels, pretrain on every row of ``X``, encode the labelled rows.

        See :meth:`_SkorchTabularBase._fit_data`; ``seed`` seeds the pretraining and, with
        ``target_aware``, the ``validation_fraction`` split, drawn here so that the pretraining
        does not see the held-out rows' labels (they are returned as the validation set).
        """
        frame = self._validate_rows(X, reset=True)
        labelled, y_fit, d_out = self._labelled_target(frame, y)
        if X_val is not None:
            frame_val = self._validate_rows(X_val, reset=False)
            labelled_val, y_val_fit = self._validation_target(frame_val, y_val)
        holdout = None  # (training, validation) positions among the labelled rows
        if self.target_aware and X_val is None and self.validation_fraction is not None:
            holdout = self._holdout(y_fit if y_fit.ndim == 1 else y_fit[:, 0], seed)
        if self.target_aware:
            shown = np.arange(y_fit.shape[0]) if holdout is None else holdout[0]
            rows = np.flatnonzero(labelled)[shown]
            self.tjepa_ = self._pretrain(self._with_label(frame, rows, y_fit[shown]), seed)
        else:
            self.tjepa_ = self._pretrain(X, seed)
        table = self._encoded(frame).take(labelled)
        valid = None
        if X_val is not None:
            valid = (self._encoded(frame_val).take(labelled_val), y_val_fit)
        elif holdout is not None:
            train, held_out = holdout
            valid = (table.take(held_out), y_fit[held_out])
            table, y_fit = table.take(train), y_fit[train]
        return table, y_fit, d_out, valid

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        return tags


_PARAMETERS = """\
    Parameters
    ----------
    tjepa : TJEPATransformer, FrozenEstimator or None, default=None
        The pretraining. A :class:`~sklearn_tjepa.TJEPATransformer` is cloned and fitted on all
        rows of ``X`` (its parameters are reachable as ``tjepa__<name>``, e.g. in
        ``GridSearchCV``); None means ``TJEPATransformer()``. A clone whose ``random_state`` is
        None gets one drawn from this estimator's ``random_state``. A
        :class:`sklearn.frozen.FrozenEstimator` around a fitted transformer is used as it is:
        its encoder's weights are copied and fine-tuned, without pretraining again and without
        changing the transformer. ``TJEPATransformer(max_epochs=0)`` fine-tunes the same
        architecture from its random initialisation (the from-scratch control). The
        transformer's preprocessing (column types, categories, scaling) is the one used here.
    readout : {"flatten", "cls", "mean"}, default="flatten"
        The head's input: all tokens of the encoder concatenated, the CLS token, or the mean of
        the feature tokens.
    head_n_blocks : int, default=1
        Hidden Linear-ReLU-Dropout blocks of the head (after a LayerNorm on the readout); 0
        gives a linear head.
    head_d_block : int, default=256
        Width of the head's hidden blocks.
    head_dropout : float, default=0.0
        Dropout in the head's hidden blocks (the encoder keeps the ``dropout`` of ``tjepa``).
    max_epochs : int, default=100
        Maximum number of fine-tuning epochs.
    batch_size : int, default=256
        Labelled rows per optimiser step.
    lr : float, default=1e-3
        AdamW learning rate of the head.
    encoder_lr_ratio : float, default=0.3
        The encoder's learning rate is ``lr * encoder_lr_ratio``.
    freeze_epochs : int, default=0
        Epochs at the start during which only the head trains. ``freeze_epochs >= max_epochs``
        never updates the encoder: a probe on the frozen tokens.
    weight_decay : float, default=1e-5
        AdamW weight decay, encoder and head.
    lr_scheduler : {"constant", "cosine"}, default="constant"
        Constant learning rates or cosine annealing over ``max_epochs``.
    validation_fraction : float in (0, 1) or None, default=0.1
        Share of the labelled rows held out (stratified for the classifier) for early stopping
        on the validation loss, unless ``X_val`` and ``y_val`` are passed to ``fit``. The best
        epoch's weights are restored. None trains for ``max_epochs``.
    patience : int, default=8
        Epochs without improvement of the validation loss before training stops.
    target_aware : bool, default=False
        Target-aware pretraining (Rubachev et al., 2022, see References): the label is one more
        column of the pretraining table, hence one more feature token, shown for the labelled
        rows and missing for the unlabelled ones. The classifier's label column is categorical
        (its categories are ``classes_``), the regressor's is the target, scaled like any
        numerical column. ``tjepa_`` is then fitted on the columns of ``X`` plus that column,
        named ``"__tjepa_target__"`` (when every column name of ``X`` is a string; otherwise
        the columns are taken by position and the label is the last one), so
        ``tjepa_.transform`` needs it; a ``categorical_features`` of ``tjepa`` other than
        ``"auto"`` is extended to it. Fine-tuning, validation and prediction show the label
        column missing in every row: a prediction never depends on a label. Without ``X_val``,
        the ``validation_fraction`` rows are drawn before the pretraining and their labels are
        hidden from it, so that early stopping is not judged on labels the encoder has seen;
        ``X_val`` is never pretrained on. Needs a transformer to pretrain: a
        :class:`~sklearn.frozen.FrozenEstimator` ``tjepa`` was pretrained without the label and
        is an error.
    device : {"auto", "cpu", "cuda", "cuda:<index>"}, default="auto"
        Torch device of the fine-tuning; ``"auto"`` takes CUDA when available. The pretraining
        runs on ``tjepa``'s own ``device``.
    random_state : int, RandomState instance or None, default=None
        Seeds the head, dropout, batch order, validation split and (see ``tjepa``) the
        pretraining. With an int, refitting on the same data and machine gives bit-identical
        CPU predictions. The caller's global torch random state is left untouched.
    verbose : int or bool, default=0
        Print skorch's epoch log and a progress bar (the pretraining follows ``tjepa``'s
        ``verbose``).
"""

_ATTRIBUTES = """\
    tjepa_ : TJEPATransformer or FrozenEstimator
        The pretrained transformer (the ``tjepa`` parameter itself when it is frozen).
    net_ : skorch.NeuralNet
        The fine-tuned skorch net; ``net_.module_`` is the encoder, readout and head.
    history_ : list of dict
        Per epoch: epoch, train_loss, valid_loss (with a validation set), dur (seconds) and
        skorch's other records.
    n_iter_ : int
        Fine-tuning epochs run.
    best_epoch_ : int or None
        Epoch whose weights were kept by early stopping; None without a validation set.
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit`` (DataFrame input with string column names only).
"""

_NOTES = """\
    Notes
    -----
    Fitted estimators pickle (``pickle``, ``joblib``); skorch maps the weights of one fitted on
    a GPU to the CPU when it is loaded on a machine without CUDA. Load pickles only from sources
    you trust.

    References
    ----------
    Rubachev, Alekberov, Gorishniy, Babenko. "Revisiting Pretraining Objectives for Tabular
    Deep Learning." arXiv:2207.03208, 2022 (target-aware pretraining: ``target_aware``).
"""


class TJEPAClassifier(SemiSupervisedClassifierTask, _TJEPAFineTuner):
    __doc__ = f"""T-JEPA pretraining on all rows, then fine-tuning on the labelled ones, for classification.

    ``fit`` pretrains a clone of ``tjepa`` on every row of ``X`` (its labels are not used, unless
    ``target_aware``), copies its target encoder, and trains the encoder and a head end to end on
    the labelled rows with cross-entropy (AdamW, a lower learning rate for the encoder, early
    stopping on a validation set). Rows labelled ``-1`` are unlabelled, as in
    :mod:`sklearn.semi_supervised`: they take part in the pretraining only.

{_PARAMETERS}
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Labels of the labelled rows (``-1`` excluded).
{_ATTRIBUTES}
    See Also
    --------
    TJEPARegressor : The same for regression.
    sklearn_tjepa.TJEPATransformer : The pretraining.

{_NOTES}
    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_tjepa import TJEPAClassifier, TJEPATransformer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> y[100:] = -1  # half of the rows are unlabelled
    >>> tjepa = TJEPATransformer(d_model=8, n_layers=1, n_heads=2, ffn_dim=16, max_epochs=1,
    ...                          device="cpu")
    >>> clf = TJEPAClassifier(tjepa=tjepa, max_epochs=3, device="cpu", random_state=0)
    >>> clf.fit(X, y).classes_
    array([0, 1])
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """


class TJEPARegressor(SemiSupervisedRegressorTask, _TJEPAFineTuner):
    __doc__ = f"""T-JEPA pretraining on all rows, then fine-tuning on the labelled ones, for regression.

    ``fit`` pretrains a clone of ``tjepa`` on every row of ``X`` (its target is not used, unless
    ``target_aware``), copies its target encoder, and trains the encoder and a head end to end on
    the labelled rows with the mean squared error of the standardized target (AdamW, a lower
    learning rate for the encoder, early stopping on a validation set). Rows whose target is NaN
    are unlabelled: they take part in the pretraining only.

{_PARAMETERS}
    Attributes
    ----------
    y_mean_ : float
        Mean of the labelled rows' target.
    y_scale_ : float
        Its standard deviation (the network predicts the standardized target).
{_ATTRIBUTES}
    See Also
    --------
    TJEPAClassifier : The same for classification.
    sklearn_tjepa.TJEPATransformer : The pretraining.

{_NOTES}
    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_tjepa import TJEPARegressor, TJEPATransformer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4))
    >>> y = X[:, 0] + 0.5 * X[:, 1]
    >>> y[100:] = np.nan  # half of the rows are unlabelled
    >>> tjepa = TJEPATransformer(d_model=8, n_layers=1, n_heads=2, ffn_dim=16, max_epochs=1,
    ...                          device="cpu")
    >>> reg = TJEPARegressor(tjepa=tjepa, max_epochs=3, device="cpu", random_state=0)
    >>> reg.fit(X, y).predict(X[:2]).shape
    (2,)
    """
