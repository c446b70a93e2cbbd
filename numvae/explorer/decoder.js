// The VAE decoder's forward pass in plain JavaScript: the same MLP as
// numvae.vae.decoder_forward, followed by the sigmoid of VAE.decode.
//
//   h_0 = z;   h_{i+1} = relu(h_i W_i + b_i)  (hidden layers);   x = sigmoid(h_L W_out + b_out)
//
// Each layer is {W: Float32Array (fanIn * fanOut, row-major like numpy's (fanIn, fanOut)),
// b: Float32Array (fanOut), fanIn, fanOut, relu: bool}. Sums run in float64 (JavaScript
// numbers), so the result agrees with numvae's float32 decode to ~1e-6 per pixel.
"use strict";

function decodeLatent(layers, z) {
  let h = Float64Array.from(z);
  for (const layer of layers) {
    const out = new Float64Array(layer.fanOut);
    for (let j = 0; j < layer.fanOut; j++) out[j] = layer.b[j];
    for (let i = 0; i < layer.fanIn; i++) {
      const hi = h[i];
      if (hi === 0) continue; // a ReLU zero contributes nothing: skip its row
      const row = i * layer.fanOut;
      for (let j = 0; j < layer.fanOut; j++) out[j] += hi * layer.W[row + j];
    }
    if (layer.relu) for (let j = 0; j < layer.fanOut; j++) if (out[j] < 0) out[j] = 0;
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
  return spec.map((l) => ({
    W: float32FromBase64(l.W), b: float32FromBase64(l.b), fanIn: l.fanIn, fanOut: l.fanOut, relu: l.relu,
  }));
}

if (typeof module !== "undefined") module.exports = { decodeLatent, decoderLayers, float32FromBase64 };
