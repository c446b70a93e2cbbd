"""Reproduce published VAE figures with numvae, setup for setup (issue 18).

Each NAME is a published setup -- network, data, binarization, optimizer, schedule and the
evaluation protocol behind its figures -- read in its sources (``reproduce_setups.py``
cites them file by file). The script trains with numvae's own ``train_epoch`` and Adam,
measures with ``VAE.elbo_terms`` and ``importance_estimates``, and compares each figure
with the published one and its tolerance.

    python benchmarks/reproduce.py --list
    python benchmarks/reproduce.py cs236-vae --data-dir ~/data --json cs236-vae.json
    python benchmarks/reproduce.py burda-vae --epochs 40 --out runs/burda-vae   # a prefix of 3,280
    python benchmarks/reproduce.py cs236-vae --dataset digits --steps 20         # a smoke run

The run folder (--out, default runs/reproduce/NAME) holds numvae's checkpoint after every
epoch (parameters, Adam's state, the Generator's state, the history), the evaluations so
far and, for setups that choose an epoch by validation, the best parameters. Run the same
command again after an interruption and it continues where it stopped, to the same
numbers as a run that never stopped; a larger --epochs continues a shorter run.

--epochs E / --steps S run a prefix of the published schedule (E passes, S mini-batches)
when the whole one does not fit; the JSON says what ran next to what was published.
--eval-images N / --eval-k K measure on the first N evaluation images or with K importance
samples only (cheaper; the JSON says so). --dataset digits swaps in the embedded 8x8
digits for smoke tests. Data: --data-dir or $NUMVAE_DATA_DIR, never downloaded.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's numvae first
sys.path.insert(0, str(Path(__file__).resolve().parent))

from reproduce_data import DataError, evaluation_images, load_data  # noqa: E402
from reproduce_setups import SETUPS, Evaluation, Setup, glorot_bound  # noqa: E402

import numvae as nv  # noqa: E402
from numvae.plumbing.atomic import atomic_write_json  # noqa: E402
from numvae.plumbing.checkpoint import Checkpoint, load_checkpoint, save_checkpoint  # noqa: E402

TRAINING_KEYS = ("setup", "seed", "dataset", "limit", "train_images")  # what a resumed run must share


class ReproduceError(Exception):
    """A problem the user can fix (missing data, a folder of another run): one line, status 2."""


# ----- the model as the source starts it -----------------------------------------------------
def init_params(setup: Setup, model, train_x: np.ndarray, rng: np.random.Generator):
    params = model.init_params(rng)  # PyTorch's nn.Linear initialisation (CS236, pythae)
    if setup.init == "glorot":  # Burda et al.: U(+-sqrt(6 / (fan_in + fan_out))), zero biases
        for name, w in params.items():
            if name.endswith(".W"):
                w[...] = rng.uniform(-1, 1, w.shape) * glorot_bound(*w.shape)
                params[name[:-2] + ".b"][...] = 0
        params["enc.logvar.W"][...] *= 2  # their head is log sigma; logvar = 2 log sigma
        mean = np.clip(train_x.mean(axis=0), 1e-3, 1 - 1e-3)
        params["dec.out.b"][...] = np.log(mean / (1 - mean))  # logit of the training mean
    if setup.prior_init == "cs236":  # z_pre ~ randn(2C, K) / sqrt(C K): means, softplus variances
        c, k = params["prior.means"].shape
        pre = rng.standard_normal((2 * c, k)) / np.sqrt(c * k)
        params["prior.means"][...] = pre[:c]
        params["prior.logvars"][...] = np.log(np.logaddexp(0, pre[c:]) + 1e-8)
        params["prior.logits"][...] = 0  # uniform weights
    return params


class KeepFixed:
    """``optimizer``, except that the ``names`` parameters never move from their initial values.

    Their gradients are zeroed before every step, so Adam's moments for them stay 0 and so
    does their update, m_hat / (sqrt(v_hat) + eps) = 0 / eps, exactly (CS236 keeps its
    mixture weights fixed and uniform where numvae's MixturePrior learns them).
    """

    def __init__(self, optimizer, names: tuple[str, ...]):
        self.optimizer, self.names = optimizer, names

    def step(self, params, grads, state: dict) -> None:
        for name in self.names:
            grads[name][...] = 0
        self.optimizer.step(params, grads, state)


def plan(setup: Setup, n_train: int, max_epochs: int | None, max_steps: int | None) -> list[dict]:
    """The schedule as units of work: one epoch each, or the part-epoch an iteration count ends on."""
    per_epoch = -(-n_train // setup.batch_size)
    units = []
    for i, stage in enumerate(setup.stages):
        full, rest = (stage.epochs, 0) if stage.epochs else divmod(stage.iterations, per_epoch)
        units += [{"stage": i, "lr": stage.lr, "batches": per_epoch} for _ in range(full)]
        units += [{"stage": i, "lr": stage.lr, "batches": rest}] if rest else []
    for u, unit in enumerate(units):
        unit["stage_end"] = u == len(units) - 1 or units[u + 1]["stage"] != unit["stage"]
    units = units[:max_epochs] if max_epochs is not None else units
    if max_steps is not None:
        done, cut = 0, []
        for unit in units:
            if done >= max_steps:
                break
            cut.append(dict(unit, batches=min(unit["batches"], max_steps - done)))
            done += cut[-1]["batches"]
        units = cut
    if units:
        units[-1] = dict(units[-1], stage_end=True)  # a cut schedule is measured where it stops
    return units


# ----- measuring -----------------------------------------------------------------------------
def evaluate(model, params, x: np.ndarray, protocol: Evaluation, rng: np.random.Generator,
             progress: bool) -> dict:
    """-ELBO (its KL and reconstruction) and each -L_k on ``x``, as the source measures them."""
    log_px, kl = [], []
    for _ in range(protocol.elbo_repeats):  # single-draw estimates, averaged over repeats
        for start in range(0, len(x), 1000):
            a, b = model.elbo_terms(params, x[start:start + 1000], rng=rng)
            log_px.append(a)
            kl.append(b)
    rec, kl_mean = -float(np.mean(np.concatenate(log_px))), float(np.mean(np.concatenate(kl)))
    figures, spread = {"negative_elbo": rec + kl_mean, "kl": kl_mean, "reconstruction": rec}, {}
    for k, repeats in protocol.ks.items():
        rounds = [-float(np.mean(nv.importance_estimates(model, params, x, k, rng, progress=progress)[1]))
                  for _ in range(repeats)]
        figures[f"negative_L_{k}"] = float(np.mean(rounds))
        if repeats > 1:  # pythae reports the spread of its 5 rounds
            spread[f"negative_L_{k}"] = float(np.std(rounds))
    return figures, spread


# ----- the run -------------------------------------------------------------------------------
def run(args, setup: Setup) -> dict:
    wall0, load0 = time.perf_counter(), os.getloadavg()
    data = load_data(setup, args)
    protocol = setup.evaluation
    if args.eval_k:
        protocol = replace(protocol, ks={args.eval_k: 1})
    eval_x, eval_about = evaluation_images(setup, data, args.eval_images)
    train_x = data["train"]
    model = nv.VAE(nv.ModelConfig(input_dim=train_x.shape[1], **setup.model))
    units = plan(setup, len(train_x), args.epochs, args.steps)
    settings = json.loads(json.dumps({  # as the checkpoint stores it (JSON), to compare on resume
        "setup": setup.name, "seed": args.seed, "dataset": data["name"], "limit": args.limit,
        "train_images": len(train_x), "eval": asdict(protocol), "eval_images": len(eval_x)}))
    folder = Path(args.out or f"runs/reproduce/{setup.name}")
    files = ("checkpoint.npz", "evaluations.json", "best.npz")
    ckpt_path, evals_path, best_path = (folder / f for f in files)
    if args.overwrite:
        for p in (ckpt_path, evals_path, best_path):
            p.unlink(missing_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    if ckpt_path.is_file():
        ckpt = load_checkpoint(ckpt_path, model.param_shapes())
        trained = {k: ckpt.config.get(k) for k in TRAINING_KEYS}
        if trained != {k: settings[k] for k in TRAINING_KEYS}:  # measuring may differ, training not
            raise ReproduceError(f"{folder} holds another run ({trained}); "
                                 "pass --overwrite or another --out")
        done = [(r["stage"], r["batches"]) for r in ckpt.history]
        if done != [(u["stage"], u["batches"]) for u in units[:len(done)]]:
            raise ReproduceError(f"{folder} was trained on another prefix of the schedule "
                                 f"({len(done)} epochs); pass the same --steps, or --overwrite")
        params, opt_state, rng, history = ckpt.params, ckpt.opt_state, ckpt.rng, ckpt.history
        stored = ckpt.config
    else:
        stored = {}
        rng = np.random.default_rng(args.seed)
        params = init_params(setup, model, train_x, rng)
        opt_state, history = nv.Adam().init(params), []
    evals = json.loads(evals_path.read_text()) if evals_path.is_file() else []
    for e in evals:  # written before evaluations said how: by the protocol the checkpoint then stored
        e.setdefault("how", {"eval": stored.get("eval"), "eval_images": stored.get("eval_images")})
    best = load_checkpoint(best_path).params if setup.select_on_valid and best_path.is_file() else None

    def measure(u: int) -> None:  # after unit u (0-based) ends a stage or the run
        stage_only = u != len(units) - 1 and (args.final_only or not setup.measure_stages)
        how = {"eval": settings["eval"], "eval_images": settings["eval_images"]}
        if stage_only or any(e["epoch"] == u + 1 and e["how"] == how for e in evals):
            return
        t0 = time.perf_counter()
        which = best if setup.select_on_valid and best is not None else params
        figures, spread = evaluate(model, which, eval_x, protocol, np.random.default_rng([args.seed, 1, u]),
                                   progress=not args.no_progress)
        evals[:] = [e for e in evals if e["epoch"] != u + 1]  # measured otherwise before: replaced
        steps = sum(r["batches"] for r in history)
        evals.append({"epoch": u + 1, "how": how, "stage": units[u]["stage"], "steps": steps,
                      "figures": figures, "std_over_rounds": spread, "seconds": time.perf_counter() - t0,
                      "params": f"best validation epoch {best_epoch(history)}" if setup.select_on_valid
                      else "final"})
        atomic_write_json(evals_path, evals, indent=1)
        tqdm.write(f"{setup.name} after epoch {u + 1} (stage {units[u]['stage']}): " +
                   "  ".join(f"{k} {v:.3f}" for k, v in figures.items()))

    if history and units[len(history) - 1]["stage_end"]:
        measure(len(history) - 1)  # interrupted while measuring
    grads = params.zeros_like()
    bar = tqdm(total=sum(u["batches"] for u in units), initial=sum(r["batches"] for r in history),
               desc=setup.name, unit="step", disable=args.no_progress, smoothing=0.05)
    for u in range(len(history), len(units)):
        unit, t0 = units[u], time.perf_counter()
        xb = train_x
        if unit["batches"] * setup.batch_size < len(train_x):  # an iteration count ends mid-epoch
            xb = train_x[rng.permutation(len(train_x))[:unit["batches"] * setup.batch_size]]
        optimizer = KeepFixed(nv.Adam(lr=unit["lr"], **setup.adam), setup.fixed)  # a new rate, the same state
        stats = nv.train_epoch(model, params, xb, optimizer, opt_state, rng, batch_size=setup.batch_size,
                               binarize=data["binarize"], grads=grads, progress=args.inner_progress,
                               desc=f"epoch {u + 1}")
        record = {"epoch": u + 1, "stage": unit["stage"], "lr": unit["lr"], "batches": unit["batches"],
                  **{f"train_{k}": v for k, v in stats.items()}}
        if setup.select_on_valid:  # pythae keeps the model of the lowest validation loss
            valid_rng = np.random.default_rng([args.seed, 3, u])
            record["valid_loss"] = nv.evaluate(model, params, data["valid"], valid_rng)["loss"]
            if record["valid_loss"] <= min([r["valid_loss"] for r in history] + [np.inf]):
                best = params.copy()
                save_checkpoint(best_path, Checkpoint(best, {}, rng, u + 1, settings, []))
        record["seconds"] = time.perf_counter() - t0
        history.append(record)
        save_checkpoint(ckpt_path, Checkpoint(params, opt_state, rng, u + 1, settings, history))
        bar.update(unit["batches"])
        bar.set_postfix(loss=f"{stats['loss']:.2f}")
        tqdm.write(f"epoch {u + 1}/{len(units)} lr {unit['lr']:.3g}: train -ELBO {stats['loss']:.3f} "
                   f"(rec {stats['recon']:.3f} + KL {stats['kl']:.3f})" +
                   (f"  valid -ELBO {record['valid_loss']:.3f}" if "valid_loss" in record else "") +
                   f"  {record['seconds']:.1f}s")
        if args.interrupt_after and u + 1 == args.interrupt_after:
            raise KeyboardInterrupt  # tests: an interruption right after a checkpoint
        if unit["stage_end"]:
            measure(u)
    bar.close()
    return report(setup, args, units, history, evals, settings, eval_about,
                  wall=time.perf_counter() - wall0, load=(load0, os.getloadavg()), n_train=len(train_x))


def best_epoch(history: list[dict]) -> int:
    return min(history, key=lambda r: r["valid_loss"])["epoch"]


def report(setup, args, units, history, evals, settings, eval_about, wall, load, n_train) -> dict:
    per_epoch = -(-n_train // setup.batch_size)
    figures = next((e["figures"] for e in evals if e["epoch"] == len(units)), {})
    published_steps = sum(s.iterations or s.epochs * per_epoch for s in setup.stages)
    return {
        "setup": setup.name, "title": setup.title, "settings": settings,
        "model": setup.model, "batch_size": setup.batch_size, "adam": {"lr": "per stage", **setup.adam},
        "init": setup.init, "prior_init": setup.prior_init, "select_on_valid": setup.select_on_valid,
        "fixed": list(setup.fixed),
        "data": {"train": f"{settings['dataset']} training set, first {n_train} images, binarized "
                          + ("dynamically (a fresh draw every batch)" if setup.binarize == "dynamic"
                             else "statically (fixed)"),
                 "evaluation": eval_about},
        "schedule": {"published": [asdict(s) for s in setup.stages], "published_steps": published_steps,
                     "run_epochs": len(units), "run_steps": sum(u["batches"] for u in units),
                     "complete": len(units) == len(plan(setup, n_train, None, None))
                     and sum(u["batches"] for u in units) == published_steps},
        "figures": figures,
        "published": {k: asdict(t) for k, t in setup.targets.items()},
        "within_tolerance": {k: abs(figures[k] - t.value) <= t.tolerance
                             for k, t in setup.targets.items() if k in figures},
        "evaluations": evals, "differences": list(setup.differences),
        "seconds": {"train": sum(r["seconds"] for r in history), "evaluate": sum(e["seconds"] for e in evals),
                    "this_invocation_wall": wall, "this_invocation_cpu": cpu_seconds()},
        "machine": {"cpu": cpu_name(), "cores": os.cpu_count(), "python": platform.python_version(),
                    "numpy": np.__version__, "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
                    "load_average_start": load[0], "load_average_end": load[1]},
        "history": history,
    }


def cpu_seconds() -> float | None:
    """User + system CPU time of this process so far: the time a run needs when it has a core to itself."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def print_summary(result: dict) -> None:
    print(f"\n{result['title']}  ({result['schedule']['run_steps']} of "
          f"{result['schedule']['published_steps']} published steps)")
    for key, target in result["published"].items():
        ours = result["figures"].get(key)
        mark = "" if ours is None else ("within" if result["within_tolerance"][key] else "OUTSIDE")
        print(f"  {key:18s} published {target['value']:7.2f} +- {target['tolerance']:<4g} numvae "
              + ("   n/a" if ours is None else f"{ours:7.2f}  {mark}"))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name", nargs="?", help="the setup to run (see --list)")
    p.add_argument("--list", action="store_true", help="list the setups and exit")
    p.add_argument("--out", help="run folder (default runs/reproduce/NAME); resumed if it holds this run")
    p.add_argument("--json", help="write the figures and everything about the run to this file")
    p.add_argument("--data-dir", help="folder holding mnist/ and binarized_mnist/ (else $NUMVAE_DATA_DIR)")
    p.add_argument("--dataset", choices=["digits"], help="the embedded 8x8 digits instead (smoke tests)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, help="run only the first E epochs of the published schedule")
    p.add_argument("--steps", type=int, help="run only the first S mini-batches of the published schedule")
    p.add_argument("--limit", type=int, help="use only the first N training images")
    p.add_argument("--eval-images", type=int, help="measure on the first N evaluation images only")
    p.add_argument("--eval-k", type=int, help="measure -L_K with this K only, instead of the published k")
    p.add_argument("--final-only", action="store_true", help="measure at the end only, not after each stage")
    p.add_argument("--overwrite", action="store_true", help="start afresh in a folder that holds a run")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--interrupt-after", type=int, help=argparse.SUPPRESS)  # tests: stop after epoch N
    args = p.parse_args(argv)
    args.inner_progress = not args.no_progress and sys.stderr.isatty()
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.list:
        width = max(len(name) for name in SETUPS)
        for s in SETUPS.values():
            print(f"{s.name:{width}s}  {s.title}")
        return 0
    if args.name not in SETUPS:
        what = "name a setup" if args.name is None else f"unknown setup {args.name!r}"
        print(f"reproduce: {what}; choose one of {', '.join(SETUPS)} (--list)", file=sys.stderr)
        return 2
    try:
        result = run(args, SETUPS[args.name])
    except (ReproduceError, DataError) as err:
        print(f"reproduce: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nreproduce: interrupted; run the same command again to continue", file=sys.stderr)
        return 130
    print_summary(result)
    if args.json:
        atomic_write_json(args.json, result)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
