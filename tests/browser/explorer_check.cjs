// Open an explorer page in headless Chromium with the network off, exercise it the way a
// student would, and print what it saw as JSON for tests/test_explorer_browser.py.
//
// usage: node explorer_check.cjs PAGE.html REQUEST.json [SCREENSHOT.png]
// REQUEST.json: {"decode": [[z...], ...], "labels": [y, ...] (conditional pages), "drag": [[a, b], ...],
//                "select": {"label": y, "latent": [z...]} (choose a label with the page's selector),
//                "timing": n (time n decodes, and n redraws of the map and the image, as a drag does)}
"use strict";
const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");

async function main() {
  const [pagePath, requestPath, screenshot] = process.argv.slice(2);
  const request = JSON.parse(fs.readFileSync(requestPath, "utf8"));
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const result = { consoleErrors: [], networkRequests: [], decoded: [], drags: [], keyboard: null, selected: null };
  try {
    const context = await browser.newContext({ offline: true, viewport: { width: 1100, height: 760 } });
    const page = await context.newPage();
    page.on("console", (msg) => { if (msg.type() === "error") result.consoleErrors.push(msg.text()); });
    page.on("pageerror", (err) => result.consoleErrors.push(String(err)));
    page.on("request", (req) => { if (!req.url().startsWith("file:")) result.networkRequests.push(req.url()); });
    await page.goto("file://" + path.resolve(pagePath));
    await page.waitForFunction(() => window.explorer && window.explorer.ready, null, { timeout: 10000 });

    result.decoded = await page.evaluate(({ zs, labels }) => zs.map((z, i) => (labels
      ? window.explorer.decode(z, labels[i]) : window.explorer.decode(z))), { zs: request.decode, labels: request.labels });
    result.classes = await page.evaluate(() => window.explorer.classes);
    result.labelSelector = await page.evaluate(() => {
      const select = document.getElementById("label");
      return select && !select.closest("[hidden]") ? Array.from(select.options, (o) => o.value) : null;
    });
    if (request.select) { // as a student would: pick the label in the selector, then move the point
      await page.selectOption("#label", String(request.select.label));
      await page.evaluate((z) => window.explorer.setLatent(z), request.select.latent);
      result.selected = await page.evaluate(() => ({
        label: window.explorer.label(), latent: window.explorer.latent(), image: window.explorer.lastImage(),
        pixels: window.explorer.imagePixels(),
      }));
    }

    if (request.timing) { // milliseconds per decode, and per redraw (what every pointer move costs)
      result.timing = await page.evaluate((n) => {
        const median = (t) => t.sort((a, b) => a - b)[Math.floor(t.length / 2)];
        const decode = [], redraw = [];
        for (let i = 0; i < n; i++) {
          const z = window.explorer.latent().map((_, d) => Math.sin(i + d));
          let start = performance.now();
          window.explorer.decode(z);
          decode.push(performance.now() - start);
          start = performance.now();
          window.explorer.setLatent(z);
          redraw.push(performance.now() - start);
        }
        return { n, decodeMs: median(decode), redrawMs: median(redraw) };
      }, request.timing);
    }

    // drag the marker from point to point with the mouse button held, as a student would
    let first = true;
    for (const [a, b] of request.drag) {
      const { x, y } = await page.evaluate(([a, b]) => window.explorer.latentToClient(a, b), [a, b]);
      if (first) { await page.mouse.move(x, y); await page.mouse.down(); first = false; }
      else await page.mouse.move(x, y, { steps: 5 });
      result.drags.push(await page.evaluate(() => ({
        latent: window.explorer.latent(), image: window.explorer.lastImage(), pixels: window.explorer.imagePixels(),
      })));
    }
    await page.mouse.up();

    const before = await page.evaluate(() => window.explorer.latent());
    await page.focus("#map");
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowUp");
    const after = await page.evaluate(() => window.explorer.latent());
    await page.click("#sample");
    const sampled = await page.evaluate(() => window.explorer.latent());
    result.keyboard = { before, after, sampled };
    result.sampleButton = await page.textContent("#sample");
    result.title = await page.title();
    result.infoText = await page.textContent("#info");
    if (screenshot) {
      await page.evaluate(([a, b]) => window.explorer.setLatent([a, b]), request.screenshotLatent || [0, 0]);
      await page.screenshot({ path: screenshot });
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(result));
}

main().catch((err) => { process.stderr.write(String(err && err.stack || err) + "\n"); process.exit(1); });
