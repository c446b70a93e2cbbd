"""Mini-batch training and evaluation of a model's -ELBO.

One epoch: shuffle the training set with the run's Generator, walk it in mini-batches,
and for each batch compute the loss and gradients (``model.loss_and_grads``) and take
one optimizer step. After each epoch the model is evaluated on the test set. All
randomness (shuffling, eps, dynamic binarization) comes from one explicit Generator, so
the same seed gives the same history, bit for bit.

Every number is in nats per image: reconstruction summed over pixels, KL summed over
latent dimensions, both averaged over images.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .data.dataset import BINARIZATIONS, binarize_dynamic
from .plumbing.checks import check_generator, check_positive_int
from .plumbing.progress import tqdm


@dataclass(frozen=True)
class LossParts:
    """A mini-batch's loss and its two terms, each averaged over the batch: what every
    model's ``loss`` and ``loss_and_grads`` return, and what the training loop reads.

    loss = recon + beta * kl, where recon = mean_n -log p(x_n|z_n) (nats per image,
    summed over pixels) and kl = mean_n KL(q(z|x_n) || p(z)) (summed over latent dims).
    Models without a KL term (the autoencoder, the autoregressive model) report kl = 0.
    """

    loss: float
    recon: float
    kl: float


def kl_weight(epoch: int, beta: float, kl_warmup: int) -> float:
    """KL weight for 1-based ``epoch``: beta * min(1, epoch / kl_warmup) (beta if no warm-up)."""
    if kl_warmup < 0:
        raise ValueError(f"kl_warmup must be >= 0, got {kl_warmup}")
    return beta if kl_warmup == 0 else beta * min(1.0, epoch / kl_warmup)


def _batch(x, idx, binarize, rng):
    xb = x[idx]
    return binarize_dynamic(xb, rng) if binarize == "dynamic" else xb


def _labels(y, idx):
    """The batch's labels for a conditional model, and no keyword at all for the others."""
    return {} if y is None else {"y": y[idx]}


def evaluate(model, params, x: np.ndarray, rng: np.random.Generator, batch_size: int = 1000,
             binarize: str | None = None, y: np.ndarray | None = None) -> dict[str, float]:
    """Test -ELBO of ``x`` (N, D) with one z ~ q(z|x) per image (k with objective='iwae'), batched.

    Returns {'loss', 'recon', 'kl'}, each averaged over the N images (beta = 1: the
    true -ELBO, whatever weight training used). ``y`` (N,): a conditional model's labels.
    """
    check_positive_int("batch_size", batch_size)
    x = x.astype(params.flat.dtype, copy=False)
    totals = np.zeros(2)
    for start in range(0, x.shape[0], batch_size):
        idx = np.arange(start, min(start + batch_size, x.shape[0]))
        parts = model.loss(params, _batch(x, idx, binarize, rng), rng=rng, **_labels(y, idx))
        totals += len(idx) * np.array([parts.recon, parts.kl])
    recon, kl = totals / x.shape[0]
    return {"loss": recon + kl, "recon": recon, "kl": kl}


def train_epoch(model, params, x, optimizer, opt_state: dict, rng: np.random.Generator, *,
                batch_size: int = 128, beta: float = 1.0, binarize: str | None = None,
                grads=None, progress: bool = False, desc: str = "",
                y: np.ndarray | None = None) -> dict[str, float]:
    """One pass over ``x`` (N, D) (and labels ``y`` (N,)) in shuffled mini-batches;
    updates params in place.

    Returns the epoch's averages {'loss', 'recon', 'kl'} of the true -ELBO (beta = 1)
    over the batches, as the parameters were when each batch was seen (for
    objective='iwae', the ELBO's terms averaged over the same k draws as L_k).
    """
    n = x.shape[0]
    order = rng.permutation(n)
    grads = params.zeros_like() if grads is None else grads
    totals = np.zeros(2)
    starts = range(0, n, batch_size)
    for step, start in enumerate(tqdm(starts, desc=desc, disable=not progress, leave=False)):
        idx = order[start:start + batch_size]
        parts, _ = model.loss_and_grads(
            params, _batch(x, idx, binarize, rng), rng=rng, beta=beta, out=grads, **_labels(y, idx)
        )
        if not np.isfinite(parts.loss):
            raise FloatingPointError(
                f"training diverged at step {step} of this epoch: loss is {parts.loss} "
                "(try a smaller learning rate)"
            )
        optimizer.step(params, grads, opt_state)
        totals += len(idx) * np.array([parts.recon, parts.kl])
    recon, kl = totals / n
    return {"loss": recon + kl, "recon": recon, "kl": kl}


def fit(model, params, train_x: np.ndarray, test_x: np.ndarray, *, optimizer, epochs: int,
        rng: np.random.Generator, batch_size: int = 128, beta: float = 1.0, kl_warmup: int = 0,
        binarize: str | None = None, opt_state: dict | None = None, start_epoch: int = 0,
        progress: bool = False, on_epoch_end: Callable[[dict, dict], None] | None = None,
        train_y: np.ndarray | None = None, test_y: np.ndarray | None = None) -> list[dict]:
    """Train for epochs start_epoch+1 .. epochs; return one history record per epoch.

    ``train_y``, ``test_y``: the labels, for a conditional model (``ModelConfig(classes=C)``).

    Each record: epoch, beta (the KL weight used), binarize, train_loss/recon/kl,
    test_loss/recon/kl, seconds. ``on_epoch_end(record, opt_state)`` runs after each
    epoch (the command line writes metrics and a checkpoint there). Pass the
    ``opt_state`` and ``start_epoch`` of a checkpoint to continue a run.
    """
    check_positive_int("batch_size", batch_size)
    _check_schedule(model, epochs, start_epoch, beta, kl_warmup)
    if binarize not in BINARIZATIONS:
        raise ValueError(f"binarize must be one of {BINARIZATIONS}, got {binarize!r}")
    check_generator("rng", rng)
    dtype = params.flat.dtype
    train_x, train_y = _checked(model, train_x, train_y, dtype)
    test_x, test_y = _checked(model, test_x, test_y, dtype)
    opt_state = optimizer.init(params) if opt_state is None else opt_state
    grads = params.zeros_like()
    history = []
    for epoch in range(start_epoch + 1, epochs + 1):
        t0 = time.perf_counter()
        weight = kl_weight(epoch, beta, kl_warmup)
        train = train_epoch(model, params, train_x, optimizer, opt_state, rng,
                            batch_size=batch_size, beta=weight, binarize=binarize,
                            grads=grads, progress=progress, desc=f"epoch {epoch}/{epochs}", y=train_y)
        seconds = time.perf_counter() - t0
        test = evaluate(model, params, test_x, rng, binarize=binarize, y=test_y)
        record = {"epoch": epoch, "beta": weight, "binarize": binarize or "none",
                  **{f"train_{k}": v for k, v in train.items()},
                  **{f"test_{k}": v for k, v in test.items()}, "seconds": seconds}
        history.append(record)
        if on_epoch_end is not None:
            on_epoch_end(record, opt_state)
    return history


def _whole(name: str, value, lowest: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lowest:
        raise ValueError(f"{name} must be a whole number >= {lowest}, got {value!r}")
    return int(value)


def _check_schedule(model, epochs, start_epoch, beta, kl_warmup) -> None:
    """The epochs and the KL weight's schedule, refused before any work with a named message."""
    epochs, start_epoch = _whole("epochs", epochs, 0), _whole("start_epoch", start_epoch, 0)
    if start_epoch > epochs:
        raise ValueError(f"start_epoch ({start_epoch}) must not exceed epochs ({epochs})")
    if not (isinstance(beta, (int, float, np.floating)) and np.isfinite(beta) and beta >= 0):
        raise ValueError(f"beta must be a finite number >= 0, got {beta!r}")
    _whole("kl_warmup", kl_warmup, 0)
    if getattr(getattr(model, "config", None), "objective", "elbo") == "iwae" and (beta != 1 or kl_warmup):
        raise ValueError(f"beta and kl_warmup weight the ELBO's KL term; objective='iwae' has none "
                         f"(got beta={beta}, kl_warmup={kl_warmup})")


def _checked(model, x, y, dtype):
    """(x in the parameters' dtype, y), both checked by the model."""
    x, y = model.check_data(x, y)
    return x.astype(dtype, copy=False), y


def format_record(record: dict) -> str:
    """One metrics line, e.g. 'epoch 3  train -ELBO 31.2 (rec 28.1 + KL 3.1)  test ...'."""
    return (
        f"epoch {record['epoch']:3d}  [binarize={record['binarize']}, beta={record['beta']:.3g}]  "
        f"train -ELBO {record['train_loss']:8.3f} (rec {record['train_recon']:8.3f} + KL "
        f"{record['train_kl']:6.3f})  test -ELBO {record['test_loss']:8.3f} (rec "
        f"{record['test_recon']:8.3f} + KL {record['test_kl']:6.3f})  {record['seconds']:.2f}s"
    )
