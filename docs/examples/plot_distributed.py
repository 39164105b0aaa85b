"""
Data-parallel pretraining on one machine
========================================

``backend="torchrun"`` trains with PyTorch's DistributedDataParallel in ``n_procs`` worker
processes, which ``fit`` launches itself (gloo on CPUs, NCCL on GPUs). The fitted transformer is
an ordinary estimator afterwards: the workers' results come back to this process.

Each worker processes ``batch_size`` rows per step, so ``n_procs`` workers take
``n_procs * batch_size`` rows per optimiser step. On a CPU the workers share the machine's cores:
this example shows the API; the speed-up is on several GPUs or nodes
(:doc:`/distributed`).

The workers are started with the ``spawn`` method, which imports the script that called
``fit``. In a script, put the fit under ``if __name__ == "__main__":`` as below, or every worker
would run the script again. (This page was executed that way when the documentation was built.)

Several nodes, and jobs started by ``torchrun`` or SLURM's ``srun``, are described in
:doc:`/distributed`.
"""

# %%
# Pretrain with two workers
# -------------------------
import time

from sklearn_tjepa import TJEPATransformer, load_benchmark

adult = load_benchmark("adult")
X = adult.frame.iloc[adult.splits["train"][:1000]]

params = dict(
    d_model=16, n_layers=1, n_heads=2, ffn_dim=32, predictor_d_model=16, predictor_n_layers=1,
    max_epochs=2, batch_size=128, device="cpu", random_state=0,
)

if __name__ == "__main__":
    start = time.perf_counter()
    distributed = TJEPATransformer(backend="torchrun", n_procs=2, **params).fit(X)
    seconds = time.perf_counter() - start
    in_epochs = sum(record["seconds"] for record in distributed.history_)
    # Most of the wall time is starting the workers (interpreters, imports, process group).
    print(f"fit with 2 workers: {seconds:.1f} s, of which {in_epochs:.1f} s in epochs")
    for record in distributed.history_:
        print(f"epoch {record['epoch']}: loss {record['loss']:.4f}")

# %%
# The result is a fitted transformer
# ----------------------------------
# It embeds in this process, pickles, and goes into a ``Pipeline`` like one fitted locally.
if __name__ == "__main__":
    print("embeddings:", distributed.transform(X.iloc[:5]).shape)
