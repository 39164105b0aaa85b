"""The deep baselines of Gorishniy et al. (2021) as scikit-learn estimators trained by skorch.

MLP, ResNet and FT-Transformer use the networks of ``rtdl_revisiting_models``; DCNv2 and AutoInt
use :mod:`sklearn_tjepa.baselines.dcnv2` and :mod:`sklearn_tjepa.baselines.autoint`. Each
architecture is one small class that stores, checks and builds its model; the classifier and the
regressor add the task (:class:`~sklearn_tjepa.baselines.skorch_base._ClassifierTask`,
:class:`~sklearn_tjepa.baselines.skorch_base._RegressorTask`).
"""

from __future__ import annotations

from rtdl_revisiting_models import MLP, FTTransformerBackbone, ResNet

from sklearn_tjepa._checks import check_int, check_multiplier, check_rate
from sklearn_tjepa.baselines.autoint import AutoInt
from sklearn_tjepa.baselines.dcnv2 import DCNv2
from sklearn_tjepa.baselines.features import FlatFeatures, TabularNet, feature_tokens
from sklearn_tjepa.baselines.skorch_base import _ClassifierTask, _RegressorTask, _SkorchTabularBase

__all__ = [
    "MLPClassifier",
    "MLPRegressor",
    "ResNetClassifier",
    "ResNetRegressor",
    "FTTransformerClassifier",
    "FTTransformerRegressor",
    "DCNv2Classifier",
    "DCNv2Regressor",
    "AutoIntClassifier",
    "AutoIntRegressor",
]

# Parameters of the token-based models that Gorishniy et al. train without weight decay.
_TOKEN_MODEL_NO_WEIGHT_DECAY = ("features.*", "*normalization*", "*.bias")

_COMMON_PARAMETERS = """\
    categorical_features : "auto", None, array-like of int, str or bool, default="auto"
        Categorical columns, as in :class:`~sklearn_tjepa.preprocessing.TablePreprocessor`:
        ``"auto"`` takes the category, string, object and bool columns of a DataFrame.
    numerical_scaling : {"quantile", "standard", "minmax", "none"}, default="quantile"
        Scaling of numerical columns; the paper uses the quantile transform to a normal
        distribution.
    max_epochs : int, default=100
        Maximum number of epochs.
    batch_size : int, default=256
        Training batch size.
    lr : float
        AdamW learning rate.
    weight_decay : float
        AdamW weight decay.
    lr_scheduler : {"constant", "cosine"}, default="constant"
        Constant learning rate (the paper's choice) or cosine annealing over ``max_epochs``
        (skorch ``LRScheduler``).
    validation_fraction : float in (0, 1) or None, default=0.1
        Share of the training rows held out (stratified for classifiers) for early stopping on
        the validation loss; the best epoch's weights are restored. ``None`` trains for
        ``max_epochs`` without early stopping. Ignored when ``fit`` gets ``X_val`` and ``y_val``.
    patience : int, default=16
        Epochs without improvement of the validation loss before training stops.
    token_width : int or None, default=None
        Read the numerical columns as consecutive tokens of ``token_width`` columns (for example
        frozen T-JEPA embeddings, ``output="flatten"``) and reduce each token to one number with
        its own learned ``Linear(token_width, 1)`` before the network: the T-JEPA paper's reading
        of frozen tokens. ``None`` feeds the columns as they are (plain flattening). Needs a table
        of numerical columns only.
    device : {"auto", "cpu", "cuda", "cuda:<index>"}, default="auto"
        Torch device; ``"auto"`` takes CUDA when available.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, dropout, batch order, validation split and quantile subsampling;
        the caller's global torch random state is left untouched.
    verbose : int or bool, default=0
        Print skorch's epoch log and a progress bar.
"""

_ATTRIBUTES = """\
    preprocessor_ : TablePreprocessor
        Encoding of the table fitted on the training rows.
    net_ : skorch.NeuralNet
        The trained skorch net.
    history_ : list of dict
        Per epoch: epoch, train_loss, valid_loss (with a validation set), dur (seconds) and
        skorch's other records (``net_.history`` without the per-batch records).
    n_iter_ : int
        Epochs run.
    best_epoch_ : int or None
        Epoch whose weights were kept by early stopping; None without a validation set.
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit`` (DataFrame input only).
"""

_TASK_ATTRIBUTES = {
    "classifier": """\
    classes_ : ndarray of shape (n_classes,)
        Class labels.
""",
    "regressor": """\
    y_mean_ : float
        Mean of the training target.
    y_scale_ : float
        Standard deviation of the training target (the network predicts the standardized one).
""",
}


def _docstring(cls_name: str, title: str, model_parameters: str, see_also: str = "") -> str:
    task = "classifier" if cls_name.endswith("Classifier") else "regressor"
    loader = "load_iris" if task == "classifier" else "load_diabetes"
    purpose = "classification" if task == "classifier" else "regression"
    return f"""{title} for {purpose}.

    Trained by skorch (AdamW, mini-batches, early stopping) on the table encoded by
    :class:`~sklearn_tjepa.preprocessing.TablePreprocessor`: numerical columns scaled with NaN for
    missing values, categorical columns as codes with their own code for missing or unseen values.
    Accepts DataFrames with categorical columns and NaN, and numpy arrays.

    Parameters
    ----------
{model_parameters}{_COMMON_PARAMETERS}
    Attributes
    ----------
{_TASK_ATTRIBUTES[task]}{_ATTRIBUTES}{see_also}
    References
    ----------
    Gorishniy, Rubachev, Khrulkov, Babenko. "Revisiting Deep Learning Models for Tabular Data."
    NeurIPS 2021.

    Examples
    --------
    >>> from sklearn.datasets import {loader}
    >>> from sklearn_tjepa.baselines import {cls_name}
    >>> X, y = {loader}(return_X_y=True)
    >>> model = {cls_name}(max_epochs=2, device="cpu", random_state=0).fit(X, y)
    >>> model.predict(X[:3]).shape
    (3,)
    """


_MLP_TITLE = "MLP (Gorishniy et al., 2021, Section 3.1)"
_MLP_PARAMETERS = """\
    n_blocks : int, default=3
        Number of Linear-ReLU-Dropout blocks.
    d_block : int, default=256
        Width of every block.
    dropout : float, default=0.1
        Dropout rate.
    d_embedding : int, default=8
        Size of the embedding of each categorical column.
"""


class _MLP(_SkorchTabularBase):
    def __init__(
        self,
        *,
        n_blocks=3,
        d_block=256,
        dropout=0.1,
        d_embedding=8,
        categorical_features="auto",
        numerical_scaling="quantile",
        max_epochs=100,
        batch_size=256,
        lr=1e-3,
        weight_decay=0.0,
        lr_scheduler="constant",
        validation_fraction=0.1,
        patience=16,
        token_width=None,
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.n_blocks = n_blocks
        self.d_block = d_block
        self.dropout = dropout
        self.d_embedding = d_embedding
        super().__init__(
            categorical_features=categorical_features,
            numerical_scaling=numerical_scaling,
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            lr_scheduler=lr_scheduler,
            validation_fraction=validation_fraction,
            patience=patience,
            token_width=token_width,
            device=device,
            random_state=random_state,
            verbose=verbose,
        )

    def _check_model_params(self):
        check_int("n_blocks", self.n_blocks)
        check_int("d_block", self.d_block)
        check_rate("dropout", self.dropout)
        check_int("d_embedding", self.d_embedding)

    def _make_module(self, *, n_num, missing_columns, cat_cardinalities, d_out):
        features = FlatFeatures(
            n_num=n_num,
            missing_columns=missing_columns,
            cat_cardinalities=cat_cardinalities,
            d_embedding=self.d_embedding,
        )
        backbone = MLP(
            d_in=features.d_out,
            d_out=d_out,
            n_blocks=self.n_blocks,
            d_block=self.d_block,
            dropout=self.dropout,
        )
        return TabularNet(features, backbone)


def _not_sklearn_mlp(cls_name: str) -> str:
    return f"""
    See Also
    --------
    sklearn.neural_network.{cls_name} : scikit-learn's class of the same name, a different model
        (no categorical embeddings, no missing values, its own solvers). This one is the tabular
        MLP baseline of the T-JEPA benchmark: import it from ``sklearn_tjepa.baselines``.
"""


class MLPClassifier(_ClassifierTask, _MLP):
    __doc__ = _docstring("MLPClassifier", _MLP_TITLE, _MLP_PARAMETERS, _not_sklearn_mlp("MLPClassifier"))


class MLPRegressor(_RegressorTask, _MLP):
    __doc__ = _docstring("MLPRegressor", _MLP_TITLE, _MLP_PARAMETERS, _not_sklearn_mlp("MLPRegressor"))


_RESNET_TITLE = "ResNet (Gorishniy et al., 2021, Section 3.2)"
_RESNET_PARAMETERS = """\
    n_blocks : int, default=2
        Number of residual blocks (BatchNorm-Linear-ReLU-Dropout-Linear-Dropout).
    d_block : int, default=192
        Width of the residual stream.
    d_hidden_multiplier : float, default=2.0
        Hidden width of a block as a multiple of ``d_block``.
    dropout1 : float, default=0.25
        Dropout after the hidden activation.
    dropout2 : float, default=0.0
        Dropout on the residual branch.
    d_embedding : int, default=8
        Size of the embedding of each categorical column.
"""


class _ResNet(_SkorchTabularBase):
    _min_batch_size = 2

    def __init__(
        self,
        *,
        n_blocks=2,
        d_block=192,
        d_hidden_multiplier=2.0,
        dropout1=0.25,
        dropout2=0.0,
        d_embedding=8,
        categorical_features="auto",
        numerical_scaling="quantile",
        max_epochs=100,
        batch_size=256,
        lr=1e-3,
        weight_decay=0.0,
        lr_scheduler="constant",
        validation_fraction=0.1,
        patience=16,
        token_width=None,
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.n_blocks = n_blocks
        self.d_block = d_block
        self.d_hidden_multiplier = d_hidden_multiplier
        self.dropout1 = dropout1
        self.dropout2 = dropout2
        self.d_embedding = d_embedding
        super().__init__(
            categorical_features=categorical_features,
            numerical_scaling=numerical_scaling,
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            lr_scheduler=lr_scheduler,
            validation_fraction=validation_fraction,
            patience=patience,
            token_width=token_width,
            device=device,
            random_state=random_state,
            verbose=verbose,
        )

    def _check_model_params(self):
        check_int("n_blocks", self.n_blocks)
        check_int("d_block", self.d_block)
        check_multiplier("d_hidden_multiplier", self.d_hidden_multiplier, self.d_block)
        check_rate("dropout1", self.dropout1)
        check_rate("dropout2", self.dropout2)
        check_int("d_embedding", self.d_embedding)

    def _make_module(self, *, n_num, missing_columns, cat_cardinalities, d_out):
        features = FlatFeatures(
            n_num=n_num,
            missing_columns=missing_columns,
            cat_cardinalities=cat_cardinalities,
            d_embedding=self.d_embedding,
        )
        backbone = ResNet(
            d_in=features.d_out,
            d_out=d_out,
            n_blocks=self.n_blocks,
            d_block=self.d_block,
            d_hidden_multiplier=self.d_hidden_multiplier,
            dropout1=self.dropout1,
            dropout2=self.dropout2,
        )
        return TabularNet(features, backbone)


class ResNetClassifier(_ClassifierTask, _ResNet):
    __doc__ = _docstring("ResNetClassifier", _RESNET_TITLE, _RESNET_PARAMETERS)


class ResNetRegressor(_RegressorTask, _ResNet):
    __doc__ = _docstring("ResNetRegressor", _RESNET_TITLE, _RESNET_PARAMETERS)


_FT_TRANSFORMER_TITLE = "FT-Transformer (Gorishniy et al., 2021, Section 3.3)"
_FT_TRANSFORMER_PARAMETERS = """\
    n_blocks : int, default=3
        Number of Transformer blocks (pre-normalization, ReGLU feed-forward).
    d_block : int, default=192
        Token size; a multiple of ``attention_n_heads``.
    attention_n_heads : int, default=8
        Number of attention heads.
    attention_dropout : float, default=0.2
        Dropout on the attention probabilities.
    ffn_d_hidden_multiplier : float, default=4/3
        Hidden width of the feed-forward block as a multiple of ``d_block``.
    ffn_dropout : float, default=0.1
        Dropout in the feed-forward block.
    residual_dropout : float, default=0.0
        Dropout on the residual branches.
"""


class _FTTransformer(_SkorchTabularBase):
    _no_weight_decay = _TOKEN_MODEL_NO_WEIGHT_DECAY

    def __init__(
        self,
        *,
        n_blocks=3,
        d_block=192,
        attention_n_heads=8,
        attention_dropout=0.2,
        ffn_d_hidden_multiplier=4 / 3,
        ffn_dropout=0.1,
        residual_dropout=0.0,
        categorical_features="auto",
        numerical_scaling="quantile",
        max_epochs=100,
        batch_size=256,
        lr=1e-4,
        weight_decay=1e-5,
        lr_scheduler="constant",
        validation_fraction=0.1,
        patience=16,
        token_width=None,
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.n_blocks = n_blocks
        self.d_block = d_block
        self.attention_n_heads = attention_n_heads
        self.attention_dropout = attention_dropout
        self.ffn_d_hidden_multiplier = ffn_d_hidden_multiplier
        self.ffn_dropout = ffn_dropout
        self.residual_dropout = residual_dropout
        super().__init__(
            categorical_features=categorical_features,
            numerical_scaling=numerical_scaling,
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            lr_scheduler=lr_scheduler,
            validation_fraction=validation_fraction,
            patience=patience,
            token_width=token_width,
            device=device,
            random_state=random_state,
            verbose=verbose,
        )

    def _check_model_params(self):
        check_int("n_blocks", self.n_blocks)
        check_int("d_block", self.d_block)
        check_int("attention_n_heads", self.attention_n_heads)
        if self.d_block % self.attention_n_heads:
            raise ValueError(
                "d_block must be a multiple of attention_n_heads, got "
                f"d_block={self.d_block!r}, attention_n_heads={self.attention_n_heads!r}"
            )
        check_rate("attention_dropout", self.attention_dropout)
        check_multiplier("ffn_d_hidden_multiplier", self.ffn_d_hidden_multiplier, self.d_block)
        check_rate("ffn_dropout", self.ffn_dropout)
        check_rate("residual_dropout", self.residual_dropout)

    def _make_module(self, *, n_num, missing_columns, cat_cardinalities, d_out):
        features = feature_tokens(
            n_num=n_num, cat_cardinalities=cat_cardinalities, d_token=self.d_block, cls=True
        )
        backbone = FTTransformerBackbone(
            d_out=d_out,
            n_blocks=self.n_blocks,
            d_block=self.d_block,
            attention_n_heads=self.attention_n_heads,
            attention_dropout=self.attention_dropout,
            ffn_d_hidden_multiplier=self.ffn_d_hidden_multiplier,
            ffn_dropout=self.ffn_dropout,
            residual_dropout=self.residual_dropout,
        )
        return TabularNet(features, backbone)


class FTTransformerClassifier(_ClassifierTask, _FTTransformer):
    __doc__ = _docstring(
        "FTTransformerClassifier", _FT_TRANSFORMER_TITLE, _FT_TRANSFORMER_PARAMETERS
    )


class FTTransformerRegressor(_RegressorTask, _FTTransformer):
    __doc__ = _docstring(
        "FTTransformerRegressor", _FT_TRANSFORMER_TITLE, _FT_TRANSFORMER_PARAMETERS
    )


_DCNV2_TITLE = "DCN V2 (Wang et al., 2021, as benchmarked by Gorishniy et al., 2021)"
_DCNV2_PARAMETERS = """\
    d_block : int, default=128
        Width of the cross and deep blocks.
    n_cross_blocks : int, default=3
        Number of cross blocks.
    n_deep_blocks : int, default=2
        Number of Linear-ReLU-Dropout blocks.
    cross_dropout : float, default=0.1
        Dropout in the cross blocks.
    deep_dropout : float, default=0.1
        Dropout in the deep blocks.
    stacked : bool, default=False
        Cross then deep network (stacked) instead of both side by side (parallel, the paper's
        tuned choice).
    d_embedding : int, default=8
        Size of the embedding of each categorical column.
"""


class _DCNv2(_SkorchTabularBase):
    def __init__(
        self,
        *,
        d_block=128,
        n_cross_blocks=3,
        n_deep_blocks=2,
        cross_dropout=0.1,
        deep_dropout=0.1,
        stacked=False,
        d_embedding=8,
        categorical_features="auto",
        numerical_scaling="quantile",
        max_epochs=100,
        batch_size=256,
        lr=1e-3,
        weight_decay=0.0,
        lr_scheduler="constant",
        validation_fraction=0.1,
        patience=16,
        token_width=None,
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.d_block = d_block
        self.n_cross_blocks = n_cross_blocks
        self.n_deep_blocks = n_deep_blocks
        self.cross_dropout = cross_dropout
        self.deep_dropout = deep_dropout
        self.stacked = stacked
        self.d_embedding = d_embedding
        super().__init__(
            categorical_features=categorical_features,
            numerical_scaling=numerical_scaling,
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            lr_scheduler=lr_scheduler,
            validation_fraction=validation_fraction,
            patience=patience,
            token_width=token_width,
            device=device,
            random_state=random_state,
            verbose=verbose,
        )

    def _check_model_params(self):
        check_int("d_block", self.d_block)
        check_int("n_cross_blocks", self.n_cross_blocks, min_value=0)
        check_int("n_deep_blocks", self.n_deep_blocks, min_value=0)
        check_rate("cross_dropout", self.cross_dropout)
        check_rate("deep_dropout", self.deep_dropout)
        if not isinstance(self.stacked, bool):
            raise TypeError(f"stacked must be a bool, got stacked={self.stacked!r}")
        check_int("d_embedding", self.d_embedding)

    def _make_module(self, *, n_num, missing_columns, cat_cardinalities, d_out):
        features = FlatFeatures(
            n_num=n_num,
            missing_columns=missing_columns,
            cat_cardinalities=cat_cardinalities,
            d_embedding=self.d_embedding,
        )
        backbone = DCNv2(
            d_in=features.d_out,
            d_out=d_out,
            d_block=self.d_block,
            n_cross_blocks=self.n_cross_blocks,
            n_deep_blocks=self.n_deep_blocks,
            cross_dropout=self.cross_dropout,
            deep_dropout=self.deep_dropout,
            stacked=self.stacked,
        )
        return TabularNet(features, backbone)


class DCNv2Classifier(_ClassifierTask, _DCNv2):
    __doc__ = _docstring("DCNv2Classifier", _DCNV2_TITLE, _DCNV2_PARAMETERS)


class DCNv2Regressor(_RegressorTask, _DCNv2):
    __doc__ = _docstring("DCNv2Regressor", _DCNV2_TITLE, _DCNV2_PARAMETERS)


_AUTOINT_TITLE = "AutoInt (Song et al., 2019, as benchmarked by Gorishniy et al., 2021)"
_AUTOINT_PARAMETERS = """\
    n_blocks : int, default=3
        Number of interacting (self-attention) blocks.
    d_token : int, default=32
        Token size; a multiple of ``attention_n_heads``.
    attention_n_heads : int, default=2
        Number of attention heads.
    attention_dropout : float, default=0.1
        Dropout on the attention probabilities.
    residual_dropout : float, default=0.0
        Dropout on the attention output before the residual sum.
"""


class _AutoInt(_SkorchTabularBase):
    _no_weight_decay = _TOKEN_MODEL_NO_WEIGHT_DECAY

    def __init__(
        self,
        *,
        n_blocks=3,
        d_token=32,
        attention_n_heads=2,
        attention_dropout=0.1,
        residual_dropout=0.0,
        categorical_features="auto",
        numerical_scaling="quantile",
        max_epochs=100,
        batch_size=256,
        lr=1e-3,
        weight_decay=1e-5,
        lr_scheduler="constant",
        validation_fraction=0.1,
        patience=16,
        token_width=None,
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.n_blocks = n_blocks
        self.d_token = d_token
        self.attention_n_heads = attention_n_heads
        self.attention_dropout = attention_dropout
        self.residual_dropout = residual_dropout
        super().__init__(
            categorical_features=categorical_features,
            numerical_scaling=numerical_scaling,
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            lr_scheduler=lr_scheduler,
            validation_fraction=validation_fraction,
            patience=patience,
            token_width=token_width,
            device=device,
            random_state=random_state,
            verbose=verbose,
        )

    def _check_model_params(self):
        check_int("n_blocks", self.n_blocks)
        check_int("d_token", self.d_token)
        check_int("attention_n_heads", self.attention_n_heads)
        if self.d_token % self.attention_n_heads:
            raise ValueError(
                "d_token must be a multiple of attention_n_heads, got "
                f"d_token={self.d_token!r}, attention_n_heads={self.attention_n_heads!r}"
            )
        check_rate("attention_dropout", self.attention_dropout)
        check_rate("residual_dropout", self.residual_dropout)

    def _make_module(self, *, n_num, missing_columns, cat_cardinalities, d_out):
        features = feature_tokens(
            n_num=n_num, cat_cardinalities=cat_cardinalities, d_token=self.d_token, bias=False
        )
        backbone = AutoInt(
            n_tokens=features.n_tokens,
            d_token=self.d_token,
            d_out=d_out,
            n_blocks=self.n_blocks,
            n_heads=self.attention_n_heads,
            attention_dropout=self.attention_dropout,
            residual_dropout=self.residual_dropout,
        )
        return TabularNet(features, backbone)


class AutoIntClassifier(_ClassifierTask, _AutoInt):
    __doc__ = _docstring("AutoIntClassifier", _AUTOINT_TITLE, _AUTOINT_PARAMETERS)


class AutoIntRegressor(_RegressorTask, _AutoInt):
    __doc__ = _docstring("AutoIntRegressor", _AUTOINT_TITLE, _AUTOINT_PARAMETERS)
