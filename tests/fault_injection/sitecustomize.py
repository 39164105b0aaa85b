"""Fault injector for the reliability tests, loaded at start-up by every Python process whose
``PYTHONPATH`` holds this directory (a test's subprocess and the workers it spawns).

It does nothing unless ``SKLEARN_TJEPA_FAULT`` is set, to ``"<where>:<n>:<whom>"``:

- where ``save``: the ``n``-th ``torch.save`` call to a file (a checkpoint; pickling a tensor
  calls ``torch.save`` on a ``BytesIO``) writes half of its bytes, then the kill comes;
  where ``step``: the kill comes just before the ``n``-th optimiser step;
- whom ``self``: SIGKILL this process; ``group``: SIGKILL its whole process group (the launcher
  and every worker, as when a node is lost).

Only a process whose ``RANK`` (``"0"`` when unset) equals ``SKLEARN_TJEPA_FAULT_RANK`` (default
``"0"``) injects the fault; the rank is read at each call, since launched workers receive their
``RANK`` after start-up. With ``SKLEARN_TJEPA_FAULT_LOG`` set to a directory, every process that
takes an optimiser step writes a file ``pid-<pid>`` there at its first step, and the killer
writes ``killed-at`` (its ``time.time()``) just before the kill.
"""

import os


def _install(where: str, n: int, whom: str) -> None:
    import io
    import signal
    import time

    import torch
    from torch.optim.optimizer import register_optimizer_step_pre_hook

    log = os.environ.get("SKLEARN_TJEPA_FAULT_LOG")
    calls = {"save": 0, "step": 0}

    def chosen() -> bool:
        return os.environ.get("RANK", "0") == os.environ.get("SKLEARN_TJEPA_FAULT_RANK", "0")

    def kill():
        if log:
            with open(os.path.join(log, "killed-at"), "w") as stream:
                stream.write(repr(time.time()))
        if whom == "group":
            os.killpg(os.getpgid(0), signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGKILL)

    original_save = torch.save

    def save(obj, f, *args, **kwargs):
        if where == "save" and chosen() and not isinstance(f, io.BytesIO):  # pickled tensors use BytesIO
            calls["save"] += 1
            if calls["save"] == n:
                buffer = io.BytesIO()
                original_save(obj, buffer, *args, **kwargs)
                f.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])
                f.flush()
                kill()
        return original_save(obj, f, *args, **kwargs)

    def before_step(optimizer, args, kwargs):
        if log and calls["step"] == 0:
            open(os.path.join(log, f"pid-{os.getpid()}"), "w").close()
        calls["step"] += 1
        if where == "step" and chosen() and calls["step"] == n:
            kill()

    torch.save = save
    register_optimizer_step_pre_hook(before_step)


if os.environ.get("SKLEARN_TJEPA_FAULT"):
    _where, _n, _whom = os.environ["SKLEARN_TJEPA_FAULT"].split(":")
    _install(_where, int(_n), _whom)
