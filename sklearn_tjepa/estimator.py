"""TJEPATransformer: T-JEPA pretraining and embedding as a scikit-learn transformer."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import inspect
import itertools
import logging
import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.utils import check_consistent_length, check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from sklearn_tjepa._doc_links import DOC_LINK_MODULE, DOC_LINK_TEMPLATE, doc_link_url_params
from sklearn_tjepa.inference import embed
from sklearn_tjepa.model.jepa import ModelSpec, encoder_state, load_encoder
from sklearn_tjepa.model.masks import MaskSampler
from sklearn_tjepa.precision import resolve_precision
from sklearn_tjepa.preprocessing import EncodedTable, TablePreprocessor, as_frame
from sklearn_tjepa.streaming.rows import ParquetRows
from sklearn_tjepa.streaming.sample import sample_rows
from sklearn_tjepa.streaming.source import ParquetSource, is_parquet_source
from sklearn_tjepa.training.checkpoints import fingerprint_precision, load_checkpoint
from sklearn_tjepa.training.config import RunOptions, TrainConfig, from_params
from sklearn_tjepa.training.incremental import train_increment
from sklearn_tjepa.training.loop import InMemoryRows, TrainResult, train_on
from sklearn_tjepa.training.memory import resolve_recompute
from sklearn_tjepa.training.rng import RandomStreams
from sklearn_tjepa.validation import (
    OUTPUT_DTYPES,
    resolve_device,
    validate_partial_fit_parameters,
    validate_tjepa_parameters,
    validate_transform_parameters,
)

__all__ = ["TJEPATransformer"]

logger = logging.getLogger("sklearn_tjepa")

#: Rows that ``transform`` encodes and embeds at a time (the memory it needs besides input and output).
_TRANSFORM_CHUNK_ROWS = 65_536


def _piecewise_linear_bins(x_num: np.ndarray, n_bins: int) -> tuple[tuple[float, ...], ...]:
    """Quantile bin edges per numerical column (NaN ignored), for piecewise-linear embeddings.

    ``rtdl_num_embeddings.compute_bins`` rejects NaN, constant columns and fewer rows than bins; a
    transformer must accept all three, so edges are taken from the non-missing values here, and a
    constant (or all-missing) column gets one bin around its value.
    """
    edges = []
    for column in x_num.T:
        values = column[~np.isnan(column)]
        if values.size == 0:
            values = np.zeros(1, dtype=column.dtype)
        points = np.unique(np.quantile(values, np.linspace(0.0, 1.0, n_bins + 1)))
        if points.size < 2:
            points = np.array([points[0] - 0.5, points[0] + 0.5])
        edges.append(tuple(float(p) for p in points))
    return tuple(edges)


def _encoder_on(encoder: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """A module of its own, in eval mode, holding ``encoder``'s weights on ``device``.

    On the encoder's own device the weights are shared, not copied; on another device they are
    copied there once (never through an extra host copy). Either way ``encoder`` itself is not
    moved nor switched to another mode, so concurrent ``transform`` calls cannot disturb each
    other or the fitted state.
    """
    memo = {}
    for tensor in itertools.chain(encoder.parameters(), encoder.buffers()):
        moved = tensor.detach().to(device)
        if isinstance(tensor, torch.nn.Parameter):
            moved = torch.nn.Parameter(moved, requires_grad=False)
        memo[id(tensor)] = moved
    return copy.deepcopy(encoder, memo).eval()


def _is_fitted_attribute(name: str) -> bool:
    return name.endswith("_") and not name.startswith("__")


class TJEPATransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Self-supervised T-JEPA embeddings of tabular rows.

    ``fit`` pretrains a transformer encoder with T-JEPA (Thimonier et al., ICLR 2025): for every
    batch, a context encoder sees the CLS token plus a random subset of feature tokens, a predictor
    predicts the representations that a target encoder (an exponential moving average of the
    context encoder) gives to other feature tokens, and the loss is their mean squared error. No
    augmentations are used. ``transform`` returns the target encoder's embeddings.

    Parameters
    ----------
    d_model : int, default=64
        Width of every token.
    n_layers : int, default=2
        Transformer blocks of the encoder.
    n_heads : int, default=4
        Attention heads; must divide ``d_model``.
    ffn_dim : int, default=128
        Hidden width of the encoder's feed-forward networks.
    dropout : float, default=0.0
        Dropout in encoder and predictor (never active while computing targets or embeddings).
    activation : {"relu", "gelu", "silu", "tanh"}, default="gelu"
        Feed-forward activation.
    norm : {"pre", "post"}, default="pre"
        LayerNorm placement in the transformer blocks.
    n_cls_tokens : int, default=1
        Learned CLS tokens; always visible to the context encoder, never a target.
    numerical_embedding : {"linear", "periodic", "piecewise_linear"}, default="piecewise_linear"
        Numerical tokenizer: the paper's ``x * W + b``, or the periodic / piecewise-linear
        embeddings of Gorishniy et al. (2022).
    numerical_bins : int, default=16
        Quantile bins per numerical feature for ``"piecewise_linear"``.
    feature_index_embedding : bool, default=True
        Add a learned embedding of each feature's position.
    feature_type_embedding : bool, default=True
        Add a learned embedding of each feature's type (numerical or categorical).
    predictor : {"transformer", "mlp"}, default="transformer"
        Predictor kind: mask tokens through a transformer, or one MLP per feature whose input
        holds the CLS tokens, then one slot per feature with that feature's context token
        (zeros when the feature is not in the context), then a 0/1 indicator of the visible
        features, so that each input weight always reads the same feature.
    predictor_d_model : int, default=32
        Width inside the transformer predictor, hidden width of the MLP predictor.
    predictor_n_layers : int, default=2
        Blocks of the transformer predictor.
    predictor_n_heads : int, default=4
        Heads of the transformer predictor; must divide ``predictor_d_model``.
    predictor_ffn_dim : int, default=64
        Feed-forward width of the transformer predictor.
    mask_min_context_share, mask_max_context_share : float, default=0.136, 0.368
        Range of the share of the ``D`` features in each context set, in ``[0, 1]``: each batch
        draws ``round(D * share)`` (at least 1) features per context set. The paper's values for
        jannis; the T-JEPA reference calls them ``min_ctx_share`` / ``max_ctx_share``.
    mask_min_target_share, mask_max_target_share : float, default=0.156, 0.622
        Range of the share of features in each target set (the paper's values for jannis; the
        reference's ``min_trgt_share`` / ``max_trgt_share``). Whether the smallest context and
        target fit the table's features is checked in ``fit``.
    n_target_sets : int, default=4
        Target sets per row, each predicted from the context (the T-JEPA reference's
        ``mask_num_preds``, I-JEPA's ``num_pred_masks``).
    n_context_sets : int, default=1
        Disjoint context sets (context encoder views) per row (the T-JEPA reference's
        ``mask_num_encs``, I-JEPA's ``num_enc_masks``).
    target_norm : {"none", "layer", "batch"}, default="batch"
        Normalisation of the target tokens: over each token's dimensions (``"layer"``, as
        I-JEPA), per feature and dimension across the batch's rows (``"batch"``: the loss then
        measures the row-to-row part of the targets only), or none (the T-JEPA reference).
    missing_share : float, default=0.05
        Share of the input values, in ``[0, 1)``, that pretraining hides from the context
        encoder as missing (NaN, or the missing/unknown category), drawn afresh for every batch;
        the targets always come from the complete rows. It trains the missing-value embeddings
        that ``transform`` uses for NaN and unseen categories, which otherwise stay at their
        random initial values when the training data has no missing values. 0 disables it.
    variance_weight, covariance_weight : float, default=0.0, 0.0
        Weights of VICReg's variance term (each dimension's standard deviation across rows kept
        at 1 or more) and covariance term (off-diagonal covariances pushed to 0) on the context
        encoder's tokens, per token position (Bardes et al., 2022). 0 disables each.
    max_epochs : int, default=6
        Pretraining epochs; 0 keeps the encoder as initialised (an untrained baseline).
    batch_size : int, default=256
        Rows per optimiser step (at least 2).
    lr, start_lr, final_lr : float, default=1e-3, 0.0, 1e-6
        Peak, initial and final learning rate: linear warm-up from ``start_lr`` to ``lr`` over
        ``warmup_epochs``, then cosine to ``final_lr``, applied per iteration.
    warmup_epochs : float, default=1.0
        Length of the warm-up in epochs.
    weight_decay, final_weight_decay : float, default=0.0, 0.0
        Cosine schedule of AdamW's weight decay (weights only; biases, norms and tokens undecayed).
    ema_start, ema_end : float, default=0.996, 1.0
        EMA momentum of the target encoder, linear from ``ema_start`` to ``ema_end`` over
        ``ema_horizon_scale`` times the training iterations.
    ema_horizon_scale : float, default=1.25
        Length of the momentum schedule relative to training (at least 1): with 1.25 the
        momentum ends training four fifths of the way from ``ema_start`` to ``ema_end``. Only
        the momentum schedule is stretched; the learning-rate and weight-decay schedules end
        with training. The T-JEPA reference calls this factor ``ipe_scale``, defaults it to 1.0
        and stretches its learning-rate and weight-decay schedules by it as well (so there,
        with a factor above 1, training stops before they reach their final values).
    grad_clip : float or None, default=None
        Clip the gradients' global norm to this value.
    categorical_features : "auto", None or array-like, default="auto"
        Categorical columns: from the dtype (``category``, object, string, bool), none, or
        positions, names or a boolean mask.
    numerical_scaling : {"minmax", "standard", "quantile", "none"}, default="quantile"
        Scaling of numerical columns, fitted on ``fit``'s rows only.
    output : {"flatten", "cls", "mean"}, default="flatten"
        Embedding returned by ``transform``: all ``n_cls_tokens + D`` tokens concatenated, the
        first CLS token, or the mean of the feature tokens.
    output_dtype : {"float64", "float32"}, default="float64"
        Dtype of ``transform``'s output. float64 is scikit-learn's usual output; float32 halves
        the output's memory and is what the encoder computes in (no precision is lost).
    transform_batch_size : int, default=1024
        Rows per forward pass in ``transform``.
    device : str, default="auto"
        "auto" (CUDA when available), "cpu", "cuda" or "cuda:N".
    precision : {"auto", "32", "bf16"}, default="auto"
        Precision of the forward passes in ``fit`` and ``transform``: bfloat16 autocast on CPUs
        that compute bf16 natively (``avx512_bf16`` or AMX, checked at run time by
        :func:`~sklearn_tjepa.precision.native_bf16`) and float32 elsewhere, GPUs included,
        where models of this size train faster in float32 (``"auto"``), or
        float32 (``"32"``) or bf16 (``"bf16"``, with a warning where bf16 is emulated and slow)
        everywhere. Weights, optimiser state, the EMA target encoder and the loss stay float32
        (:mod:`sklearn_tjepa.precision`). ``transform`` resolves ``"auto"`` on its own device.
        A run that continues another (``resume`` from a checkpoint, a later ``partial_fit``
        call) keeps the precision it started in under ``"auto"``, also on a machine whose bf16
        support differs; an explicit precision other than it is refused.
    recompute : bool or "auto", default="auto"
        Activation checkpointing in training: keep only each transformer block's input for the
        backward pass and recompute the block there, for about one more forward pass of time
        and memory that no longer grows with depth. ``"auto"`` recomputes when the estimated
        activation memory of a step exceeds a budget that depends on the device (estimate and
        budgets: :mod:`sklearn_tjepa.training.memory`). Results are the same either way.
    backend : {"local", "torchrun"}, default="local"
        Train in this process, or launch ``n_procs`` data-parallel workers per node (gloo on CPU,
        NCCL on GPUs).
    n_procs : int, default=1
        Worker processes per node with ``backend="torchrun"``.
    n_nodes : int, default=1
        Nodes with ``backend="torchrun"``.
    rdzv_endpoint : str or None, default=None
        ``host:port`` of the rendezvous for several nodes; a free local port when None.
    data_on_device : {"auto", "always", "never"}, default="auto"
        Keep the encoded table on the training device ("auto": when it takes under a quarter of
        the free GPU memory), otherwise copy batches from pinned host memory.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows (or use ``eval_set`` in ``fit``), record its
        JEPA loss each epoch, stop after ``patience`` epochs without improvement and keep the best
        epoch's encoder. Without it, ``patience`` is not used.
    validation_fraction : float, default=0.1
        Held-out share for early stopping.
    patience : int, default=5
        Epochs without improvement of the validation loss before stopping.
    checkpoint_dir : str or None, default=None
        Directory for an atomic checkpoint after every ``checkpoint_every`` epochs.
    checkpoint_every : int, default=1
        Epochs between checkpoints; another value needs ``checkpoint_dir`` (``ValueError``).
    resume : bool, default=False
        Continue from the checkpoint in ``checkpoint_dir`` when there is one (needs
        ``checkpoint_dir``). The resumed fit ends as the uninterrupted one would, also under
        ``backend="torchrun"`` (each rank restores its own random states); with
        ``random_state=None`` the checkpointed run's seed is reused, and a run that stopped
        early resumes finished. A checkpoint of other settings, data shape or world size, or
        one that is damaged, is refused with a ``ValueError`` naming the file and the cause.
    checkpoint_every_rows : int or None, default=None
        With ``checkpoint_dir``, also checkpoint within an epoch: after the first shuffle window
        (see ``shuffle_buffer_rows``) by which this many rows were trained since the last
        checkpoint. A resumed fit continues after that window. Meant for a Parquet dataset,
        whose epochs are many windows; rows in memory form one window per epoch. Set without
        ``checkpoint_dir`` it raises a ``ValueError``.
    partial_fit_rows : int or None, default=None
        Rows in one epoch of :meth:`partial_fit` (e.g. the rows of the table whose chunks it is
        given). Its learning-rate, weight-decay and EMA schedules span ``max_epochs`` such
        epochs, as ``fit``'s span ``max_epochs`` passes over its rows, and past that horizon
        they hold their final values. None takes the rows of the first ``partial_fit`` call.
        Not used by ``fit``.
    preprocessing_sample_rows : int, default=100_000
        With a Parquet dataset, the preprocessing (column types, category vocabularies,
        numerical scaling, piecewise-linear bins) is fitted on a uniform random sample of this
        many rows (all rows when fewer), drawn with the run's seed; categories absent from the
        sample are embedded as missing.
    shuffle_buffer_rows : int, default=262_144
        With a Parquet dataset, each epoch reads the row groups in a shuffled order, cuts the
        rows into windows of this many rows (rounded down to whole batches, at least one
        batch), and shuffles the rows within each window; only one window is held in memory.
    callbacks : list of Callback or None, default=None
        Instances of :class:`~sklearn_tjepa.callbacks.Callback`, whose hooks get this estimator
        and their other arguments by keyword: ``on_train_begin(est)``,
        ``on_epoch_end(est, record=record)`` (a truthy return stops training) and
        ``on_train_end(est)``. During training ``transform`` embeds with the current target
        encoder. ``clone`` gives the clone new callbacks built from the same arguments (shared,
        not copied). Needs ``backend="local"``.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, dropout, data order, masks, the validation split and the monitored
        rows, each from its own stream (:mod:`sklearn_tjepa.training.rng`). With an int,
        refitting on the same data and machine gives bit-identical CPU embeddings. The caller's
        global torch RNG is left as it was.
    verbose : int, default=0
        0 silent, 1 a progress bar with the loss per epoch, 2 also logs device, ranks and sizes
        through the ``sklearn_tjepa`` logger.

    Attributes
    ----------
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of str
        Column names, for DataFrame input with string column names.
    preprocessor_ : TablePreprocessor
        Fitted column typing, categories and numerical scaling.
    model_spec_ : ModelSpec
        Architecture of the encoder.
    encoder_ : TabularEncoder
        The trained target encoder, on the CPU. While ``fit`` runs, callbacks find here the
        target encoder being trained (on the training device), which ``transform`` uses.
    history_ : list of dict
        Per epoch: epoch, loss, lr, weight_decay, momentum, seconds, samples_per_second,
        peak_memory_mb (the epoch's peak: CUDA allocator on a GPU, the process's resident
        memory on the CPU; where the CPU peak cannot be reset, as on macOS, the key is
        process_peak_memory_mb, the process's peak so far), precision (as ``precision_``),
        embedding_std, effective_rank (of the ``output`` embeddings of up to 1024 training
        rows), valid_loss with a validation set, and what callbacks add (e.g. probe_score from
        :class:`~sklearn_tjepa.callbacks.LinearProbe`).
    n_iter_ : int
        Epochs run by ``fit``, or ``partial_fit`` calls made.
    best_epoch_ : int or None
        Epoch whose encoder was kept under early stopping.
    precision_ : {"32", "bf16"}
        Precision of the training (``precision`` resolved on the training device, or the
        precision of the run a resumed ``fit`` or a later ``partial_fit`` call continues), by
        ``fit`` or the last ``partial_fit`` call.
    recompute_ : bool
        Whether the training recomputed activations (``recompute`` resolved), by ``fit`` or
        the last ``partial_fit`` call.
    n_rows_seen_ : int
        Rows trained on by the ``partial_fit`` calls (a row given twice counts twice).
    n_steps_ : int
        Optimiser steps taken by the ``partial_fit`` calls.

    See Also
    --------
    sklearn_tjepa.preprocessing.TablePreprocessor : The preprocessing it fits.

    Notes
    -----
    A fitted transformer pickles with its weights as CPU tensors, so one fitted on a GPU loads
    on a CPU-only machine, where ``transform`` embeds on the CPU (with a warning while
    ``device`` says CUDA). A pickle records the scikit-learn and sklearn_tjepa versions that
    wrote it, and loading it under other versions warns. Unpickling runs code: load pickles and
    joblib files only from sources you trust (checkpoints load with ``weights_only=True`` and
    run none). ``fit`` is all or nothing: one that raises leaves the previous fit in place.
    With ``backend="torchrun"`` in a script, call ``fit`` under ``if __name__ == "__main__":``
    (workers are spawned).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_tjepa import TJEPATransformer
    >>> X = np.random.default_rng(0).normal(size=(64, 5))
    >>> tjepa = TJEPATransformer(d_model=8, n_layers=1, n_heads=2, ffn_dim=16, max_epochs=1,
    ...                          output="cls", random_state=0)
    >>> tjepa.fit_transform(X).shape
    (64, 8)
    """

    # The HTML repr's documentation link goes to this package's API reference.
    _doc_link_module = DOC_LINK_MODULE
    _doc_link_template = DOC_LINK_TEMPLATE
    _doc_link_url_param_generator = doc_link_url_params

    def __init__(
        self,
        *,
        d_model=64,
        n_layers=2,
        n_heads=4,
        ffn_dim=128,
        dropout=0.0,
        activation="gelu",
        norm="pre",
        n_cls_tokens=1,
        numerical_embedding="piecewise_linear",
        numerical_bins=16,
        feature_index_embedding=True,
        feature_type_embedding=True,
        predictor="transformer",
        predictor_d_model=32,
        predictor_n_layers=2,
        predictor_n_heads=4,
        predictor_ffn_dim=64,
        mask_min_context_share=0.136,
        mask_max_context_share=0.368,
        mask_min_target_share=0.156,
        mask_max_target_share=0.622,
        n_target_sets=4,
        n_context_sets=1,
        target_norm="batch",
        missing_share=0.05,
        variance_weight=0.0,
        covariance_weight=0.0,
        max_epochs=6,
        batch_size=256,
        lr=1e-3,
        start_lr=0.0,
        final_lr=1e-6,
        warmup_epochs=1.0,
        weight_decay=0.0,
        final_weight_decay=0.0,
        ema_start=0.996,
        ema_end=1.0,
        ema_horizon_scale=1.25,
        grad_clip=None,
        categorical_features="auto",
        numerical_scaling="quantile",
        output="flatten",
        output_dtype="float64",
        transform_batch_size=1024,
        device="auto",
        precision="auto",
        recompute="auto",
        backend="local",
        n_procs=1,
        n_nodes=1,
        rdzv_endpoint=None,
        data_on_device="auto",
        early_stopping=False,
        validation_fraction=0.1,
        patience=5,
        checkpoint_dir=None,
        checkpoint_every=1,
        resume=False,
        checkpoint_every_rows=None,
        partial_fit_rows=None,
        preprocessing_sample_rows=100_000,
        shuffle_buffer_rows=262_144,
        callbacks=None,
        random_state=None,
        verbose=0,
    ):
        self.d_model = d_model
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.ffn_dim = ffn_dim
        self.dropout = dropout
        self.activation = activation
        self.norm = norm
        self.n_cls_tokens = n_cls_tokens
        self.numerical_embedding = numerical_embedding
        self.numerical_bins = numerical_bins
        self.feature_index_embedding = feature_index_embedding
        self.feature_type_embedding = feature_type_embedding
        self.predictor = predictor
        self.predictor_d_model = predictor_d_model
        self.predictor_n_layers = predictor_n_layers
        self.predictor_n_heads = predictor_n_heads
        self.predictor_ffn_dim = predictor_ffn_dim
        self.mask_min_context_share = mask_min_context_share
        self.mask_max_context_share = mask_max_context_share
        self.mask_min_target_share = mask_min_target_share
        self.mask_max_target_share = mask_max_target_share
        self.n_target_sets = n_target_sets
        self.n_context_sets = n_context_sets
        self.target_norm = target_norm
        self.missing_share = missing_share
        self.variance_weight = variance_weight
        self.covariance_weight = covariance_weight
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.start_lr = start_lr
        self.final_lr = final_lr
        self.warmup_epochs = warmup_epochs
        self.weight_decay = weight_decay
        self.final_weight_decay = final_weight_decay
        self.ema_start = ema_start
        self.ema_end = ema_end
        self.ema_horizon_scale = ema_horizon_scale
        self.grad_clip = grad_clip
        self.categorical_features = categorical_features
        self.numerical_scaling = numerical_scaling
        self.output = output
        self.output_dtype = output_dtype
        self.transform_batch_size = transform_batch_size
        self.device = device
        self.precision = precision
        self.recompute = recompute
        self.backend = backend
        self.n_procs = n_procs
        self.n_nodes = n_nodes
        self.rdzv_endpoint = rdzv_endpoint
        self.data_on_device = data_on_device
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every
        self.resume = resume
        self.checkpoint_every_rows = checkpoint_every_rows
        self.partial_fit_rows = partial_fit_rows
        self.preprocessing_sample_rows = preprocessing_sample_rows
        self.shuffle_buffer_rows = shuffle_buffer_rows
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        # float input of this dtype gives output of the same dtype
        tags.transformer_tags.preserves_dtype = [self.output_dtype] if self.output_dtype in OUTPUT_DTYPES else []
        tags.non_deterministic = False
        return tags

    def _encode(self, X, *, reset: bool) -> EncodedTable:
        frame = as_frame(X)
        validate_data(self, X, reset=reset, skip_check_array=True)
        if reset:
            self.preprocessor_ = TablePreprocessor(
                categorical_features=self.categorical_features,
                numerical_scaling=self.numerical_scaling,
                random_state=0,
            ).fit(frame)
        return self.preprocessor_.transform(frame)

    def _bin_edges(self, table: EncodedTable) -> tuple[tuple[float, ...], ...] | None:
        """The piecewise-linear bin edges of ``table``'s numerical columns, or None without them."""
        if self.numerical_embedding == "piecewise_linear" and table.x_num.shape[1]:
            return _piecewise_linear_bins(table.x_num, self.numerical_bins)
        return None

    def _model_spec(self, params: dict, edges) -> ModelSpec:
        preprocessor = self.preprocessor_
        return from_params(
            ModelSpec,
            params,
            numerical_positions=tuple(int(i) for i in preprocessor.numerical_positions_),
            categorical_positions=tuple(int(i) for i in preprocessor.categorical_positions_),
            cardinalities=tuple(int(c) for c in preprocessor.cardinalities_),
            numerical_bin_edges=edges,
        )

    def _run_settings(
        self, params: dict, *, seed: int, patience: int | None, device: torch.device, continuing: str | None = None
    ):
        """The run's :class:`TrainConfig` and :class:`RunOptions`, with ``precision`` and
        ``recompute`` resolved for ``model_spec_`` on ``device``; sets ``precision_`` and
        ``recompute_``. ``continuing`` is the precision of the run this one continues, if any
        (see :func:`~sklearn_tjepa.precision.resolve_precision`)."""
        precision = resolve_precision(self.precision, device, continuing=continuing)
        config = from_params(TrainConfig, params, seed=seed, patience=patience, precision=precision)
        options = from_params(
            RunOptions, params, recompute=resolve_recompute(self.recompute, self.model_spec_, config, device)
        )
        self.precision_, self.recompute_ = config.precision, options.recompute
        return config, options

    def _validation_split(self, table: EncodedTable, eval_set, streams: RandomStreams):
        if eval_set is not None:
            return table, self._encode(eval_set, reset=False)
        if not self.early_stopping:
            return table, None
        n_valid = int(round(self.validation_fraction * len(table)))
        if n_valid < 2 or len(table) - n_valid < 2:
            raise ValueError(
                f"early_stopping needs at least 2 training and 2 validation rows, got "
                f"{len(table)} rows with validation_fraction={self.validation_fraction}"
            )
        order = streams.numpy("validation_split").permutation(len(table))
        return table.take(np.sort(order[n_valid:])), table.take(np.sort(order[:n_valid]))

    def fit(self, X, y=None, *, eval_set=None):
        """Pretrain the encoder with T-JEPA on ``X``.

        All or nothing: a ``fit`` that raises (bad input, a crash or an interruption during
        training) leaves the estimator exactly as it was before the call.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features), or Parquet dataset
            Training rows; numerical, categorical (category, object, string, bool) columns and
            NaN anywhere. Or a Parquet dataset (a path to a file or directory, a list of files
            or a :class:`pyarrow.dataset.Dataset`), streamed from disk: the preprocessing is
            fitted on a sample of ``preprocessing_sample_rows`` rows and each epoch is read in
            shuffled windows of ``shuffle_buffer_rows`` rows.
        y : array-like of shape (n_samples,) or None
            Ignored (present for Pipeline compatibility); its length must match ``X``. Not
            accepted with a Parquet dataset.
        eval_set : array-like or DataFrame of shape (n_valid, n_features), default=None
            Rows whose JEPA loss is recorded each epoch and picks the best epoch's encoder; with
            ``early_stopping=True`` it also stops training (instead of a held-out share).

        Returns
        -------
        self : TJEPATransformer
            The fitted transformer.
        """
        with self._all_or_nothing(start_over=True):
            self._fit(X, y, eval_set)
        return self

    @contextlib.contextmanager
    def _all_or_nothing(self, *, start_over: bool):
        """Give back the fitted attributes as they were when the block raises.

        With ``start_over`` the block starts without any (callbacks see only the new state).
        """
        previous = {name: value for name, value in vars(self).items() if _is_fitted_attribute(name)}
        if start_over:
            for name in previous:
                delattr(self, name)
        try:
            yield
        except BaseException:
            for name in [name for name in vars(self) if _is_fitted_attribute(name)]:
                delattr(self, name)
            vars(self).update(previous)
            raise

    def _checkpoint_to_resume(self) -> dict | None:
        """The checkpoint in ``checkpoint_dir`` when ``resume`` is set and there is one, else None."""
        return load_checkpoint(self.checkpoint_dir) if self.resume else None

    def _seed(self, checkpoint: dict | None) -> int:
        """The run's integer seed: drawn from ``random_state``, or, when resuming ``checkpoint``
        with ``random_state=None``, the seed of the checkpointed run."""
        if self.random_state is None and checkpoint is not None and "seed" in checkpoint:
            return int(checkpoint["seed"])
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _fit(self, X, y, eval_set) -> None:
        params = self.get_params(deep=False)
        validate_tjepa_parameters(params)
        device = resolve_device(self.device)
        if is_parquet_source(X):
            checkpoint = self._checkpoint_to_resume()
            seed = self._seed(checkpoint)
            train_table, data, valid_table = self._parquet_rows(X, y, eval_set, seed)
        else:
            table = self._encode(X, reset=True)
            if y is not None:
                check_consistent_length(X, y)
            if len(table) < 2:
                raise ValueError(f"T-JEPA needs at least 2 rows to train, got n_samples={len(table)}")
            MaskSampler.from_config(self.n_features_in_, self)  # the mask shares must fit the features
            checkpoint = self._checkpoint_to_resume()
            seed = self._seed(checkpoint)
            train_table, valid_table = self._validation_split(table, eval_set, RandomStreams(seed))
            data = InMemoryRows(train_table.x_num, train_table.x_cat)
        self.model_spec_ = self._model_spec(params, self._bin_edges(train_table))
        patience = self.patience if self.early_stopping else None
        continuing = None if checkpoint is None else fingerprint_precision(checkpoint.get("fingerprint"))
        config, options = self._run_settings(params, seed=seed, patience=patience, device=device, continuing=continuing)
        valid = None if valid_table is None else (valid_table.x_num, valid_table.x_cat)
        callbacks = list(self.callbacks or ())
        for callback in callbacks:
            callback.on_train_begin(self)
        if self.backend == "torchrun":
            from sklearn_tjepa.distributed import train_distributed

            result = train_distributed(
                self.model_spec_,
                config,
                options,
                data,
                valid=valid,
                device=device,
                n_procs=self.n_procs,
                n_nodes=self.n_nodes,
                rdzv_endpoint=self.rdzv_endpoint,
            )
        else:
            result = train_on(
                self.model_spec_,
                config,
                options,
                data,
                device=device,
                valid=valid,
                on_epoch_end=self._epoch_end_hook(callbacks) if callbacks else None,
            )
        self._set_fitted_state(result)
        for callback in callbacks:
            callback.on_train_end(self)

    def _parquet_rows(self, X, y, eval_set, seed: int):
        """Open the Parquet dataset ``X``, fit the preprocessing on a sample of its rows and
        return the encoded sample, the rows to stream and the encoded ``eval_set`` (or None)."""
        if y is not None:
            raise ValueError("fit on a Parquet dataset reads only X from the files and takes no y, got a y")
        if self.early_stopping and eval_set is None:
            raise ValueError(
                "early_stopping on a Parquet dataset needs eval_set (rows kept out of the files, in memory): "
                "no share of the files is held out"
            )
        source = ParquetSource(X)
        if source.n_rows < 2:
            raise ValueError(f"T-JEPA needs at least 2 rows to train, got {source.n_rows} in the files {source.files}")
        sample = sample_rows(source, self.preprocessing_sample_rows, RandomStreams(seed).numpy("preprocessing_sample"))
        table = self._encode(sample, reset=True)
        MaskSampler.from_config(self.n_features_in_, self)  # the mask shares must fit the features
        data = ParquetRows(
            source, self.preprocessor_, table, seed=seed, window_rows=self.shuffle_buffer_rows, batch_size=self.batch_size
        )
        return table, data, None if eval_set is None else self._encode(eval_set, reset=False)

    def _epoch_end_hook(self, callbacks):
        """The loop's per-epoch hook: expose the target encoder as ``encoder_``, run callbacks."""

        def on_epoch_end(record: dict, encoder) -> bool:
            self.encoder_ = encoder
            stop = False
            for callback in callbacks:
                stop = bool(callback.on_epoch_end(self, record=record)) or stop
            return stop

        return on_epoch_end

    def _set_fitted_state(self, result: TrainResult) -> None:
        self.encoder_ = load_encoder(self.model_spec_, result.target_state)
        self.history_ = result.history
        self.n_iter_ = result.n_iter
        self.best_epoch_ = result.best_epoch

    def fit_preprocessing(self, X, y=None):
        """Fit the preprocessing on ``X``, a sample of all the rows, before :meth:`partial_fit`.

        ``partial_fit`` fits the column types, category vocabularies, numerical scaling and
        piecewise-linear bin edges on the rows of its first call, unless this method fitted
        them before: give it a random sample of the whole data (e.g. a few hundred thousand
        rows) and the later chunks are scaled and binned alike, whatever the first chunk holds.
        It starts a new model: any previous ``fit`` or ``partial_fit`` is forgotten.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            The sample, with the columns the chunks will have.
        y : None
            Ignored.

        Returns
        -------
        self : TJEPATransformer
            Ready for :meth:`partial_fit`; not yet fitted for ``transform``.
        """
        params = self.get_params(deep=False)
        validate_tjepa_parameters(params)
        with self._all_or_nothing(start_over=True):
            table = self._encode(X, reset=True)
            MaskSampler.from_config(self.n_features_in_, self)
            self.model_spec_ = self._model_spec(params, self._bin_edges(table))
        return self

    def partial_fit(self, X, y=None, *, eval_set=None):
        """Train one pass over the chunk ``X``, continuing the earlier calls (out-of-core training).

        The first call (unless :meth:`fit_preprocessing` came before) fits the preprocessing on
        ``X`` and builds the model; so the numerical scaling, the piecewise-linear bins and the
        category vocabularies come from the first chunk only, and categories that it lacks are
        unknown to the model (embedded as missing). Each call then takes one optimiser step per
        ``batch_size`` rows of ``X``, in a shuffled order. The schedules span ``max_epochs``
        epochs of ``partial_fit_rows`` rows; calling ``partial_fit`` ``max_epochs`` times with
        the same ``X`` trains exactly as ``fit(X)``. ``transform`` works after any call, and an
        estimator pickled between calls continues after loading as it would have without the
        pause.

        After ``fit``, which keeps no optimiser state, the first ``partial_fit`` continues from
        the fitted encoder: its weights start the context and the target encoder, while the
        predictor, the optimiser and the schedules start anew (a warm start).
        ``early_stopping``, ``checkpoint_dir``, ``resume`` and ``callbacks`` are not used (the
        estimator itself, saved with joblib, is the checkpoint).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            A chunk of at least 2 rows, with the columns of the first call.
        y : array-like of shape (n_samples,) or None
            Ignored (present for Pipeline compatibility); its length must match ``X``.
        eval_set : array-like or DataFrame of shape (n_valid, n_features), default=None
            Rows whose JEPA loss after this call's pass is recorded as ``valid_loss`` in its
            ``history_`` record, with the fixed masks of ``fit``'s ``eval_set`` (so the losses
            of successive calls, and of ``fit``, compare). It changes nothing in the training.

        Returns
        -------
        self : TJEPATransformer
            The transformer, fitted on every chunk so far.

        Raises
        ------
        ValueError
            With ``backend="torchrun"`` or ``max_epochs=0``, and when parameters that shape the
            model or its training changed since the first call (each is named).
        """
        params = self.get_params(deep=False)
        validate_tjepa_parameters(params)
        validate_partial_fit_parameters(params)
        with self._all_or_nothing(start_over=False):
            self._partial_fit(X, y, eval_set, params)
        return self

    def _partial_fit(self, X, y, eval_set, params: dict) -> None:
        first = not hasattr(self, "model_spec_")
        table = self._encode(X, reset=first)
        if y is not None:
            check_consistent_length(X, y)
        if len(table) < 2:
            raise ValueError(f"partial_fit needs at least 2 rows per call, got n_samples={len(table)}")
        valid = None if eval_set is None else self._encode(eval_set, reset=False)
        if first:
            MaskSampler.from_config(self.n_features_in_, self)
            self.model_spec_ = self._model_spec(params, self._bin_edges(table))
        spec = self._model_spec(params, self.model_spec_.numerical_bin_edges)
        changed = [
            f"{field.name}: {getattr(self.model_spec_, field.name)!r} -> {getattr(spec, field.name)!r}"
            for field in dataclasses.fields(ModelSpec)
            if getattr(self.model_spec_, field.name) != getattr(spec, field.name)
        ]
        if changed:
            raise ValueError(
                f"partial_fit cannot continue with another model: since the model was built {'; '.join(changed)}. "
                "Set these parameters back, or start a new run (clone the estimator)."
            )
        state = getattr(self, "_partial_fit_state_", None)
        initial_encoder = None
        if state is None:
            seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
            first_rows = len(table)
            if hasattr(self, "encoder_"):  # fitted by fit: a warm start from its encoder
                initial_encoder = encoder_state(self.encoder_)
        else:
            seed, first_rows = int(state["seed"]), int(state["first_rows"])
        device = resolve_device(self.device)
        continuing = None if state is None else fingerprint_precision(state["fingerprint"])
        config, options = self._run_settings(params, seed=seed, patience=None, device=device, continuing=continuing)
        result = train_increment(
            spec,
            config,
            options,
            table.x_num,
            table.x_cat,
            device=device,
            state=state,
            initial_encoder=initial_encoder,
            epoch_rows=self.partial_fit_rows or first_rows,
            step=getattr(self, "n_steps_", 0),
            valid=None if valid is None else (valid.x_num, valid.x_cat),
        )
        self._partial_fit_state_ = {**result.state, "first_rows": first_rows}
        self.encoder_ = load_encoder(spec, result.target_state)
        self.history_ = list(result.state["history"])  # a copy: editing it leaves the run state alone
        self.n_iter_ = len(self.history_)
        self.best_epoch_ = None
        self.n_rows_seen_ = getattr(self, "n_rows_seen_", 0) + len(table)
        self.n_steps_ = getattr(self, "n_steps_", 0) + result.steps

    def transform(self, X):
        """Embed rows with the trained target encoder.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Rows with the columns seen in ``fit``; unseen categories map to the missing/unknown
            embedding.

        Returns
        -------
        ndarray of shape (n_samples, n_features_out)
            Of dtype ``output_dtype``; ``(n_cls_tokens + D) * d_model`` columns for
            ``output="flatten"`` (``D`` features), ``d_model`` otherwise.

        Notes
        -----
        The rows are encoded and embedded in chunks of a fixed number of rows, each written
        into the output array as it is computed, so the memory needed besides the input and the
        output is that of one chunk, however many rows there are. ``transform`` leaves the
        fitted state untouched (it embeds with a module of its own), so several threads may call
        it at once. With ``device="cuda"`` on a machine
        without CUDA (a model fitted on a GPU and loaded elsewhere) it embeds on the CPU with a
        warning.
        """
        check_is_fitted(self, "encoder_")
        device = validate_transform_parameters(self.get_params(deep=False))
        precision = resolve_precision(self.precision, device)
        frame = as_frame(X)
        validate_data(self, X, reset=False, skip_check_array=True)
        n_rows = frame.shape[0]
        if n_rows == 0:
            raise ValueError(f"Found array with 0 sample(s) (shape={frame.shape}) while a minimum of 1 is required.")
        encoder = _encoder_on(self.encoder_, device)
        embeddings = np.empty((n_rows, self._n_features_out), dtype=self.output_dtype)
        for start in range(0, n_rows, _TRANSFORM_CHUNK_ROWS):
            stop = start + _TRANSFORM_CHUNK_ROWS
            table = self.preprocessor_.transform(frame.iloc[start:stop])
            embed(
                encoder,
                table.x_num,
                table.x_cat,
                output=self.output,
                batch_size=self.transform_batch_size,
                device=device,
                precision=precision,
                out=embeddings[start:stop],
            )
        return embeddings

    @property
    def _n_features_out(self) -> int:
        spec = self.model_spec_
        if self.output == "flatten":
            return (spec.n_cls_tokens + spec.n_features) * spec.d_model
        return spec.d_model

    def __getstate__(self):
        import sklearn

        import sklearn_tjepa

        state = dict(super().__getstate__())
        encoder = state.pop("encoder_", None)
        if encoder is not None:
            state["encoder_state_"] = encoder_state(encoder)
        state["_sklearn_version"] = sklearn.__version__
        state["_sklearn_tjepa_version"] = sklearn_tjepa.__version__
        return state

    def __setstate__(self, state):
        import sklearn

        import sklearn_tjepa

        state = dict(state)
        name = type(self).__name__
        sklearn_version = state.pop("_sklearn_version", None)
        if sklearn_version is not None and sklearn_version != sklearn.__version__:
            warnings.warn(
                InconsistentVersionWarning(
                    estimator_name=name,
                    current_sklearn_version=sklearn.__version__,
                    original_sklearn_version=sklearn_version,
                )
            )
        tjepa_version = state.pop("_sklearn_tjepa_version", None)
        if tjepa_version != sklearn_tjepa.__version__:
            current = sklearn_tjepa.__version__
            saved_by = "a version that did not record itself" if tjepa_version is None else tjepa_version
            install = "" if tjepa_version is None else f" (pip install sklearn-tjepa=={tjepa_version})"
            warnings.warn(
                f"Unpickling a {name} saved by sklearn_tjepa {saved_by} under sklearn_tjepa {current}: "
                "fitted models are not kept compatible across versions, so its embeddings may differ "
                f"from those it gave when saved. Refit it with sklearn_tjepa {current}, or load it with "
                f"the version that saved it{install}.",
                UserWarning,
                stacklevel=2,
            )
        weights = state.pop("encoder_state_", None)
        # parameters added after the pickle was written take their defaults (output_dtype="float64"
        # is how transform behaved before it existed)
        for name, parameter in inspect.signature(type(self).__init__).parameters.items():
            if parameter.default is not inspect.Parameter.empty:
                state.setdefault(name, parameter.default)
        self.__dict__.update(state)
        if weights is not None:
            self.encoder_ = load_encoder(self.model_spec_, weights)
