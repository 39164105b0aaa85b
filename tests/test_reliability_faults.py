"""Faults injected into TJEPATransformer's fits, and what must survive them.

- SIGKILL during a fit (local, and a 2-process gloo job on rows in memory or streamed from
  Parquet files, killed mid-epoch), then ``resume=True``, equals the uninterrupted fit; the kills
  come at fixed points (in an optimiser step, or half-way through writing a checkpoint) from
  ``tests/fault_injection/sitecustomize.py``, loaded by the subprocesses and the workers they
  spawn.
- An ``OSError`` (a full disk) while writing a checkpoint leaves the previous one intact.
- A worker killed mid-fit makes the parent raise within 60 s and leaves no process behind.
- A corrupted checkpoint (one flipped byte in the weights) is refused; a checkpoint holding a
  pickled object is refused without running it (``weights_only=True``).
- Two launchers meeting at a localhost endpoint (``n_nodes=2``) train like one node.

The subprocess tests spawn fresh interpreters (several seconds each on a busy machine). Run with
``pytest -m reliability``.
"""

import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from conftest import TINY_PARAMS
from sklearn_tjepa import TJEPATransformer
from sklearn_tjepa.training import checkpoints
from sklearn_tjepa.training.checkpoints import CHECKPOINT_NAME, load_checkpoint

pytestmark = pytest.mark.reliability

REPO = Path(__file__).resolve().parents[1]
INJECTOR = Path(__file__).resolve().parent / "fault_injection"
PARAMS = {**TINY_PARAMS, "batch_size": 16, "output": "cls", "random_state": 0, "dropout": 0.1}
LAUNCHER_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "SLURM_PROCID", "SLURM_NTASKS")

#: Fits ``TJEPATransformer(**params)`` on ``table(n_rows)``, or on a Parquet dataset, and saves
#: its embeddings of the rows in memory (argv: params as JSON, n_rows or the dataset's path,
#: output path or "-").
FIT_SCRIPT = """
import json, sys
import numpy as np, torch
from sklearn_tjepa import TJEPATransformer
if __name__ == "__main__":
    torch.set_num_threads(1)
    params, data, out = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
    X = np.random.default_rng(0).normal(size=(int(data), 5)) if data.isdigit() else data
    est = TJEPATransformer(**params).fit(X)
    if out != "-":
        np.save(out, est.transform(X))
"""


def table(n_rows):
    return np.random.default_rng(0).normal(size=(n_rows, 5))


@pytest.fixture
def no_launcher_env(monkeypatch):
    for name in LAUNCHER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # the same thread count in every process, for bitwise equality


def _environment(**faults) -> dict:
    env = {name: value for name, value in os.environ.items() if name not in LAUNCHER_VARIABLES}
    env.update(OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join([str(INJECTOR), str(REPO)]), **faults)
    return env


def run_fit(params, data, out="-", *, timeout=300, **faults) -> subprocess.CompletedProcess:
    """Run FIT_SCRIPT on ``data`` (n_rows, or a Parquet dataset's path) in a new session (its own
    process group) with the fault injector loaded."""
    command = [sys.executable, "-c", FIT_SCRIPT, json.dumps(params, default=str), str(data), str(out)]
    return subprocess.run(
        command, cwd=REPO, env=_environment(**faults), capture_output=True, text=True, timeout=timeout,
        start_new_session=True,
    )


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _children(pid: int) -> set[int]:
    """Live child processes of ``pid`` (from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.add(int(entry.name))
    return found


def _assert_same_fit(resumed, uninterrupted, X):
    np.testing.assert_array_equal(resumed.transform(X), uninterrupted.transform(X))
    assert [h["loss"] for h in resumed.history_] == [h["loss"] for h in uninterrupted.history_]


# ---------------------------------------------------------------- SIGKILL, then resume


@pytest.mark.parametrize("fault", ["step:30:self", "save:2:self"], ids=["in a step of epoch 5", "writing checkpoint 2"])
def test_sigkilled_local_fit_resumes_to_the_uninterrupted_fit(tmp_path, fault):
    """96 rows in batches of 16: 6 steps per epoch; step 30 is the last of epoch 5, the second checkpoint
    is written after epoch 2. The killed process leaves the last complete checkpoint."""
    n_rows = 96
    params = {**PARAMS, "max_epochs": 6, "checkpoint_dir": str(tmp_path)}
    killed = run_fit(params, n_rows, SKLEARN_TJEPA_FAULT=fault)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    epoch = load_checkpoint(tmp_path)["epoch"]
    assert epoch == (4 if fault.startswith("step") else 1)
    X = table(n_rows)
    resumed = TJEPATransformer(**{**params, "resume": True}).fit(X)
    uninterrupted = TJEPATransformer(**{**params, "checkpoint_dir": None}).fit(X)
    assert resumed.n_iter_ == 6 and resumed.history_[:epoch] == load_checkpoint(tmp_path)["history"][:epoch]
    _assert_same_fit(resumed, uninterrupted, X)


def test_sigkilled_two_process_fit_resumes_to_the_uninterrupted_fit(tmp_path, no_launcher_env):
    """A 2-process gloo job loses all its processes (launcher and workers) half-way through
    writing its second checkpoint; resumed with 2 processes it ends as the uninterrupted job: each
    rank restores its own mask-position and RNG states."""
    n_rows = 128  # 64 rows per rank: 4 steps per epoch
    params = {**PARAMS, "max_epochs": 4, "backend": "torchrun", "n_procs": 2, "checkpoint_dir": str(tmp_path)}
    killed = run_fit(params, n_rows, SKLEARN_TJEPA_FAULT="save:2:group")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    saved = load_checkpoint(tmp_path)
    assert saved["epoch"] == 1 and len(saved["ranks"]) == 2
    X = table(n_rows)
    resumed = TJEPATransformer(**{**params, "resume": True}).fit(X)
    uninterrupted = TJEPATransformer(**{**params, "checkpoint_dir": None}).fit(X)
    assert resumed.n_iter_ == 4
    _assert_same_fit(resumed, uninterrupted, X)


def test_sigkilled_two_process_parquet_fit_resumes_mid_epoch_to_the_uninterrupted_fit(tmp_path, no_launcher_env):
    """A 2-process gloo job streaming a Parquet dataset (2 files, row groups of 16 rows) loses all
    its processes in epoch 2, after the checkpoint taken within the epoch; resumed with 2
    processes it reads on from the next window and ends as the uninterrupted job."""
    frame = pd.DataFrame(table(192), columns=[f"x{i}" for i in range(5)])
    (tmp_path / "data").mkdir()
    for number in range(2):
        part = pa.Table.from_pandas(frame.iloc[number * 96 : (number + 1) * 96], preserve_index=False)
        pq.write_table(part, tmp_path / "data" / f"part{number}.parquet", row_group_size=16)
    data = str(tmp_path / "data")
    # 96 rows per rank, windows of 32 rows (2 steps of 16): 6 steps per epoch, a checkpoint after
    # every window (64 rows over both ranks); the kill comes before rank 0's 9th step, in the
    # second window of epoch 2, after the checkpoint of its first window
    streamed = {**PARAMS, "max_epochs": 2, "backend": "torchrun", "n_procs": 2, "shuffle_buffer_rows": 32}
    params = {**streamed, "checkpoint_dir": str(tmp_path / "ckpt"), "checkpoint_every_rows": 64}
    killed = run_fit(params, data, SKLEARN_TJEPA_FAULT="step:9:group")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    saved = load_checkpoint(tmp_path / "ckpt")
    assert (saved["epoch"], saved["position"], saved["partial"]["steps"], len(saved["ranks"])) == (1, 1, 2, 2)
    resumed = TJEPATransformer(**{**params, "resume": True}).fit(data)
    uninterrupted = TJEPATransformer(**streamed).fit(data)
    assert resumed.n_iter_ == 2 and resumed.history_[0] == saved["history"][0]  # epoch 1 (its timing too) not retrained
    _assert_same_fit(resumed, uninterrupted, frame)


# ---------------------------------------------------------------- writing checkpoints


def test_oserror_while_writing_a_checkpoint_keeps_the_previous_one(tmp_path, monkeypatch):
    """The disk fills up half-way through the second checkpoint: fit raises the OSError, the
    first checkpoint is intact and loadable, no temporary file is left, and resuming from it
    gives the uninterrupted fit."""
    X = table(96)
    params = {**PARAMS, "max_epochs": 3, "checkpoint_dir": tmp_path}
    original_save, calls = torch.save, []

    def disk_full_at_second_save(obj, stream, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            stream.write(b"half a checkpoint")
            raise OSError(errno.ENOSPC, "No space left on device")
        return original_save(obj, stream, *args, **kwargs)

    monkeypatch.setattr(checkpoints.torch, "save", disk_full_at_second_save)
    with pytest.raises(OSError, match="No space left"):
        TJEPATransformer(**params).fit(X)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == [CHECKPOINT_NAME]
    assert load_checkpoint(tmp_path)["epoch"] == 1
    resumed = TJEPATransformer(**{**params, "resume": True}).fit(X)
    _assert_same_fit(resumed, TJEPATransformer(**{**params, "checkpoint_dir": None}).fit(X), X)


def _flip_a_byte_in_the_weights(path: Path) -> None:
    data = bytearray(path.read_bytes())
    state = torch.load(path, weights_only=True)
    needle = state["target"][next(iter(state["target"]))].numpy().tobytes()[:16]
    position = data.find(needle)
    assert position > 0
    data[position] ^= 0x40
    path.write_bytes(bytes(data))


def test_corrupted_checkpoint_is_refused(tmp_path):
    """One flipped bit in the stored weights still loads with torch.load; the digest refuses it."""
    X = table(64)
    TJEPATransformer(**{**PARAMS, "max_epochs": 1}, checkpoint_dir=tmp_path).fit(X)
    path = tmp_path / CHECKPOINT_NAME
    _flip_a_byte_in_the_weights(path)
    torch.load(path, weights_only=True)  # torch alone does not notice
    with pytest.raises(ValueError, match=r"tjepa-last\.pt.*is corrupted"):
        TJEPATransformer(**{**PARAMS, "max_epochs": 2}, checkpoint_dir=tmp_path, resume=True).fit(X)


class _Payload:
    """Pickles as a call that creates a file: what a malicious checkpoint would run."""

    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return (Path.touch, (Path(self.target),))


def test_checkpoint_holding_code_is_refused_without_running_it(tmp_path):
    X = table(64)
    TJEPATransformer(**{**PARAMS, "max_epochs": 1}, checkpoint_dir=tmp_path).fit(X)
    path, marker = tmp_path / CHECKPOINT_NAME, tmp_path / "code-ran"
    state = torch.load(path, weights_only=True)
    state["history"].append(_Payload(marker))
    torch.save(state, path)
    with pytest.raises(ValueError, match=r"tjepa-last\.pt.*cannot be read.*weights_only"):
        TJEPATransformer(**{**PARAMS, "max_epochs": 2}, checkpoint_dir=tmp_path, resume=True).fit(X)
    assert not marker.exists()


# ---------------------------------------------------------------- a worker killed


def test_worker_killed_mid_fit_makes_the_parent_raise_promptly_without_orphans(
    tmp_path, monkeypatch, no_launcher_env, record_property
):
    """Rank 1 SIGKILLs itself before its 10th optimiser step (in epoch 3); fit raises within
    60 s of the kill, and every worker process is gone afterwards."""
    log = tmp_path / "log"
    log.mkdir()
    for name, value in _environment(
        SKLEARN_TJEPA_FAULT="step:10:self", SKLEARN_TJEPA_FAULT_RANK="1", SKLEARN_TJEPA_FAULT_LOG=str(log)
    ).items():
        monkeypatch.setenv(name, value)
    before = _children(os.getpid())
    with pytest.raises(RuntimeError, match=r"worker rank 1 failed \(exit code -9\)"):
        TJEPATransformer(**{**PARAMS, "max_epochs": 50, "backend": "torchrun", "n_procs": 2}).fit(table(128))
    raised = time.time()
    killed = float((log / "killed-at").read_text())
    record_property("seconds_from_kill_to_error", round(raised - killed, 2))  # in the JUnit XML report
    assert raised - killed < 60
    workers = [int(p.name.split("-")[1]) for p in log.glob("pid-*")]
    assert len(workers) == 2
    assert [pid for pid in workers if _alive(pid)] == []
    assert _children(os.getpid()) <= before


# ---------------------------------------------------------------- two nodes on one machine


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_nodes_on_one_machine_train_like_one_node(tmp_path, no_launcher_env):
    """Two launcher processes (n_nodes=2, one worker each) meet at a localhost endpoint; the
    fitted encoder equals that of one node with two workers (the same global batch of 32)."""
    n_rows = 96
    node = {**PARAMS, "backend": "torchrun", "n_procs": 1, "n_nodes": 2, "rdzv_endpoint": f"localhost:{_free_port()}"}
    command = [sys.executable, "-c", FIT_SCRIPT, json.dumps(node), str(n_rows)]
    launchers = [
        subprocess.Popen(command + [str(tmp_path / f"node{i}.npy")], cwd=REPO, env=_environment(),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        for i in range(2)
    ]
    try:
        outputs = [launcher.communicate(timeout=420)[0] for launcher in launchers]
    finally:
        for launcher in launchers:
            if launcher.poll() is None:
                os.killpg(launcher.pid, signal.SIGKILL)
    assert [launcher.returncode for launcher in launchers] == [0, 0], outputs
    one_node = TJEPATransformer(**{**PARAMS, "backend": "torchrun", "n_procs": 2}).fit(table(n_rows))
    expected = one_node.transform(table(n_rows))
    for i in range(2):
        np.testing.assert_array_equal(np.load(tmp_path / f"node{i}.npy"), expected)
