// The VAE decoder's forward pass in plain JavaScript: the same MLP as
// numvae.vae.decoder_forward, followed by the sigmoid of VAE.decode.
//
//   h_0 = z, or [z, one_hot(y)] for a conditional VAE (y one of `classes` labels)
//   h_{i+1} = f(h_i W_i + b_i)  (hidden layers, f = relu, elu or tanh as in numvae.layers)
//   x = sigmoid(h_L W_out + b_out)
//
// Each layer is {W: Float32Array (fanIn * fanOut, row-major like numpy's (fanIn, fanOut)),
// b: Float32Array (fanOut), fanIn, fanOut, activation: "relu" | "elu" | "tanh" | null}.
// Sums run in float64 (JavaScript numbers), so the result agrees with numvae's float32
// decode to ~1e-6 per pixel.
"use strict";

const ACTIVATIONS = {
  relu: (a) => (a > 0 ? a : 0),
  elu: (a) => (a > 0 ? a : Math.expm1(a)), // alpha = 1: max(a, 0) + expm1(min(a, 0))
  tanh: (a) => Math.tanh(a),
};

function decoderInput(z, label, classes) {
  // [z, one_hot(label)] for a conditional decoder (classes > 0), z itself otherwise
  if (!classes) return Float64Array.from(z);
  if (!Number.isInteger(label) || label < 0 || label >= classes) {
    throw new Error(`label must be an integer from 0 to ${classes - 1}, got ${label}`);
  }
  const input = new Float64Array(z.length + classes);
  input.set(z);
  input[z.length + label] = 1;
  return input;
}

function decodeLatent(layers, z, label = null, classes = 0) {
  let h = decoderInput(z, label, classes);
  if (h.length !== layers[0].fanIn) {
    throw new Error(`the decoder reads ${layers[0].fanIn} numbers, got ${h.length}`);
  }
  for (const layer of layers) {
    const out = new Float64Array(layer.fanOut);
    for (let j = 0; j < layer.fanOut; j++) out[j] = layer.b[j];
    for (let i = 0; i < layer.fanIn; i++) {
      const hi = h[i];
      if (hi === 0) continue; // a zero input (a ReLU's, a one-hot's) contributes nothing: skip its row
      const row = i * layer.fanOut;
      for (let j = 0; j < layer.fanOut; j++) out[j] += hi * layer.W[row + j];
    }
    if (layer.activation) {
      const f = ACTIVATIONS[layer.activation];
      for (let j = 0; j < layer.fanOut; j++) out[j] = f(out[j]);
    }
    h = out;
  }
  // stable sigmoid, as numvae.layers.sigmoid: never exponentiates a large positive number
  for (let j = 0; j < h.length; j++) {
    const e = Math.exp(-Math.abs(h[j]));
    h[j] = (h[j] >= 0 ? 1 : e) / (1 + e);
  }
  return h;
}

function float32FromBase64(text) {
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
}

function decoderLayers(spec) {
  return spec.map((l) => {
    if (l.activation && !(l.activation in ACTIVATIONS)) throw new Error(`unknown activation ${l.activation}`);
    return { W: float32FromBase64(l.W), b: float32FromBase64(l.b), fanIn: l.fanIn, fanOut: l.fanOut,
             activation: l.activation };
  });
}

if (typeof module !== "undefined") module.exports = { decodeLatent, decoderLayers, float32FromBase64 };
