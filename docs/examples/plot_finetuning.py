"""
Pretraining on unlabelled rows, then fine-tuning
================================================

The reason to pretrain is unlabelled data: many rows, few labels.
:class:`~sklearn_tjepa.TJEPAClassifier` pretrains T-JEPA on **every** row given to ``fit`` and
then fine-tunes the encoder with a head on the **labelled** ones. As in
:mod:`sklearn.semi_supervised`, the label ``-1`` marks an unlabelled row.

This example keeps 5% of the labels of 3,000 Adult rows, pretrains once, and compares
fine-tuning that pretrained encoder with fine-tuning the same architecture from its random
initialisation.
"""

# %%
# Few labels, many rows
# ---------------------
import numpy as np

from sklearn_tjepa import load_benchmark

adult = load_benchmark("adult")
X, y = adult.frame, adult.target.to_numpy()
train, val, test = adult.splits["train"][:3000], adult.splits["val"][:500], adult.splits["test"][:2000]
X_train, X_val, X_test = X.iloc[train], X.iloc[val], X.iloc[test]

y_train = y[train].copy()  # Adult's labels are 0 and 1
labelled = np.random.default_rng(0).random(len(train)) < 0.05
y_train[~labelled] = -1
print(f"{labelled.sum()} labelled rows out of {len(train)}")

# %%
# Pretrain once on all rows
# -------------------------
# The transformer sees every training row and no label. Wrapping it in
# :class:`~sklearn.frozen.FrozenEstimator` lets several fine-tuners start from the same
# pretraining without refitting it.
from sklearn.frozen import FrozenEstimator

from sklearn_tjepa import TJEPAClassifier, TJEPATransformer

architecture = dict(
    d_model=16, n_layers=1, n_heads=2, ffn_dim=32, predictor_d_model=16, predictor_n_layers=1,
    device="cpu", random_state=0,
)
tjepa = TJEPATransformer(max_epochs=4, batch_size=128, **architecture).fit(X_train)
print(f"pretraining loss per epoch: {[round(r['loss'], 3) for r in tjepa.history_]}")

# %%
# Fine-tune: pretrained against from scratch
# ------------------------------------------
# ``TJEPATransformer(max_epochs=0)`` keeps the encoder as initialised: fine-tuning it is the
# same model trained from scratch. Both use the labelled rows only and stop early on the
# validation rows.
finetune = dict(max_epochs=20, batch_size=32, patience=4, device="cpu", random_state=0)
pretrained = TJEPAClassifier(tjepa=FrozenEstimator(tjepa), **finetune)
scratch = TJEPAClassifier(tjepa=TJEPATransformer(max_epochs=0, **architecture), **finetune)
for name, clf in [("pretrained", pretrained), ("from scratch", scratch)]:
    clf.fit(X_train, y_train, X_val=X_val, y_val=y[val])
    print(f"{name:>12}: test accuracy {clf.score(X_test, y[test]):.4f} "
          f"after {clf.n_iter_} epochs (best {clf.best_epoch_})")

# %%
# One split, one seed and a tiny budget: the two accuracies are not a measurement of what
# pretraining is worth. For that, repeat over seeds and label fractions with the benchmark suite
# (:doc:`/benchmarking`).
#
# The validation curves
# ---------------------
# ``history_`` holds skorch's per-epoch records of the fine-tuning: here the mean
# cross-entropy of the 500 validation rows (in nats; lower is better), one seed.
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 3.5))
for name, clf in [("pretrained", pretrained), ("from scratch", scratch)]:
    epochs = [r["epoch"] for r in clf.history_]
    ax.plot(epochs, [r["valid_loss"] for r in clf.history_], marker="o", label=name)
ax.set_xlabel("fine-tuning epoch")
ax.set_ylabel("validation cross-entropy (nats)")
ax.legend()
fig.tight_layout();
