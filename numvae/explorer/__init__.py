"""A self-contained web page for exploring a trained decoder's latent space.

``build_explorer_html`` writes one HTML file with no server, network, external script
or font: the decoder's weights are embedded as base64 float32, ``decoder.js`` runs the
decoder's forward pass in the browser (the same MLP, ReLU, ELU or tanh, and sigmoid as
``VAE.decode``; for the convolutional VAE also the dense layer to C2 images of H/4 x W/4
and the two transposed convolutions; for a conditional VAE the label one-hot after z,
chosen on the page), and
``app.js`` draws the map and the image. A mixture prior's components are embedded too:
the page marks their means and samples from the mixture. The page's decode agrees with
numvae's float32 decode to about 1e-6 per pixel (tested in a real browser by
``tests/test_explorer_browser.py``).
"""

from __future__ import annotations

import base64
import html
import json
import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

import numpy as np

from .. import conv_net
from ..plumbing.atomic import atomic_write_text


def _b64(array: np.ndarray, dtype) -> str:
    """Little-endian bytes of ``array`` as ``dtype``, base64-encoded."""
    little_endian = np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<"))
    return base64.b64encode(little_endian.tobytes()).decode()


def decoder_spec(model, params: Mapping[str, np.ndarray]) -> list[dict]:
    """The decoder's layers in order, weights as base64 float32, as ``decoder.js`` reads them.

    ``model`` is a ``VAE`` (conditional or not) or an ``Autoencoder``: all decode with
    ``networks.decoder_forward``. A "dense" layer's W is row-major (fan_in, fan_out); each
    hidden layer names its activation. An MLP ends with dec.out (no activation); the
    convolutional network (``conv_net.py``) with dec.fc (dense to C2 * H/4 * W/4, ReLU,
    read as C2 images of H/4 x W/4) and two "deconv" layers, transposed convolutions
    whose W is (C_in, C_out, 3, 3) row-major, ReLU after the first.
    """
    config = model.config
    spec = [_dense(params, f"dec.{i}", config.activation) for i in range(len(config.hidden))]
    if config.arch != "conv":
        return [*spec, _dense(params, "dec.out", None)]
    height, width = config.image_shape
    return [*spec, _dense(params, "dec.fc", "relu"),
            _deconv(params, "dec.deconv0", (height // 4, width // 4), "relu"),
            _deconv(params, "dec.deconv1", (height // 2, width // 2), None)]


def _dense(params, name: str, activation: str | None) -> dict:
    W, b = params[f"{name}.W"], params[f"{name}.b"]
    return {"kind": "dense", "name": name, "fanIn": int(W.shape[0]), "fanOut": int(W.shape[1]),
            "activation": activation, "W": _b64(W, np.float32), "b": _b64(b, np.float32)}


def _deconv(params, name: str, in_shape: tuple[int, int], activation: str | None) -> dict:
    """A transposed convolution of ``conv_net``: out side (in - 1) s - 2 p + k + output_padding."""
    W, b = params[f"{name}.W"], params[f"{name}.b"]
    c_in, c_out, k, _ = W.shape
    s, p, op = conv_net.STRIDE, conv_net.PADDING, conv_net.OUTPUT_PADDING
    out_shape = [(side - 1) * s - 2 * p + k + op for side in in_shape]
    return {"kind": "deconv", "name": name, "inChannels": int(c_in), "outChannels": int(c_out),
            "inShape": [int(side) for side in in_shape], "outShape": out_shape, "kernel": int(k),
            "stride": s, "padding": p, "outputPadding": op, "activation": activation,
            "W": _b64(W, np.float32), "b": _b64(b, np.float32)}


def prior_spec(model, params: Mapping[str, np.ndarray]) -> dict:
    """p(z) for the page's sample button: N(0, I), or the mixture's weights, means, log-variances."""
    if getattr(model.config, "prior", "standard") != "mixture":
        return {"kind": "standard"}
    logits = np.asarray(params["prior.logits"], dtype=np.float64)
    weights = np.exp(logits - logits.max())
    return {"kind": "mixture", "components": int(model.config.components),
            "weights": (weights / weights.sum()).tolist(),
            "means": _b64(params["prior.means"], np.float32),
            "logvars": _b64(params["prior.logvars"], np.float32)}


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def build_explorer_html(model, params: Mapping[str, np.ndarray], z_means: np.ndarray,
                        labels: np.ndarray | None, image_shape: tuple[int, int],
                        info: Mapping[str, object]) -> str:
    """The explorer page as one HTML string.

    Shapes: z_means (N, K) latent means of the test set (the map's background; for a
    conditional VAE the means of q(z|x, y) with each image's own label), labels (N,)
    integers or None; image_shape (H, W) with H*W == the model's input_dim. ``info`` rows
    (e.g. the config and the test -ELBO) are shown in a table on the page. A conditional
    VAE's page has a label selector: the decoder draws the chosen class.
    """
    k = model.config.latent
    z_means = np.asarray(z_means)
    if z_means.ndim != 2 or z_means.shape[1] != k:
        raise ValueError(f"z_means must have shape (N, {k}), got {z_means.shape}")
    if labels is not None and np.shape(labels) != (z_means.shape[0],):
        raise ValueError(f"labels must have shape ({z_means.shape[0]},), got {np.shape(labels)}")
    h, w = image_shape
    if h * w != model.config.input_dim:
        raise ValueError(f"image_shape {image_shape} does not match input_dim {model.config.input_dim}")
    data = {
        "latent": k,
        "classes": int(getattr(model.config, "classes", 0)),
        "imageShape": [int(h), int(w)],
        "decoder": decoder_spec(model, params),
        "prior": prior_spec(model, params),
        "points": {"n": int(z_means.shape[0]), "z": _b64(z_means, np.float32),
                   "labels": None if labels is None else _b64(np.asarray(labels) % 256, np.uint8)},
    }
    rows = "".join(f"<tr><td>{html.escape(str(key))}</td><td>{html.escape(str(value))}</td></tr>"
                   for key, value in info.items())
    page = _asset("page.html")
    for marker, text in (("/*__DATA__*/", json.dumps(data)), ("/*__DECODER_JS__*/", _asset("decoder.js")),
                         ("/*__APP_JS__*/", _asset("app.js")), ("/*__INFO_ROWS__*/", rows),
                         ("/*__W__*/", str(w)), ("/*__H__*/", str(h))):
        page = page.replace(marker, text)
    return page


def write_explorer(path: str | os.PathLike, page: str) -> Path:
    """Write the page atomically (temporary file, then rename)."""
    return atomic_write_text(path, page)
