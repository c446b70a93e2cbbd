// The explorer page: a 2-D map of the latent space (the test set's latent means as a
// coloured background), the decoded image of the point under the pointer, sliders for
// every latent dimension, a button that samples z from the prior (N(0, I), or the learned
// mixture, whose components' means the map marks), and for a conditional VAE a label
// selector: the decoder draws the chosen class, and the map brings that class's codes forward.
// DATA is written into the page by numvae/explorer/__init__.py; decodeLatent comes from decoder.js.
"use strict";

const TAB10 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
               "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const layers = decoderLayers(DATA.decoder);
const K = DATA.latent;
const [H, W] = DATA.imageShape;
const points = float32FromBase64(DATA.points.z); // (N, K) row-major latent means
const labels = DATA.points.labels ? Uint8Array.from(atob(DATA.points.labels), (c) => c.charCodeAt(0)) : null;
const N = DATA.points.n;
const CLASSES = DATA.classes; // 0: not conditional
const PRIOR = DATA.prior.kind === "mixture"
  ? { ...DATA.prior, means: float32FromBase64(DATA.prior.means), logvars: float32FromBase64(DATA.prior.logvars) }
  : DATA.prior;

const state = { z: new Array(K).fill(0), dims: [0, Math.min(1, K - 1)], range: 3, dragging: false, last: null,
                label: CLASSES ? 0 : null };

const map = document.getElementById("map");
const mapCtx = map.getContext("2d");
const small = document.getElementById("image-native"); // H x W, one canvas pixel per image pixel
const smallCtx = small.getContext("2d");
const big = document.getElementById("image");
const bigCtx = big.getContext("2d");
const background = document.createElement("canvas");

function mapRange() {
  // symmetric half-width covering 99% of the points on the shown dimensions, at least 3
  const values = [];
  for (let n = 0; n < N; n++) for (const d of state.dims) values.push(Math.abs(points[n * K + d]));
  values.sort((a, b) => a - b);
  const q = values.length ? values[Math.floor(0.99 * (values.length - 1))] : 0;
  return Math.max(3, 1.15 * q);
}

function toCanvas(a, b) { // latent coordinates on the shown dims -> map canvas pixels
  const r = state.range;
  return [((a + r) / (2 * r)) * map.width, ((r - b) / (2 * r)) * map.height];
}

function fromCanvas(px, py) {
  const r = state.range;
  return [(px / map.width) * 2 * r - r, r - (py / map.height) * 2 * r];
}

function drawBackground() {
  state.range = mapRange();
  background.width = map.width;
  background.height = map.height;
  const ctx = background.getContext("2d");
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, map.width, map.height);
  ctx.strokeStyle = "#dddddd";
  const [ox, oy] = toCanvas(0, 0);
  ctx.beginPath(); ctx.moveTo(ox, 0); ctx.lineTo(ox, map.height); ctx.moveTo(0, oy); ctx.lineTo(map.width, oy); ctx.stroke();
  for (const chosen of CLASSES && labels ? [false, true] : [null]) { // the chosen label's codes on top
    ctx.globalAlpha = chosen === false ? 0.15 : 0.6;
    for (let n = 0; n < N; n++) {
      if (chosen !== null && (labels[n] === state.label) !== chosen) continue;
      const [x, y] = toCanvas(points[n * K + state.dims[0]], points[n * K + state.dims[1]]);
      ctx.fillStyle = labels ? TAB10[labels[n] % 10] : "#555555";
      ctx.fillRect(x - 1, y - 1, 2.5, 2.5);
    }
  }
  ctx.globalAlpha = 1;
  if (PRIOR.kind === "mixture") { // the components' means as black crosses
    ctx.strokeStyle = "#000000";
    ctx.lineWidth = 1.5;
    for (let c = 0; c < PRIOR.components; c++) {
      const [x, y] = toCanvas(PRIOR.means[c * K + state.dims[0]], PRIOR.means[c * K + state.dims[1]]);
      ctx.beginPath(); ctx.moveTo(x - 5, y - 5); ctx.lineTo(x + 5, y + 5); ctx.moveTo(x - 5, y + 5); ctx.lineTo(x + 5, y - 5); ctx.stroke();
    }
  }
  document.getElementById("axes").textContent =
    `horizontal: z${state.dims[0] + 1}, vertical: z${state.dims[1] + 1}, both from ${(-state.range).toFixed(2)} to ${state.range.toFixed(2)}`;
}

function drawMap() {
  mapCtx.drawImage(background, 0, 0);
  const [x, y] = toCanvas(state.z[state.dims[0]], state.z[state.dims[1]]);
  mapCtx.strokeStyle = "#000000";
  mapCtx.lineWidth = 2;
  mapCtx.beginPath(); mapCtx.arc(x, y, 7, 0, 2 * Math.PI); mapCtx.stroke();
  mapCtx.beginPath(); mapCtx.moveTo(x - 11, y); mapCtx.lineTo(x + 11, y); mapCtx.moveTo(x, y - 11); mapCtx.lineTo(x, y + 11); mapCtx.stroke();
}

function drawImage() {
  const pixels = decodeLatent(layers, state.z, state.label, CLASSES);
  state.last = pixels;
  const img = smallCtx.createImageData(W, H);
  for (let i = 0; i < H * W; i++) {
    const v = Math.round(255 * pixels[i]);
    img.data[4 * i] = v; img.data[4 * i + 1] = v; img.data[4 * i + 2] = v; img.data[4 * i + 3] = 255;
  }
  smallCtx.putImageData(img, 0, 0);
  bigCtx.imageSmoothingEnabled = false;
  bigCtx.drawImage(small, 0, 0, big.width, big.height);
}

function update() {
  drawMap();
  drawImage();
  for (let d = 0; d < K; d++) {
    document.getElementById(`slider-${d}`).value = state.z[d];
    document.getElementById(`value-${d}`).textContent = state.z[d].toFixed(2);
  }
}

function setLatent(z) {
  if (!Array.isArray(z) || z.length !== K || !z.every(Number.isFinite)) {
    throw new Error(`z must be an array of ${K} finite numbers`);
  }
  state.z = z.slice();
  update();
}

function setFromPointer(event) {
  const rect = map.getBoundingClientRect();
  const px = ((event.clientX - rect.left) / rect.width) * map.width;
  const py = ((event.clientY - rect.top) / rect.height) * map.height;
  const [a, b] = fromCanvas(px, py);
  state.z[state.dims[0]] = a;
  state.z[state.dims[1]] = b;
  update();
}

map.addEventListener("pointerdown", (e) => { state.dragging = true; map.setPointerCapture(e.pointerId); setFromPointer(e); });
map.addEventListener("pointermove", (e) => { if (state.dragging) setFromPointer(e); });
map.addEventListener("pointerup", (e) => { state.dragging = false; map.releasePointerCapture(e.pointerId); });
map.addEventListener("keydown", (e) => {
  const step = state.range / 40;
  const moves = { ArrowLeft: [0, -step], ArrowRight: [0, step], ArrowDown: [1, -step], ArrowUp: [1, step] };
  if (!(e.key in moves)) return;
  const [axis, delta] = moves[e.key];
  state.z[state.dims[axis]] += delta;
  update();
  e.preventDefault();
});

function gaussian() { // Box-Muller: one draw from N(0, 1)
  const u = 1 - Math.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * Math.random());
}

function samplePrior() { // z ~ p(z): N(0, I), or a component c ~ pi, then N(m_c, diag exp(s_c))
  if (PRIOR.kind !== "mixture") return state.z.map(gaussian);
  let u = Math.random(), c = 0;
  while (c < PRIOR.components - 1 && u >= PRIOR.weights[c]) { u -= PRIOR.weights[c]; c++; }
  return Array.from({ length: K }, (_, d) => PRIOR.means[c * K + d] + Math.exp(PRIOR.logvars[c * K + d] / 2) * gaussian());
}

function setLabel(label) {
  if (!CLASSES) throw new Error("this model is not conditional: it has no label");
  if (!Number.isInteger(label) || label < 0 || label >= CLASSES) {
    throw new Error(`label must be an integer from 0 to ${CLASSES - 1}`);
  }
  state.label = label;
  document.getElementById("label").value = String(label);
  drawBackground();
  update();
}
document.getElementById("sample").addEventListener("click", () => setLatent(samplePrior()));
document.getElementById("origin").addEventListener("click", () => setLatent(new Array(K).fill(0)));

function buildControls() {
  const sliders = document.getElementById("sliders");
  for (let d = 0; d < K; d++) {
    const row = document.createElement("div");
    row.innerHTML = `<label for="slider-${d}">z${d + 1}</label>
      <input type="range" id="slider-${d}" min="-5" max="5" step="0.01" value="0">
      <span id="value-${d}" class="value">0.00</span>`;
    sliders.appendChild(row);
    row.querySelector("input").addEventListener("input", (e) => { state.z[d] = Number(e.target.value); update(); });
  }
  for (const [axis, id] of [[0, "dim-x"], [1, "dim-y"]]) {
    const select = document.getElementById(id);
    for (let d = 0; d < K; d++) select.add(new Option(`z${d + 1}`, d, false, d === state.dims[axis]));
    select.addEventListener("change", () => { state.dims[axis] = Number(select.value); drawBackground(); update(); });
    select.disabled = K <= 2;
  }
  const legend = document.getElementById("legend");
  if (labels) for (let c = 0; c < Math.max(10, CLASSES); c++) {
    legend.insertAdjacentHTML("beforeend", `<span><i style="background:${TAB10[c % 10]}"></i>${c}</span>`);
  }
  const labelRow = document.getElementById("label-row");
  if (CLASSES) {
    const select = document.getElementById("label");
    for (let c = 0; c < CLASSES; c++) select.add(new Option(String(c), String(c), false, c === state.label));
    select.addEventListener("change", () => setLabel(Number(select.value)));
    labelRow.hidden = false;
  } else {
    labelRow.remove();
  }
  document.getElementById("sample").textContent =
    PRIOR.kind === "mixture" ? `sample z ~ p(z), the mixture of ${PRIOR.components}` : "sample z ~ N(0, I)";
}

buildControls();
drawBackground();
update();

// A small API for tests and curious students (open the browser console):
window.explorer = {
  // decode(z) draws the selected label for a conditional model; decode(z, y) any label
  decode: (z, label = state.label) => Array.from(decodeLatent(layers, z, label, CLASSES)),
  setLatent,
  setLabel,
  label: () => state.label,
  classes: CLASSES,
  latent: () => state.z.slice(),
  lastImage: () => Array.from(state.last),
  imagePixels: () => Array.from(smallCtx.getImageData(0, 0, W, H).data.filter((_, i) => i % 4 === 0)),
  latentToClient: (a, b) => {
    const rect = map.getBoundingClientRect();
    const [x, y] = toCanvas(a, b);
    return { x: rect.left + (x / map.width) * rect.width, y: rect.top + (y / map.height) * rect.height };
  },
  ready: true,
};
