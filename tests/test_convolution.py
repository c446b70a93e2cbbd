"""conv2d and its transpose (numvae.convolution): gradients, references, adjointness, errors.

Shapes and hyperparameters come from hypothesis (tests/strategies.py), values in float64.
The references are independent of numvae's im2col: scipy.signal.correlate one channel
pair at a time, the zero-insertion picture of the transposed convolution, and PyTorch.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from scipy import signal
from strategies import conv2d_case, conv_transpose2d_case

import numvae as nv
import numvae.convolution as conv

TOL = 1e-6


def pair(v):
    return tuple(v) if isinstance(v, tuple) else (v, v)


def gradient_errors(forward, backward, case, rng):
    """rel_error of dx, dW, db against central differences of L = sum(out * dout)."""
    out, cache = forward(**case)
    dout = rng.standard_normal(out.shape)
    dx, dW, db = backward(dout, cache)
    loss = lambda: np.sum(forward(**case)[0] * dout)  # noqa: E731
    return {name: nv.rel_error(analytic, nv.numerical_gradient(lambda _: loss(), case[name]))
            for name, analytic in (("x", dx), ("W", dW), ("b", db))}


# --- gradients against central differences ---------------------------------------------

@settings(max_examples=25)
@given(conv2d_case())
def test_conv2d_gradients(case):
    errors = gradient_errors(nv.conv2d_forward, nv.conv2d_backward, case, np.random.default_rng(0))
    assert max(errors.values()) < TOL, errors


@settings(max_examples=25)
@given(conv_transpose2d_case())
def test_conv_transpose2d_gradients(case):
    errors = gradient_errors(nv.conv_transpose2d_forward, nv.conv_transpose2d_backward, case,
                             np.random.default_rng(0))
    assert max(errors.values()) < TOL, errors


# --- forward passes against independent references --------------------------------------

def correlate_reference(x, W, b, stride, padding):
    """conv2d by scipy.signal.correlate ('valid' on explicitly zero-padded images), then strides."""
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    N, C_in = x.shape[:2]
    out = np.array([[b[o] + sum(signal.correlate(x_pad[n, c], W[o, c], mode="valid") for c in range(C_in))
                     for o in range(W.shape[0])] for n in range(N)])
    return out[:, :, ::sh, ::sw]


@settings(max_examples=30)
@given(conv2d_case())
def test_conv2d_matches_scipy_correlate(case):
    out, _ = nv.conv2d_forward(**case)
    expected = correlate_reference(case["x"], case["W"], case["b"], case["stride"], case["padding"])
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_conv2d_is_a_correlation_not_a_flipped_convolution():
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 0, 0] = 1.0                                    # a single bright pixel, top left
    W = np.arange(9.0).reshape(1, 1, 3, 3)
    out, _ = nv.conv2d_forward(x, W, np.zeros(1), padding=1)
    # The window at output (i, j) meets the pixel at kernel offset (1 - i, 1 - j): the
    # impulse response of a correlation is the kernel flipped (a convolution's is the
    # kernel itself, which would put W[1, 1], W[1, 2], W[2, 1], W[2, 2] = 4, 5, 7, 8 here).
    np.testing.assert_array_equal(out[0, 0], [[4.0, 3.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])


def dilated_reference(x, W, b, stride, padding, output_padding):
    """The textbook transposed convolution: insert s-1 zeros between pixels, pad by K-1
    (plus output_padding at the end), correlate with W flipped and its channels swapped,
    then cut ``padding`` from every side."""
    (sh, sw), (ph, pw), (oph, opw) = pair(stride), pair(padding), pair(output_padding)
    N, C_in, H, Wd = x.shape
    _, C_out, KH, KW = W.shape
    z = np.zeros((N, C_in, (H - 1) * sh + 1, (Wd - 1) * sw + 1))
    z[:, :, ::sh, ::sw] = x
    z = np.pad(z, ((0, 0), (0, 0), (KH - 1, KH - 1 + oph), (KW - 1, KW - 1 + opw)))
    full = np.array([[b[o] + sum(signal.correlate(z[n, c], W[c, o, ::-1, ::-1], mode="valid")
                                 for c in range(C_in)) for o in range(C_out)] for n in range(N)])
    return full[:, :, ph:full.shape[2] - ph, pw:full.shape[3] - pw]


@settings(max_examples=30)
@given(conv_transpose2d_case())
def test_conv_transpose2d_matches_the_zero_insertion_picture(case):
    out, _ = nv.conv_transpose2d_forward(**case)
    expected = dilated_reference(**case)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


# --- the transposed convolution is the convolution's adjoint -------------------------------

@given(conv2d_case())
def test_adjoint_identity(case):
    """<conv(x), y> = <x, conv_transpose(y)> with the same W, both without bias."""
    x, W, stride, padding = case["x"], case["W"], case["stride"], case["padding"]
    zero_out, zero_in = np.zeros(W.shape[0]), np.zeros(W.shape[1])
    y = np.random.default_rng(1).standard_normal(nv.conv2d_output_shape(x.shape, W.shape, stride, padding))
    (sh, sw), (ph, pw), (KH, KW) = pair(stride), pair(padding), W.shape[2:]
    leftover = ((x.shape[2] + 2 * ph - KH) % sh, (x.shape[3] + 2 * pw - KW) % sw)
    back, _ = nv.conv_transpose2d_forward(y, W, zero_in, stride, padding, leftover)
    assert back.shape == x.shape
    lhs, rhs = np.vdot(nv.conv2d_forward(x, W, zero_out, stride, padding)[0], y), np.vdot(x, back)
    assert abs(lhs - rhs) <= 1e-12 * (np.abs(x).sum() * np.abs(back).sum() / x.size + 1)
    # ... and conv2d's dx is that very transposed convolution of dout.
    dx, _, _ = nv.conv2d_backward(y, nv.conv2d_forward(x, W, zero_out, stride, padding)[1])
    np.testing.assert_array_equal(dx, back)


@given(conv2d_case())
def test_im2col_and_col2im_are_adjoint(case):
    x, W, stride, padding = case["x"], case["W"], case["stride"], case["padding"]
    cols = nv.im2col(x, W.shape[2:], stride, padding)
    C = np.random.default_rng(2).standard_normal(cols.shape)
    back = nv.col2im(C, x.shape, W.shape[2:], stride, padding)
    assert back.shape == x.shape
    assert np.isclose(np.vdot(cols, C), np.vdot(x, back), rtol=1e-12, atol=1e-12)


@given(conv_transpose2d_case())
def test_conv_transpose2d_dx_is_the_convolution_of_dout(case):
    out, cache = nv.conv_transpose2d_forward(**case)
    dout = np.random.default_rng(3).standard_normal(out.shape)
    dx, _, _ = nv.conv_transpose2d_backward(dout, cache)
    W = case["W"]
    expected, _ = nv.conv2d_forward(dout, W, np.zeros(W.shape[0]), case["stride"], case["padding"])
    np.testing.assert_array_equal(dx, expected)


def test_im2col_columns_are_the_patches():
    x = np.arange(2 * 3 * 5 * 4, dtype=np.float64).reshape(2, 3, 5, 4)
    cols = nv.im2col(x, (3, 2), stride=(2, 1), padding=(1, 0))
    x_pad = np.pad(x, ((0, 0), (0, 0), (1, 1), (0, 0)))
    OH, OW = (5 + 2 - 3) // 2 + 1, (4 - 2) // 1 + 1
    assert cols.shape == (3 * 3 * 2, 2 * OH * OW)
    for n in range(2):
        for i in range(OH):
            for j in range(OW):
                patch = x_pad[n, :, 2 * i:2 * i + 3, j:j + 2]
                np.testing.assert_array_equal(cols[:, (n * OH + i) * OW + j], patch.ravel())


def test_im2col_is_always_a_new_array():
    """Even where a reshape could return a view of x (1x1 kernel, one image and channel):
    conv2d caches cols for dW, and the caller may reuse x's memory before the backward."""
    x = np.arange(12.0).reshape(1, 1, 3, 4)
    cols = nv.im2col(x, 1)
    assert not np.shares_memory(cols, x)
    out, cache = nv.conv2d_forward(x, np.ones((1, 1, 1, 1)), np.zeros(1))
    dW_before = nv.conv2d_backward(np.ones(out.shape), cache)[1].copy()
    x[...] = 0
    np.testing.assert_array_equal(nv.conv2d_backward(np.ones(out.shape), cache)[1], dW_before)


# --- PyTorch, an implementation written by others ------------------------------------------

@pytest.fixture(scope="module")
def torch_one_thread():
    """PyTorch on one thread while these tests run: on problems this small a second thread
    only spins, which costs the test run a quarter of its CPU time."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def torch_gradients(torch_fn, case, dout, **kwargs):
    torch = pytest.importorskip("torch")
    xt, Wt, bt = (torch.tensor(case[k], requires_grad=True) for k in ("x", "W", "b"))
    out = torch_fn(xt, Wt, bt, stride=case["stride"], padding=case["padding"], **kwargs)
    out.backward(torch.tensor(dout))
    return out.detach().numpy(), xt.grad.numpy(), Wt.grad.numpy(), bt.grad.numpy()


@settings(max_examples=20)
@given(conv2d_case())
def test_conv2d_agrees_with_pytorch(torch_one_thread, case):
    F = pytest.importorskip("torch.nn.functional")
    out, cache = nv.conv2d_forward(**case)
    dout = np.random.default_rng(4).standard_normal(out.shape)
    ours = (out, *nv.conv2d_backward(dout, cache))
    for a, b in zip(ours, torch_gradients(F.conv2d, case, dout), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@settings(max_examples=20)
@given(conv_transpose2d_case())
def test_conv_transpose2d_agrees_with_pytorch(torch_one_thread, case):
    F = pytest.importorskip("torch.nn.functional")
    out, cache = nv.conv_transpose2d_forward(**case)
    dout = np.random.default_rng(5).standard_normal(out.shape)
    ours = (out, *nv.conv_transpose2d_backward(dout, cache))
    theirs = torch_gradients(F.conv_transpose2d, case, dout, output_padding=case["output_padding"])
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


# --- dtype, options, shapes, counts --------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(dtype, rng):
    x = rng.standard_normal((2, 3, 8, 8)).astype(dtype)
    W, b = rng.standard_normal((4, 3, 3, 3)).astype(dtype), np.zeros(4, dtype)
    out, cache = nv.conv2d_forward(x, W, b, stride=2, padding=1)
    grads = nv.conv2d_backward(np.ones_like(out), cache)
    Wt, bt = rng.standard_normal((4, 3, 3, 3)).astype(dtype), np.zeros(3, dtype)
    out_t, cache_t = nv.conv_transpose2d_forward(out, Wt, bt, stride=2, padding=1, output_padding=1)
    grads_t = nv.conv_transpose2d_backward(np.ones_like(out_t), cache_t)
    assert out_t.shape == x.shape
    for a in (out, *grads, out_t, *grads_t, nv.im2col(x, 3), nv.col2im(nv.im2col(x, 3), x.shape, 3)):
        assert a.dtype == dtype


def test_float32_agrees_with_float64(rng):
    x, W, b = rng.standard_normal((4, 3, 9, 9)), rng.standard_normal((5, 3, 3, 3)), rng.standard_normal(5)
    out64, cache64 = nv.conv2d_forward(x, W, b, stride=2, padding=1)
    out32, cache32 = nv.conv2d_forward(x.astype(np.float32), W.astype(np.float32), b.astype(np.float32), 2, 1)
    np.testing.assert_allclose(out32, out64, rtol=1e-5, atol=1e-5)
    dout = rng.standard_normal(out64.shape)
    for a, b_ in zip(nv.conv2d_backward(dout.astype(np.float32), cache32), nv.conv2d_backward(dout, cache64),
                     strict=True):
        np.testing.assert_allclose(a, b_, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("kind", ["conv2d", "conv_transpose2d"])
def test_compute_dx_false_and_out_arrays(kind, rng):
    forward, backward = getattr(nv, f"{kind}_forward"), getattr(nv, f"{kind}_backward")
    x, W, b = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((3, 3, 3, 3)), rng.standard_normal(3)
    out, cache = forward(x, W, b, 2, 1)
    dout = rng.standard_normal(out.shape)
    _, dW, db = backward(dout, cache)
    dW_buf, db_buf = np.empty_like(W), np.empty_like(b)
    dx, dW_ret, db_ret = backward(dout, cache, compute_dx=False, out=(dW_buf, db_buf))
    assert dx is None and dW_ret is dW_buf and db_ret is db_buf
    np.testing.assert_array_equal(dW_buf, dW)
    np.testing.assert_array_equal(db_buf, db)


def test_ints_and_pairs_agree(rng):
    x, W, b = rng.standard_normal((2, 2, 7, 7)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    np.testing.assert_array_equal(nv.conv2d_forward(x, W, b, 2, 1)[0],
                                  nv.conv2d_forward(x, W, b, (2, 2), (1, 1))[0])
    Wt = rng.standard_normal((2, 3, 3, 3))
    np.testing.assert_array_equal(nv.conv_transpose2d_forward(x, Wt, b, 2, 1, 1)[0],
                                  nv.conv_transpose2d_forward(x, Wt, b, (2, 2), (1, 1), (1, 1))[0])


def test_the_conv_vae_shapes_and_multiply_adds():
    """Encoder 1 -> 32 -> 64 channels, decoder 64 -> 32 -> 1, 3x3, stride 2, batch 128."""
    assert nv.conv2d_output_shape((128, 1, 32, 32), (32, 1, 3, 3), 2, 1) == (128, 32, 16, 16)
    assert nv.conv2d_output_shape((128, 32, 16, 16), (64, 32, 3, 3), 2, 1) == (128, 64, 8, 8)
    assert nv.conv_transpose2d_output_shape((128, 64, 8, 8), (64, 32, 3, 3), 2, 1, 1) == (128, 32, 16, 16)
    assert nv.conv_transpose2d_output_shape((128, 32, 16, 16), (32, 1, 3, 3), 2, 1, 1) == (128, 1, 32, 32)
    assert nv.conv2d_multiply_adds((128, 32, 16, 16), (64, 32, 3, 3), 2, 1) == 128 * 8 * 8 * 64 * 32 * 9
    # The transposed layer is the same product run the other way round: the same count.
    assert (nv.conv_transpose2d_multiply_adds((128, 64, 8, 8), (64, 32, 3, 3), 2, 1, 1)
            == nv.conv2d_multiply_adds((128, 32, 16, 16), (64, 32, 3, 3), 2, 1))


def test_multiply_adds_are_those_of_the_matrix_product(rng):
    x, W = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 2, 3))
    cols = nv.im2col(x, (2, 3), 2, 1)
    assert nv.conv2d_multiply_adds(x.shape, W.shape, 2, 1) == W.shape[0] * cols.shape[0] * cols.shape[1]


# --- bad input: ValueError/TypeError naming the argument, before any work ------------------

def _conv(**kw):
    args = {"x": np.zeros((2, 3, 5, 5)), "W": np.zeros((4, 3, 3, 3)), "b": np.zeros(4)} | kw
    return nv.conv2d_forward(**args)


def _tconv(**kw):
    args = {"x": np.zeros((2, 3, 5, 5)), "W": np.zeros((3, 4, 3, 3)), "b": np.zeros(4)} | kw
    return nv.conv_transpose2d_forward(**args)


BAD_INPUTS = [
    (_conv, {"x": np.zeros((3, 5, 5))}, ValueError,
     r"x must have shape \(N, C_in, H, W\), got shape \(3, 5, 5\)"),
    (_conv, {"W": np.zeros((4, 3, 3))}, ValueError, r"W must have shape \(C_out, C_in, KH, KW\), got"),
    (_conv, {"W": np.zeros((4, 2, 3, 3))}, ValueError, r"W expects 2 input channels .* x has 3"),
    (_conv, {"b": np.zeros(5)}, ValueError, r"b must have shape \(4,\) .* got \(5,\)"),
    (_conv, {"W": np.zeros((4, 3, 6, 6))}, ValueError,
     r"kernel \(6, 6\) is larger than the padded input .*\(5, 5\)"),
    (_conv, {"W": np.zeros((4, 3, 6, 6)), "padding": 1}, None, None),  # fits once padded
    (_conv, {"stride": 0}, ValueError, r"stride must be positive .*got 0"),
    (_conv, {"stride": (1, -2)}, ValueError, r"stride must be positive .*got \(1, -2\)"),
    (_conv, {"stride": 1.5}, TypeError, r"stride must be a positive int or a pair .*got 1.5"),
    (_conv, {"stride": (1, 2, 3)}, TypeError, r"stride must be a positive int or a pair"),
    (_conv, {"padding": -1}, ValueError, r"padding must be non-negative .*got -1"),
    (_conv, {"x": np.zeros((2, 3, 5, 5), dtype=int)}, TypeError, r"x must be a floating-point array.*int64"),
    (_conv, {"W": np.zeros((4, 3, 3, 3), dtype=np.float32)}, TypeError,
     r"x, W and b must have the same dtype .*float64, float32, float64"),
    (_tconv, {"output_padding": 2, "stride": 2}, ValueError,
     r"output_padding must be smaller than stride .*got output_padding \(2, 2\) with stride \(2, 2\)"),
    (_tconv, {"output_padding": 1}, ValueError, r"output_padding must be smaller than stride"),
    (_tconv, {"output_padding": -1, "stride": 2}, ValueError, r"output_padding must be non-negative"),
    (_tconv, {"W": np.zeros((2, 4, 3, 3))}, ValueError, r"W expects 2 input channels .* x has 3"),
    (_tconv, {"b": np.zeros(3)}, ValueError, r"b must have shape \(4,\)"),
    (_tconv, {"x": np.zeros((2, 3, 1, 1)), "padding": 2}, ValueError,
     r"padding \(2, 2\) leaves an empty output"),
    (_tconv, {"x": np.zeros((2, 3, 5))}, ValueError, r"x must have shape"),
]


@pytest.mark.parametrize("fn, kwargs, error, match", BAD_INPUTS)
def test_bad_input_is_refused_before_any_work(fn, kwargs, error, match, monkeypatch):
    def no_work(*args, **kw):
        raise AssertionError("the arguments should have been refused before any work")
    if error is None:                                        # a valid corner: it must run
        fn(**kwargs)
        return
    monkeypatch.setattr(conv, "_conv", no_work)
    monkeypatch.setattr(conv, "_conv_transpose", no_work)
    with pytest.raises(error, match=match):
        fn(**kwargs)


def test_backward_refuses_a_wrong_dout_and_wrong_out_arrays(rng):
    x, W, b = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3)), np.zeros(4)
    out, cache = nv.conv2d_forward(x, W, b, 2, 1)
    with pytest.raises(ValueError, match=r"dout must have the conv2d output's shape \(2, 4, 3, 3\), got"):
        nv.conv2d_backward(np.zeros((2, 4, 3, 4)), cache)
    with pytest.raises(ValueError, match=r"out\[0\] \(dW\) must be a contiguous array of W's shape"):
        nv.conv2d_backward(np.zeros(out.shape), cache, out=(np.zeros((4, 3, 3)), np.zeros(4)))
    with pytest.raises(ValueError, match=r"out\[0\] \(dW\) .* not contiguous"):
        nv.conv2d_backward(np.zeros(out.shape), cache, out=(np.zeros((3, 4, 3, 3)).transpose(1, 0, 2, 3),
                                                            np.zeros(4)))
    with pytest.raises(ValueError, match=r"out\[1\] \(db\) must have shape \(4,\)"):
        nv.conv2d_backward(np.zeros(out.shape), cache, out=(np.zeros_like(W), np.zeros(3)))
    out_t, cache_t = nv.conv_transpose2d_forward(out, W, np.zeros(3), 2, 1, 1)
    with pytest.raises(ValueError, match=r"conv_transpose2d output.s shape \(2, 3, 6, 6\), got"):
        nv.conv_transpose2d_backward(np.zeros((2, 3, 5, 5)), cache_t)


def test_im2col_and_col2im_refuse_bad_shapes():
    with pytest.raises(ValueError, match=r"kernel \(4, 4\) is larger than the padded input"):
        nv.im2col(np.zeros((1, 1, 3, 3)), 4)
    with pytest.raises(ValueError, match=r"cols must have shape \(C\*KH\*KW, N\*OH\*OW\) = \(9, 18\) .*got"):
        nv.col2im(np.zeros((9, 9)), (2, 1, 3, 3), 3, 1, 1)
    with pytest.raises(TypeError, match=r"kernel_size must be a positive int or a pair"):
        nv.im2col(np.zeros((1, 1, 3, 3)), "3")
