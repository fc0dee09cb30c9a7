#!/usr/bin/env node
/**
 * Measures the Kafka path on this machine: acknowledged events per second through the tracker, and the lag from
 * the tracker's 202 to the event in the store (p50/p99). Needs the build (npm run build) and a broker
 * (scripts/kafka-local.sh start).
 *
 *   node scripts/kafka-measure.js [--duration 20] [--connections 64] [--rates 200,1000] [--linger 0]
 *
 * Runs the tracker and one ingestor as separate processes (the production shape) on a fresh DATA_DIR and fresh
 * topics, after a program with 20 affiliates was set up by the embedded app. Every figure is checked against the
 * store: the events stored must equal the requests acknowledged.
 */
const { spawn } = require('node:child_process');
const { mkdtempSync, rmSync, existsSync } = require('node:fs');
const { createServer } = require('node:net');
const { tmpdir, cpus } = require('node:os');
const { join, resolve } = require('node:path');
const autocannon = require('autocannon');
const Database = require('better-sqlite3');
const { Kafka, logLevel } = require('kafkajs');

const ROOT = resolve(__dirname, '..');
const DIST = join(ROOT, 'dist');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const DURATION = Number(arg('duration', '20'));
const CONNECTIONS = Number(arg('connections', '64'));
const RATES = arg('rates', '200,1000').split(',').map(Number);
const LINGER = arg('linger', '0');
const BROKERS = process.env.KAFKA_BROKERS || '127.0.0.1:9092';
const TOKEN = 'measure-admin-token';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

const children = new Set();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

async function start(role, dataDir, env = {}) {
  const port = await freePort();
  const child = spawn(process.execPath, [join(DIST, 'apps', role, 'src', 'main.js')], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, ADMIN_TOKEN: TOKEN, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/ready`)).status === 200) break;
    } catch {}
    if (i > 600 || child.exitCode !== null) throw new Error(`${role} did not start`);
    await sleep(100);
  }
  children.add(child);
  const exited = new Promise((r) => child.once('exit', () => (children.delete(child), r())));
  return { url, stop: async () => (child.kill('SIGTERM'), await exited) };
}

async function json(method, url, body, headers = {}) {
  const res = await fetch(url, { method, headers: { 'content-type': 'application/json', ...headers }, body: body && JSON.stringify(body) });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** The tracker's producer sends so far and the seconds they took to be acknowledged (kafka_publish_seconds). */
async function publishStats(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name) => Number((text.match(new RegExp(`^${name} (\\S+)$`, 'm')) ?? [])[1] ?? 0);
  return { count: value('kafka_publish_seconds_count'), sum: value('kafka_publish_seconds_sum') };
}

function quantile(sorted, q) {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function main() {
  if (!existsSync(join(DIST, 'apps', 'tracker', 'src', 'main.js'))) throw new Error('dist/ is missing: run npm run build first');
  const kafka = new Kafka({ clientId: 'measure', brokers: BROKERS.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect().catch(() => {
    throw new Error(`no Kafka broker answers at ${BROKERS}: start one with scripts/kafka-local.sh start`);
  });

  const prefix = `measure-${Date.now().toString(36)}.`;
  const env = { KAFKA_BROKERS: BROKERS, KAFKA_TOPIC_PREFIX: prefix, KAFKA_LINGER_MS: LINGER };
  const { loadKafkaSettings } = require(join(DIST, 'libs/messaging/src/kafka.config.js'));
  const { ensureTopics } = require(join(DIST, 'libs/messaging/src/kafka.topics.js'));
  const settings = loadKafkaSettings(BROKERS.split(','), env);
  await ensureTopics(admin, settings);

  const dataDir = mkdtempSync(join(tmpdir(), 'kafka-measure-'));
  const setup = await start('standalone', dataDir);
  const op = { authorization: `Bearer ${TOKEN}` };
  const program = await json('POST', `${setup.url}/api/programs`, {
    name: 'Measure', currency: 'EUR', defaultLandingUrl: 'https://shop.example.com/', cookieWindowDays: 30,
    commission: { type: 'percent', basisPoints: 1000 }, holdDays: 0, minimumPayoutMinor: 1000,
  }, op);
  const storefront = await json('POST', `${setup.url}/api/programs/${program.body.id}/storefronts`, { name: 'shop' }, op);
  const codes = [];
  for (let i = 0; i < 20; i++) {
    const a = await json('POST', `${setup.url}/api/programs/${program.body.id}/affiliates`, { name: `A${i}`, email: `a${i}@example.com`, code: `measure-${i}` }, op);
    codes.push(a.body.code);
  }
  await setup.stop();

  const ingestor = await start('ingestor', dataDir, env);
  const tracker = await start('tracker', dataDir, env);
  const key = storefront.body.apiKey;
  const db = new Database(join(dataDir, 'events.sqlite'), { readonly: true });
  const clicksStored = () => db.prepare("SELECT COUNT(*) AS n FROM events WHERE type = 'ClickRecorded'").get().n;

  const drain = async () => {
    for (;;) {
      let committed = 0;
      let end = 0;
      for (const t of await admin.fetchOffsets({ groupId: settings.groupId, topics: [settings.topics.clicks, settings.topics.orders] }))
        for (const p of t.partitions) committed += Math.max(0, Number(p.offset));
      for (const topic of [settings.topics.clicks, settings.topics.orders]) for (const p of await admin.fetchTopicOffsets(topic)) end += Number(p.high);
      if (committed >= end) return end;
      await sleep(50);
    }
  };

  const cannon = (opts) =>
    new Promise((res, rej) => autocannon({ connections: CONNECTIONS, duration: DURATION, ...opts }, (e, r) => (e ? rej(e) : res(r))));
  const results = [];
  const report = (r) => {
    results.push(r);
    console.error(JSON.stringify(r));
  };

  // Warm-up (JIT, connections, producer): its events are counted in the store like any others.
  await cannon({ url: `${tracker.url}/r/${codes[0]}`, duration: 3 });

  for (const [name, opts, okStatus] of [
    ['GET /r/{code} → 302', { url: `${tracker.url}/r/${codes[1]}`, headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0' } }, '3xx'],
    ['POST /v1/clicks → 202', {
      url: `${tracker.url}/v1/clicks`, method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify({ code: codes[2], ip: '198.51.100.7', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0' }),
    }, '2xx'],
  ]) {
    await drain();
    const before = clicksStored();
    const sendsBefore = await publishStats(tracker.url);
    const r = await cannon(opts);
    const sendsAfter = await publishStats(tracker.url);
    const acked = r[okStatus];
    const t0 = Date.now();
    await drain();
    const drainMs = Date.now() - t0;
    const stored = clicksStored() - before;
    report({
      scenario: name, acked, ackedPerSec: Math.round(acked / DURATION), non2xx3xx: r.non2xx - (okStatus === '3xx' ? r['3xx'] : 0), errors: r.errors, timeouts: r.timeouts,
      latencyP50ms: r.latency.p50, latencyP99ms: r.latency.p99, stored, storedMinusAcked: stored - acked,
      producerSends: sendsAfter.count - sendsBefore.count,
      recordsPerSend: +(stored / (sendsAfter.count - sendsBefore.count)).toFixed(1),
      ackMsAvg: +((1000 * (sendsAfter.sum - sendsBefore.sum)) / (sendsAfter.count - sendsBefore.count)).toFixed(1), consistent: stored >= acked && stored - acked <= CONNECTIONS, backlogDrainMs: drainMs,
      note: 'stored ≥ acked: requests in flight when the run stops are stored but not counted (at most one per connection)',
    });
  }

  // End-to-end lag at a fixed request rate: lag = recorded_at of the ClickRecorded event − the moment the client
  // had the 202. autocannon sends at the rate on raw sockets (a light client: a busy one would read its 202s late).
  for (const rate of RATES) {
    await drain();
    const acks = [];
    const seconds = Math.min(DURATION, 15);
    const r = await cannon({
      url: `${tracker.url}/v1/clicks`, method: 'POST', connections: 32, overallRate: rate, amount: rate * seconds, duration: seconds * 4,
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify({ code: codes[3], ip: '198.51.100.8', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0' }),
      setupClient: (client) => client.on('body', (body) => {
        const at = Date.now();
        try {
          const clickId = JSON.parse(body.toString()).clickId;
          if (clickId) acks.push({ clickId, at });
        } catch {}
      }),
    });
    await drain();
    const recorded = db.prepare('SELECT recorded_at FROM events WHERE stream_id = ?');
    const lags = acks.map((a) => Date.parse(recorded.get(`click-${a.clickId}`).recorded_at) - a.at).sort((x, y) => x - y);
    report({
      scenario: `lag 202 → stored at ${rate} req/s for ${seconds} s (POST /v1/clicks)`, acked: acks.length, requests: r.requests.total, non2xx: r.non2xx, errors: r.errors,
      requestLatencyP50ms: r.latency.p50, requestLatencyP99ms: r.latency.p99,
      lagP50ms: quantile(lags, 0.5), lagP99ms: quantile(lags, 0.99), lagMaxms: lags[lags.length - 1],
      note: 'recorded_at: millisecond clock read when the ingestor starts its append transaction (the commit follows within the same ms or two)',
    });
  }

  db.close();
  await tracker.stop();
  await ingestor.stop();
  await admin.deleteGroups([settings.groupId]).catch(() => undefined);
  await admin.deleteTopics({ topics: Object.values(settings.topics) }).catch(() => undefined);
  await admin.disconnect();
  rmSync(dataDir, { recursive: true, force: true });
  console.log(JSON.stringify({ machine: { cpus: cpus().length, model: cpus()[0].model }, brokers: BROKERS, lingerMs: Number(LINGER), connections: CONNECTIONS, durationS: DURATION, results }, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
