#!/usr/bin/env node
/**
 * Measures the web dashboard on this machine: the gzipped size of the JavaScript it ships (all of it, and the entry
 * script the first view needs), and the time to first
 * render of a program's dashboard (navigation start → the top metrics with figures on the page) in headless
 * Chromium, for a program with N affiliates. Needs the build (npm run build) and /usr/bin/chromium.
 *
 *   node scripts/web-first-render.js [--affiliates 10000] [--runs 7] [--data-dir DIR]
 *
 * Seeds a fresh DATA_DIR with `node dist/bench/seed.js --affiliates N` (the real ingest path) unless --data-dir names
 * a seeded one, starts the built standalone app on it, then per run opens a fresh browser context (no cache, no
 * storage): "cold" is its first load, "warm" a reload with the assets cached. Prints one JSON line.
 */
const { spawn, execFileSync } = require('node:child_process');
const { mkdtempSync, readdirSync, readFileSync, rmSync } = require('node:fs');
const { createServer } = require('node:net');
const { tmpdir } = require('node:os');
const { join, resolve } = require('node:path');
const { gzipSync } = require('node:zlib');
const { chromium } = require('playwright-core');

const ROOT = resolve(__dirname, '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const AFFILIATES = Number(arg('affiliates', '10000'));
const RUNS = Number(arg('runs', '7'));
const TOKEN = 'first-render-token';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Records when the dashboard's metrics first hold figures, after the frame that shows them. */
const OBSERVE_FIRST_RENDER = `
  sessionStorage.setItem('affiliate-dashboard-token', ${JSON.stringify(TOKEN)});
  new MutationObserver((_, observer) => {
    const clicks = document.querySelector('[data-testid="metric-clicks"] dd');
    if (!clicks || window.__firstRender) return;
    observer.disconnect();
    requestAnimationFrame(() => setTimeout(() => { window.__firstRender = performance.now(); }, 0));
  }).observe(document, { childList: true, subtree: true });
`;

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x) => Math.round(x * 10) / 10;

async function main() {
  const assets = join(ROOT, 'dist', 'web', 'assets');
  const js = readdirSync(assets).filter((f) => f.endsWith('.js'));
  const jsBytes = js.reduce((n, f) => n + readFileSync(join(assets, f)).length, 0);
  const gzipped = (f) => gzipSync(readFileSync(join(assets, f)), { level: 9 }).length;
  const jsGzipBytes = js.reduce((n, f) => n + gzipped(f), 0);
  // The entry script index.html loads; the other pages and the chart are chunks loaded when needed.
  const entry = /src="\/assets\/([^"]+\.js)"/.exec(readFileSync(join(ROOT, 'dist', 'web', 'index.html'), 'utf8'))[1];
  const entryGzipBytes = gzipped(entry);

  const given = arg('data-dir');
  const dataDir = given ?? mkdtempSync(join(tmpdir(), 'affiliate-web-render-'));
  let programId;
  if (given) {
    programId = arg('program');
    if (!programId) throw new Error('--data-dir needs --program <id> (the seed command printed it)');
  } else {
    const seeded = JSON.parse(execFileSync(process.execPath, [join(ROOT, 'dist/bench/seed.js'), '--data-dir', dataDir, '--affiliates', String(AFFILIATES)]).toString().trim().split('\n').pop());
    programId = seeded.programId;
  }

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const app = spawn(process.execPath, [join(ROOT, 'dist/apps/standalone/src/main.js')], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, ADMIN_TOKEN: TOKEN, LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  const bootStarted = Date.now();
  for (;;) {
    try {
      if ((await fetch(`${base}/ready`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() - bootStarted > 120_000) throw new Error('the app was not ready within 120 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  const dashboardApiMs = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const res = await fetch(`${base}/api/programs/${programId}/dashboard`, { headers: { authorization: `Bearer ${TOKEN}` } });
    await res.json();
    dashboardApiMs.push(performance.now() - t);
  }

  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const cold = [];
  const warm = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
      await context.addInitScript(OBSERVE_FIRST_RENDER);
      const page = await context.newPage();
      for (const into of [cold, warm]) {
        if (into === cold) await page.goto(`${base}/programs/${programId}`);
        else await page.reload();
        await page.waitForFunction('window.__firstRender !== undefined', undefined, { timeout: 30_000 });
        into.push(await page.evaluate('window.__firstRender'));
      }
      const shown = await page.textContent('[data-testid="metric-clicks"] dd');
      if (!/\d/.test(shown ?? '')) throw new Error(`the dashboard rendered no figures: ${shown}`);
      await context.close();
    }
  } finally {
    await browser.close();
    app.kill('SIGTERM');
    await new Promise((r) => app.once('exit', r));
    if (!given) rmSync(dataDir, { recursive: true, force: true });
  }
  process.stdout.write(
    JSON.stringify({
      affiliates: AFFILIATES,
      runs: RUNS,
      jsFiles: js,
      jsBytes,
      jsGzipBytes,
      entry,
      entryGzipBytes,
      dashboardApiMsMedian: round(median(dashboardApiMs)),
      firstRenderColdMsMedian: round(median(cold)),
      firstRenderColdMsMax: round(Math.max(...cold)),
      firstRenderWarmMsMedian: round(median(warm)),
      firstRenderWarmMsMax: round(Math.max(...warm)),
    }) + '\n',
  );
}

main().catch((e) => {
  process.stderr.write(`${e.stack ?? e}\n`);
  process.exit(1);
});
