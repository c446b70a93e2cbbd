"""How fast are numvae's convolutions, next to PyTorch, at the convolutional VAE's shapes?

The conv VAE of issue 17 on 32x32 MNIST, batch 128, float32, 3x3 kernels, stride 2,
padding 1: encoder conv 1 -> 32 -> 64 channels, decoder transposed conv 64 -> 32 -> 1
(output_padding 1). For each layer: forward and backward time of numvae and of PyTorch
(2 threads), alternating repeat by repeat so that both see the same machine load; the
multiply-adds of its matrix products and the GFLOP/s they reach; numvae's peak extra
memory (tracemalloc, which sees NumPy's allocations) and the im2col/col2im matrices.

    python benchmarks/bench_conv.py                   # the four layers, numvae vs PyTorch
    python benchmarks/bench_conv.py --repeats 40      # more repeats on a noisy machine
    python benchmarks/bench_conv.py --alternatives    # conv2d's dx three ways (see below)

--alternatives times three ways to compute the transposed convolution (= conv2d's dx)
at the decoder's two shapes: numvae's col2im (one product, then the patches added back
with np.bincount); zero insertion (insert s-1 zeros between the pixels, pad by K-1-p,
im2col at stride 1 with the flipped, channel-swapped kernel, one product); and sub-pixel
(split the kernel into s*s stride-1 kernels, one product for all, then interleave the
s*s output images). It checks that all three agree and reports their peak memory.

Absolute times depend on the machine and on what else it runs: the load average is
printed before and after; compare ratios, and re-run on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

# The numvae beside this script, even when another copy is pip-installed.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_train import cpu_name, matmul_gflops  # noqa: E402

import numvae as nv  # noqa: E402
from numvae.cli.options import positive_int  # noqa: E402

MIB = 2**20
BATCH = 128

# (name, kind, x shape without the batch, W shape, output_padding, needs dx)
LAYERS = [
    ("enc.conv1", "conv", (1, 32, 32), (32, 1, 3, 3), 0, False),
    ("enc.conv2", "conv", (32, 16, 16), (64, 32, 3, 3), 0, True),
    ("dec.tconv1", "tconv", (64, 8, 8), (64, 32, 3, 3), 1, True),
    ("dec.tconv2", "tconv", (32, 16, 16), (32, 1, 3, 3), 1, True),
]
STRIDE, PADDING = 2, 1


# ----- one layer, numvae and PyTorch ---------------------------------------------------------
class Layer:
    """One layer's arrays and its numvae and PyTorch forward/backward steps."""

    def __init__(self, name, kind, x_shape, W_shape, output_padding, needs_dx, batch, rng):
        self.name, self.kind, self.needs_dx, self.op = name, kind, needs_dx, output_padding
        self.x = rng.standard_normal((batch, *x_shape), dtype=np.float32)
        self.W = rng.standard_normal(W_shape, dtype=np.float32) * 0.1
        self.b = np.zeros(W_shape[0] if kind == "conv" else W_shape[1], np.float32)
        if kind == "conv":
            self.forward = lambda: nv.conv2d_forward(self.x, self.W, self.b, STRIDE, PADDING)
            self.backward = lambda g, c: nv.conv2d_backward(g, c, compute_dx=needs_dx)
            self.out_shape = nv.conv2d_output_shape(self.x.shape, W_shape, STRIDE, PADDING)
            self.macs = nv.conv2d_multiply_adds(self.x.shape, W_shape, STRIDE, PADDING)
        else:
            self.forward = lambda: nv.conv_transpose2d_forward(self.x, self.W, self.b, STRIDE, PADDING,
                                                               output_padding)
            self.backward = lambda g, c: nv.conv_transpose2d_backward(g, c, compute_dx=needs_dx)
            self.out_shape = nv.conv_transpose2d_output_shape(self.x.shape, W_shape, STRIDE, PADDING,
                                                              output_padding)
            self.macs = nv.conv_transpose2d_multiply_adds(self.x.shape, W_shape, STRIDE, PADDING,
                                                          output_padding)
        self.dout = rng.standard_normal(self.out_shape, dtype=np.float32)
        self.products = 3 if needs_dx else 2  # forward, dW, and dx when asked

    def numvae_step(self) -> tuple[float, float]:
        t0 = time.perf_counter()
        _, cache = self.forward()
        t1 = time.perf_counter()
        self.backward(self.dout, cache)
        return t1 - t0, time.perf_counter() - t1

    def torch_setup(self):
        import torch
        import torch.nn.functional as F
        self.tx = torch.from_numpy(self.x).requires_grad_(self.needs_dx)
        self.tW = torch.from_numpy(self.W.copy()).requires_grad_(True)
        self.tb = torch.from_numpy(self.b.copy()).requires_grad_(True)
        self.tdout = torch.from_numpy(self.dout)
        if self.kind == "conv":
            self.torch_forward = lambda: F.conv2d(self.tx, self.tW, self.tb, stride=STRIDE, padding=PADDING)
        else:
            self.torch_forward = lambda: F.conv_transpose2d(self.tx, self.tW, self.tb, stride=STRIDE,
                                                            padding=PADDING, output_padding=self.op)

    def torch_step(self) -> tuple[float, float]:
        self.tx.grad = self.tW.grad = self.tb.grad = None  # no accumulation into old gradients
        t0 = time.perf_counter()
        out = self.torch_forward()
        t1 = time.perf_counter()
        out.backward(self.tdout)
        return t1 - t0, time.perf_counter() - t1

    def numvae_peak_bytes(self) -> int:
        """Peak NumPy memory allocated during one forward + backward (inputs excluded)."""
        tracemalloc.start()
        tracemalloc.reset_peak()
        _, cache = self.forward()
        self.backward(self.dout, cache)
        del cache
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak

    def matrices(self) -> str:
        """The im2col matrix of the layer (forward for conv2d, backward for the transposed)."""
        C, H, W = (self.x.shape[1:] if self.kind == "conv" else self.out_shape[1:])
        KH, KW = self.W.shape[2:]
        cols = nv.im2col(np.empty((1, C, H, W), np.float32), (KH, KW), STRIDE, PADDING)
        rows, cols_per_image = cols.shape
        return f"({rows}, {cols_per_image * BATCH})  {rows * cols_per_image * BATCH * 4 / MIB:.1f} MiB"


# ----- alternatives for the transposed convolution (= conv2d's dx) --------------------------
def by_zero_insertion(x, W, s, p, op):
    """Insert s-1 zeros between pixels, pad by K-1-p (+op at the end), correlate with the
    flipped, channel-swapped kernel: im2col at stride 1 and one product. W (C_in, C_out, K, K)."""
    N, C_in, H, Wd = x.shape
    C_out, K = W.shape[1], W.shape[2]
    q = K - 1 - p  # >= 0 at the shapes benchmarked
    z = np.zeros((N, C_in, (H - 1) * s + 1 + 2 * q + op, (Wd - 1) * s + 1 + 2 * q + op), x.dtype)
    z[:, :, q:q + (H - 1) * s + 1:s, q:q + (Wd - 1) * s + 1:s] = x
    cols = nv.im2col(z, K)                                               # (C_in K K, N OH OW)
    W_flip = W[:, :, ::-1, ::-1].transpose(1, 0, 2, 3).reshape(C_out, -1)  # (C_out, C_in K K)
    OH, OW = z.shape[2] - K + 1, z.shape[3] - K + 1
    return np.ascontiguousarray((W_flip @ cols).reshape(C_out, N, OH, OW).transpose(1, 0, 2, 3)), cols.nbytes


def by_sub_pixel(x, W, s, p, op):
    """Output row s*m + r sees only kernel rows r, r + s, ...: zero-pad the kernel to Q*s,
    Q = ceil(K/s), split it into s*s kernels of Q x Q stacked as C_out*s*s output channels,
    correlate once at stride 1 (x padded by Q-1, flipped sub-kernels), interleave the
    s*s images pixel by pixel (depth to space), cut p from every side."""
    N, C_in, H, Wd = x.shape
    C_out, K = W.shape[1], W.shape[2]
    Q = -(-K // s)
    W_pad = np.zeros((C_in, C_out, Q * s, Q * s), W.dtype)
    W_pad[:, :, :K, :K] = W
    W_sub = W_pad.reshape(C_in, C_out, Q, s, Q, s)[:, :, ::-1, :, ::-1, :]       # c o a r b t
    W_mat = W_sub.transpose(1, 3, 5, 0, 2, 4).reshape(C_out * s * s, C_in * Q * Q)
    cols = nv.im2col(x, Q, 1, Q - 1)                                     # (C_in Q Q, N M M')
    M, M2 = H + Q - 1, Wd + Q - 1
    out = (W_mat @ cols).reshape(C_out, s, s, N, M, M2).transpose(3, 0, 4, 1, 5, 2)
    out = out.reshape(N, C_out, M * s, M2 * s)
    OH, OW = (H - 1) * s - 2 * p + K + op, (Wd - 1) * s - 2 * p + K + op
    return np.ascontiguousarray(out[:, :, p:p + OH, p:p + OW]), cols.nbytes


def by_col2im(x, W, s, p, op):
    out, _ = nv.conv_transpose2d_forward(x, W, np.zeros(W.shape[1], x.dtype), s, p, op)
    return out, W.shape[1] * W.shape[2] * W.shape[3] * x.shape[0] * x.shape[2] * x.shape[3] * x.itemsize


def alternatives(repeats: int, batch: int, rng) -> None:
    methods = {"col2im (numvae)": by_col2im, "zero insertion": by_zero_insertion, "sub-pixel": by_sub_pixel}
    print(f"\nThe transposed convolution (= conv2d's dx) three ways, batch {batch}, float32, "
          f"stride {STRIDE}, padding {PADDING}, output_padding 1; median (min) of {repeats}")
    print(f"{'shape':<34} {'method':<16} {'ms':>15} {'patches MiB':>12} {'peak MiB':>9}")
    for _, kind, x_shape, W_shape, op, _ in LAYERS:
        if kind != "tconv":
            continue
        x = rng.standard_normal((batch, *x_shape), dtype=np.float32)
        W = rng.standard_normal(W_shape, dtype=np.float32)
        reference = by_col2im(x, W, STRIDE, PADDING, op)[0]
        times = {name: [] for name in methods}
        matrix_bytes = {}
        for name, method in methods.items():
            out, matrix_bytes[name] = method(x, W, STRIDE, PADDING, op)
            np.testing.assert_allclose(out, reference, rtol=1e-4, atol=1e-3, err_msg=name)
        for _ in range(repeats):                 # alternate, so that all see the same load
            for name, method in methods.items():
                t0 = time.perf_counter()
                method(x, W, STRIDE, PADDING, op)
                times[name].append(time.perf_counter() - t0)
        shape = (f"{x_shape[0]}->{W_shape[1]} channels, {x_shape[1]}x{x_shape[2]} -> "
                 f"{reference.shape[2]}x{reference.shape[3]}")
        for name, method in methods.items():
            tracemalloc.start()
            method(x, W, STRIDE, PADDING, op)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            t = times[name]
            print(f"{shape:<34} {name:<16} {1e3 * statistics.median(t):7.1f} ({1e3 * min(t):5.1f}) "
                  f"{matrix_bytes[name] / MIB:12.1f} {peak / MIB:9.1f}")


# ----- the run -------------------------------------------------------------------------------
def layers_table(repeats: int, batch: int, compare_torch: bool, rng) -> int:
    layers = [Layer(*spec, batch=batch, rng=rng) for spec in LAYERS]
    if compare_torch:
        import torch
        torch.set_num_threads(2)
        for layer in layers:
            layer.torch_setup()
    runs = {(layer.name, who): [] for layer in layers for who in ("numvae", "torch")}
    for _ in range(2):                                       # warm up
        for layer in layers:
            layer.numvae_step()
            if compare_torch:
                layer.torch_step()
    for _ in range(repeats):
        for layer in layers:
            runs[layer.name, "numvae"].append(layer.numvae_step())
            if compare_torch:
                runs[layer.name, "torch"].append(layer.torch_step())

    def stat(who, name, part=None, how=statistics.median):
        return how([sum(t) if part is None else t[part] for t in runs[name, who]])

    print(f"\nLayers of the conv VAE, batch {batch}, float32; ms over {repeats} alternating repeats: "
          "median of forward, backward, total, and [the fastest total]")
    print("GFLOP/s: 2 * the multiply-adds of the layer's products / numvae's fastest total")
    head = f"{'layer':<11} {'numvae fwd':>10} {'bwd':>6} {'total':>6} {'[min]':>7}"
    if compare_torch:
        head += f"   {'torch fwd':>9} {'bwd':>6} {'total':>6} {'[min]':>7}  {'ratio':>5} {'[min]':>6}"
    print(head + f"  {'GMAC':>5} {'GFLOP/s':>7}  {'peak MiB':>8}  im2col matrix")
    totals = {(who, how): 0.0 for who in ("numvae", "torch") for how in (statistics.median, min)}
    total_macs = 0
    for layer in layers:
        for who in ("numvae", "torch") if compare_torch else ("numvae",):
            for how in (statistics.median, min):
                totals[who, how] += stat(who, layer.name, how=how)
        n, n_min = stat("numvae", layer.name), stat("numvae", layer.name, how=min)
        line = (f"{layer.name:<11} {1e3 * stat('numvae', layer.name, 0):10.1f} "
                f"{1e3 * stat('numvae', layer.name, 1):6.1f} {1e3 * n:6.1f} [{1e3 * n_min:5.1f}]")
        if compare_torch:
            t, t_min = stat("torch", layer.name), stat("torch", layer.name, how=min)
            fwd, bwd = stat("torch", layer.name, 0), stat("torch", layer.name, 1)
            line += (f"   {1e3 * fwd:9.1f} {1e3 * bwd:6.1f} "
                     f"{1e3 * t:6.1f} [{1e3 * t_min:5.1f}]  {n / t:5.2f} [{n_min / t_min:4.2f}]")
        macs = layer.products * layer.macs
        total_macs += macs
        line += f"  {macs / 1e9:5.2f} {2 * macs / n_min / 1e9:7.1f}  {layer.numvae_peak_bytes() / MIB:8.1f}"
        print(line + f"  {layer.matrices()}")
    med, fastest = totals["numvae", statistics.median], totals["numvae", min]
    line = f"{'all four':<11} {'':>10} {'':>6} {1e3 * med:6.1f} [{1e3 * fastest:5.1f}]"
    if compare_torch:
        t, t_min = totals["torch", statistics.median], totals["torch", min]
        line += (f"   {'':>9} {'':>6} {1e3 * t:6.1f} [{1e3 * t_min:5.1f}]  {med / t:5.2f} "
                 f"[{fastest / t_min:4.2f}]")
    print(line + f"  {total_macs / 1e9:5.2f} {2 * total_macs / fastest / 1e9:7.1f}")
    return total_macs


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=positive_int, default=20, help="timed repeats per layer (20)")
    parser.add_argument("--batch", type=positive_int, default=BATCH, help=f"batch size N ({BATCH})")
    parser.add_argument("--alternatives", action="store_true",
                        help="also time the transposed convolution by zero insertion and by sub-pixel")
    parser.add_argument("--no-torch", action="store_true", help="numvae alone, even if PyTorch is installed")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        import torch
        compare_torch = not args.no_torch
        torch_version = torch.__version__
    except ImportError:
        compare_torch, torch_version = False, "not installed"
    rng = np.random.default_rng(0)
    print(f"CPU: {cpu_name()}, {os.cpu_count()} cores; NumPy {np.__version__}, PyTorch {torch_version}; "
          f"load average {os.getloadavg()[0]:.2f}")
    peak = matmul_gflops()
    print(f"float32 matrix product (2048^3): {peak:.0f} GFLOP/s")
    total_macs = layers_table(args.repeats, args.batch, compare_torch, rng)
    print(f"floor: the four layers' products at {peak:.0f} GFLOP/s take {2 * total_macs / peak / 1e6:.1f} ms")
    if args.alternatives:
        alternatives(args.repeats, args.batch, rng)
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
