"""The child process that runs one of bench_train.py's baselines, epoch by epoch on request.

A baseline (``torch_vae`` or ``plain_numpy_vae``, beside this file) runs in a fresh
interpreter so that neither PyTorch nor the baseline's arrays ever enter the process
whose memory the benchmark reports for numvae. Each baseline module provides
``describe()`` (its version; ImportError when it cannot run here) and a ``Trainer`` with
``epoch()``, ``evaluate()`` and ``subnormals()``.
"""

from __future__ import annotations

import importlib
import sys


def peak_rss_bytes() -> int | None:
    """This process's own peak resident memory.

    Linux's VmHWM is the high-water mark of this process's memory alone. ru_maxrss is the
    fallback elsewhere; on Linux it would also count the parent's size at the moment it
    started this child (a spawned process inherits that figure through fork and exec).
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import resource
    except ImportError:  # Windows
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)


def serve(conn, baseline: str, data: dict, batch_size: int, lr: float, seed: int) -> None:
    """Load the data, take numvae's starting point, then answer 'epoch', 'evaluate',
    'subnormals' and 'stop' requests over ``conn``.

    ``data`` holds load_dataset's arguments, the --limit and ``pad_to`` (None, or the
    (height, width) the images are zero-padded to for --arch conv): the child reads the files
    itself, as cheap as sending 200 MB through a pipe and without doubling the parent's memory.
    The starting point is a dict: ``params`` (numvae's initial parameters) and ``options``
    (extra keyword arguments of the baseline's Trainer).
    """
    try:
        module = importlib.import_module(baseline)
        about = module.describe()
    except ImportError as err:
        conn.send({"error": str(err)})
        return
    import numvae as nv

    limit, pad_to = data.pop("limit"), data.pop("pad_to", None)
    train, test = nv.load_dataset(split="train", **data), nv.load_dataset(split="test", **data)
    if pad_to is not None:  # the convolutional benchmark's 32x32 images, as the parent's
        train, test = nv.data.pad_dataset(train, pad_to), nv.data.pad_dataset(test, pad_to)
    train_x, test_x = train.x[:limit], test.x[:limit]
    conn.send({"loaded": True, **about})
    start = conn.recv()
    trainer = module.Trainer(start["params"], train_x, test_x, batch_size=batch_size, lr=lr, seed=seed,
                             **start["options"])
    conn.send({"ready": True})
    while True:
        request = conn.recv()
        if request == "epoch":
            conn.send(trainer.epoch())
        elif request == "evaluate":
            conn.send({"test_loss": trainer.evaluate()})
        elif request == "subnormals":
            conn.send(trainer.subnormals())
        else:  # "stop": report this process's peak memory and leave
            conn.send({"peak_rss_bytes": peak_rss_bytes()})
            return
