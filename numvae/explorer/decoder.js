// The VAE decoder's forward pass in plain JavaScript: the same network as
// numvae.networks.decoder_forward, followed by the sigmoid of VAE.decode.
//
//   h_0 = z, or [z, one_hot(y)] for a conditional VAE (y one of `classes` labels)
//   h_{i+1} = f(h_i W_i + b_i)  (hidden layers, f = relu, elu or tanh as in numvae.layers)
//   an MLP:           x = sigmoid(h_L W_out + b_out)
//   the conv VAE:     g = relu(h_L W_fc + b_fc), read as C2 images of H/4 x W/4 (NCHW, one example)
//                     g = relu(conv_transpose(g, W_0) + b_0)     C2 -> C1 channels, H/2 x W/2
//                     x = sigmoid(conv_transpose(g, W_1) + b_1)  C1 -> 1 channel,   H x W
//
// A "dense" layer is {kind: "dense", W: Float32Array (fanIn * fanOut, row-major like numpy's
// (fanIn, fanOut)), b: Float32Array (fanOut), fanIn, fanOut, activation: "relu" | "elu" | "tanh" |
// null}. A "deconv" layer (numvae.convolution.conv_transpose2d_forward) is {kind: "deconv",
// W: Float32Array (inChannels * outChannels * kernel * kernel, row-major (C_in, C_out, KH, KW)),
// b: Float32Array (outChannels), inChannels, outChannels, inShape: [H, W], outShape: [OH, OW],
// kernel, stride, padding, outputPadding, activation}. Sums run in float64 (JavaScript
// numbers), so the result agrees with numvae's float32 decode to ~1e-6 per pixel.
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

function denseForward(layer, h) {
  // out_j = b_j + sum_i h_i W[i, j]   (fanIn) -> (fanOut)
  const out = new Float64Array(layer.fanOut);
  for (let j = 0; j < layer.fanOut; j++) out[j] = layer.b[j];
  for (let i = 0; i < layer.fanIn; i++) {
    const hi = h[i];
    if (hi === 0) continue; // a zero input (a ReLU's, a one-hot's) contributes nothing: skip its row
    const row = i * layer.fanOut;
    for (let j = 0; j < layer.fanOut; j++) out[j] += hi * layer.W[row + j];
  }
  return out;
}

function deconvForward(layer, h) {
  // The transposed convolution, NCHW for one example: every input pixel adds a copy of the
  // kernel, scaled by the pixel, onto the output, the copies `stride` pixels apart, shifted up
  // and left by `padding` (what falls outside the output is cut):
  //   out[o, i*s + u - p, j*s + v - p] += h[c, i, j] * W[c, o, u, v],   out[o] += b[o]
  // (C_in, H, W) -> (C_out, OH, OW), OH = (H - 1) s - 2 p + K + output_padding.
  // For speed the sums run channels-last, acc[r, q, o], over the weights stored as
  // Wt[c, u, v, o] (decoderLayers): the innermost loop, over o, then reads and writes
  // consecutive numbers; the result is turned back to (C_out, OH, OW) at the end.
  const { inChannels: C, outChannels: O, kernel: K, stride: s, padding: p, Wt } = layer;
  const [H, Wd] = layer.inShape;
  const [OH, OW] = layer.outShape;
  const acc = new Float64Array(OH * OW * O);
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < Wd; j++) {
        const x = h[(c * H + i) * Wd + j];
        if (x === 0) continue; // a ReLU's zero adds nothing
        for (let u = 0; u < K; u++) {
          const r = i * s + u - p;
          if (r < 0 || r >= OH) continue;
          for (let v = 0; v < K; v++) {
            const q = j * s + v - p;
            if (q < 0 || q >= OW) continue;
            const at = (r * OW + q) * O;
            const w = ((c * K + u) * K + v) * O; // Wt[c, u, v, 0]
            for (let o = 0; o < O; o++) acc[at + o] += x * Wt[w + o];
          }
        }
      }
    }
  }
  const plane = OH * OW;
  const out = new Float64Array(O * plane);
  for (let o = 0; o < O; o++) {
    const bias = layer.b[o];
    for (let at = 0; at < plane; at++) out[o * plane + at] = acc[at * O + o] + bias;
  }
  return out;
}

function channelsLast(W, C, O, K) {
  // W (C, O, K, K) row-major -> Wt (C, K, K, O): the kernel entry W[c, o, u, v] at Wt[c, u, v, o]
  const Wt = new Float32Array(W.length);
  for (let c = 0; c < C; c++) for (let o = 0; o < O; o++) for (let u = 0; u < K; u++) {
    for (let v = 0; v < K; v++) Wt[((c * K + u) * K + v) * O + o] = W[((c * O + o) * K + u) * K + v];
  }
  return Wt;
}

function decodeLatent(layers, z, label = null, classes = 0) {
  let h = decoderInput(z, label, classes);
  if (h.length !== layers[0].fanIn) {
    throw new Error(`the decoder reads ${layers[0].fanIn} numbers, got ${h.length}`);
  }
  for (const layer of layers) {
    const out = layer.kind === "deconv" ? deconvForward(layer, h) : denseForward(layer, h);
    if (layer.activation) {
      const f = ACTIVATIONS[layer.activation];
      for (let j = 0; j < out.length; j++) out[j] = f(out[j]);
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
    const weights = { W: float32FromBase64(l.W), b: float32FromBase64(l.b), activation: l.activation };
    if (l.kind === "deconv") {
      return { ...weights, kind: "deconv", Wt: channelsLast(weights.W, l.inChannels, l.outChannels, l.kernel),
               inChannels: l.inChannels, outChannels: l.outChannels,
               inShape: l.inShape, outShape: l.outShape, kernel: l.kernel, stride: l.stride,
               padding: l.padding, fanIn: l.inChannels * l.inShape[0] * l.inShape[1],
               fanOut: l.outChannels * l.outShape[0] * l.outShape[1] };
    }
    return { ...weights, kind: "dense", fanIn: l.fanIn, fanOut: l.fanOut };
  });
}

if (typeof module !== "undefined") module.exports = { decodeLatent, decoderLayers, float32FromBase64 };
