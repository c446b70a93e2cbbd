// The explorer page: a 2-D map of the latent space (the test set's latent means as a
// coloured background), the decoded image of the point under the pointer, sliders for
// every latent dimension, and a button that samples z ~ N(0, I).
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

const state = { z: new Array(K).fill(0), dims: [0, Math.min(1, K - 1)], range: 3, dragging: false, last: null };

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
  ctx.globalAlpha = 0.6;
  for (let n = 0; n < N; n++) {
    const [x, y] = toCanvas(points[n * K + state.dims[0]], points[n * K + state.dims[1]]);
    ctx.fillStyle = labels ? TAB10[labels[n] % 10] : "#555555";
    ctx.fillRect(x - 1, y - 1, 2.5, 2.5);
  }
  ctx.globalAlpha = 1;
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
  const pixels = decodeLatent(layers, state.z);
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
document.getElementById("sample").addEventListener("click", () => setLatent(state.z.map(gaussian)));
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
  if (labels) for (let c = 0; c < 10; c++) {
    legend.insertAdjacentHTML("beforeend", `<span><i style="background:${TAB10[c]}"></i>${c}</span>`);
  }
}

buildControls();
drawBackground();
update();

// A small API for tests and curious students (open the browser console):
window.explorer = {
  decode: (z) => Array.from(decodeLatent(layers, z)),
  setLatent,
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
