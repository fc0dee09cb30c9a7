import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kafka, logLevel } from 'kafkajs';
import { Api, BROWSER_UA } from '../lib/api';
import { figure, load } from '../lib/load';
import { DIST, startApp, startRole } from '../lib/processes';
import { Row } from '../lib/report';
import { Settings } from './settings';

const ROOT = join(DIST, '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A broker at KAFKA_BROKERS (default the local script's 127.0.0.1:9092), started with scripts/kafka-local.sh when none answers. */
async function broker(): Promise<{ brokers: string[]; stop: () => void }> {
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const kafka = new Kafka({ clientId: 'bench-probe', brokers, logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 1000 });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.disconnect();
    return { brokers, stop: () => undefined };
  } catch {
    if (process.env.KAFKA_BROKERS) throw new Error(`no Kafka broker answers at ${process.env.KAFKA_BROKERS}`);
    execFileSync(join(ROOT, 'scripts/kafka-local.sh'), ['start'], { stdio: 'ignore', env: { ...process.env, KAFKA_FRESH: '1' } });
    return { brokers, stop: () => execFileSync(join(ROOT, 'scripts/kafka-local.sh'), ['stop'], { stdio: 'ignore' }) };
  }
}

/**
 * 6. Kafka mode: clicks through the tracker (202 after Kafka acknowledged) → ingestor → SQLite, as separate
 * processes; events/s from the first request until the last acknowledged click is in the store. Beside it,
 * a raw kafkajs producer (acks -1, idempotent) → consumer loop moving the same number of records of the
 * same size through the same broker.
 */
export async function kafka(s: Settings): Promise<Row[]> {
  const { brokers, stop } = await broker();
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-kafka-'));
  try {
    const product: number[] = [];
    const reference: number[] = [];
    let notes = '';
    for (let run = 0; run < s.runs; run++) {
      const prefix = `bench-${Date.now().toString(36)}-${run}.`;
      const env = { KAFKA_BROKERS: brokers.join(','), KAFKA_TOPIC_PREFIX: prefix };
      const { loadKafkaSettings } = require(join(DIST, 'libs/messaging/src/kafka.config.js'));
      const { ensureTopics } = require(join(DIST, 'libs/messaging/src/kafka.topics.js'));
      const settings = loadKafkaSettings(brokers, env);
      const admin = new Kafka({ clientId: 'bench-admin', brokers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      await ensureTopics(admin, settings);
      await admin.disconnect();

      // Set up the program on the embedded app, then run the production shape on the same store.
      const setupApp = await startApp({}, dataDir);
      const { key, codes } = await new Api(setupApp.baseUrl, setupApp.token!).setup(`k${run}`, 1);
      await setupApp.stop();
      const ingestor = await startRole('ingestor', dataDir, env);
      const tracker = await startRole('tracker', dataDir, env);
      const db = new Database(join(dataDir, 'events.sqlite'), { readonly: true });
      const clicks = () => (db.prepare("SELECT COUNT(*) AS n FROM events WHERE type = 'ClickRecorded'").get() as { n: number }).n;
      try {
        const before = clicks();
        const started = Date.now();
        const r = await load({
          url: `${tracker.baseUrl}/v1/clicks`,
          method: 'POST',
          headers: { 'x-api-key': key, 'content-type': 'application/json' },
          body: () => JSON.stringify({ code: codes[0], userAgent: BROWSER_UA }),
          connections: s.connections,
          durationS: s.durationS,
          expect: 202,
        });
        const deadline = Date.now() + 120_000;
        while (clicks() - before < r.ok && Date.now() < deadline) await sleep(20);
        const stored = clicks() - before;
        if (stored < r.ok) throw new Error(`kafka mode: ${r.ok} acknowledged clicks but ${stored} stored after 2 minutes`);
        product.push(stored / ((Date.now() - started) / 1000));
        reference.push(await rawLoop(brokers, `${prefix}raw`, stored, 400));
        notes = `${s.connections} connections × ${r.durationS} s × ${s.runs} runs into POST /v1/clicks; tracker and ingestor as separate processes, ${r.ok} acknowledged in the last run, ${r.failed} refused`;
      } finally {
        db.close();
        await tracker.stop();
        await ingestor.stop();
      }
    }
    const value = figure(product);
    const ref = figure(reference);
    return [
      {
        scenario: 'kafka mode tracker → Kafka → ingestor → store',
        metric: 'throughput',
        unit: 'events/s',
        value,
        reference: { name: 'raw kafkajs producer → consumer', value: ref },
        ratio: value.median / ref.median,
        target: '≥ 0.5× raw kafkajs',
        met: value.median / ref.median >= 0.5,
        notes,
      },
    ];
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
    stop();
  }
}

/** Produces `count` records of `bytes` each (acks -1, idempotent, 100 per send) and consumes them all; records/s. */
async function rawLoop(brokers: string[], topic: string, count: number, bytes: number): Promise<number> {
  const kafka = new Kafka({ clientId: 'bench-raw', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 6, replicationFactor: 1 }] });
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const consumer = kafka.consumer({ groupId: `${topic}-group` });
  await Promise.all([producer.connect(), consumer.connect()]);
  await consumer.subscribe({ topic, fromBeginning: true });
  let received = 0;
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        received += batch.messages.length;
        if (received >= count) resolve();
      },
    });
  });
  const value = Buffer.alloc(bytes, 'x');
  const started = Date.now();
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < count; i += 100) {
    const messages = Array.from({ length: Math.min(100, count - i) }, (_, k) => ({ key: `k${(i + k) % 64}`, value }));
    sends.push(producer.send({ topic, acks: -1, messages }));
    if (sends.length >= 8) await sends.shift();
  }
  await Promise.all(sends);
  await done;
  const perSec = count / ((Date.now() - started) / 1000);
  await Promise.all([producer.disconnect(), consumer.disconnect()]);
  return perSec;
}
