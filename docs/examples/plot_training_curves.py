"""
Training curves and a 2-D view of the embeddings
================================================

:mod:`sklearn_tjepa.plotting` draws a fitted transformer's ``history_`` and a projection of its
embeddings, in the style of scikit-learn's Display objects. It needs matplotlib (the ``plots``
extra).
"""

# %%
# Fit with a validation set and a probe
# -------------------------------------
# ``eval_set`` adds a validation JEPA loss to every epoch, and a
# :class:`~sklearn_tjepa.callbacks.LinearProbe` the score of a logistic regression on the
# embeddings of labelled validation rows every second epoch.
from sklearn_tjepa import TJEPATransformer, load_benchmark
from sklearn_tjepa.callbacks import LinearProbe

adult = load_benchmark("adult")
X, y = adult.frame, adult.target
train, valid = adult.splits["train"][:2000], adult.splits["val"][:600]
X_train, X_valid, y_train, y_valid = X.iloc[train], X.iloc[valid], y.iloc[train], y.iloc[valid]

probe = LinearProbe(X_train, y_train, X_valid, y_valid, every=2)
tjepa = TJEPATransformer(
    d_model=16, n_layers=1, n_heads=2, ffn_dim=32, max_epochs=6, output="cls", callbacks=[probe],
    device="cpu", random_state=0,
)
tjepa.fit(X_train, eval_set=X_valid);

# %%
# Training curves
# ---------------
# One panel per quantity of ``history_``: the JEPA loss on training and validation rows, the
# learning-rate and EMA-momentum schedules, the spread and effective rank of the embeddings (both
# fall towards 0 and 1 when the embeddings collapse) and the probe score.
#
# The embeddings come from the target encoder, an exponential moving average of the context
# encoder with a momentum of at least 0.996: in the few dozen steps of this small run it barely
# moves, so its spread and rank change only in the third or fourth digit. Full-size runs are
# in :doc:`/pretraining`.
from sklearn_tjepa.plotting import EmbeddingDisplay, TrainingCurvesDisplay

curves = TrainingCurvesDisplay.from_estimator(tjepa)

# %%
# Chosen panels go on given axes; the lines are attributes of the display.
import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, 2, figsize=(8, 3), layout="constrained")
curves = TrainingCurvesDisplay.from_estimator(tjepa, metrics=[("loss", "valid_loss"), "probe_score"], ax=axes)
epochs, accuracies = curves.lines_["probe_score"].get_data()
print("probe accuracy on the validation rows:",
      ", ".join(f"epoch {epoch}: {accuracy:.4f}" for epoch, accuracy in zip(epochs, accuracies)))

# %%
# The probe's accuracy is the share of the 600 validation rows it classifies correctly (one seed);
# the loss is the mean squared error between predicted and target tokens, each target
# standardised across the batch, so that predicting the batch mean scores about 1.

# %%
# A 2-D projection of the embeddings
# ----------------------------------
# PCA of the CLS embeddings of validation rows, coloured by the label the encoder never saw. The
# axes are the two directions of largest variance of the embeddings, in the embeddings' own
# (arbitrary) units.
pca = EmbeddingDisplay.from_estimator(tjepa, X_valid, y_valid.map({0: "<=50K", 1: ">50K"}), random_state=0)

# %%
# t-SNE shows neighbourhoods rather than directions of variance; its axes have no unit, only
# distances between nearby points mean something.
tsne = EmbeddingDisplay.from_estimator(
    tjepa, X_valid, y_valid.map({0: "<=50K", 1: ">50K"}), method="tsne", perplexity=30, random_state=0
)
