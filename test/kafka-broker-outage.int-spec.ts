/**
 * The broker goes away while the tracker takes orders: it answers 503 instead of 202, nothing it acknowledged
 * is lost, and when the broker is back it acknowledges again without a restart. Runs its own broker (on
 * KAFKA_OUTAGE_PORT, default 39192) so that stopping it does not disturb the other suites.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { ensureBuilt } from './support/build';
import { kafkaLocal } from './support/kafka-broker';
import { createTopics, deleteCreatedTopics, describeKafka, kafkaEnv, RoleProcess, setupTracking, sleep, startRole, TrackingSetup, uniquePrefix, waitForDrain } from './support/kafka';

const PORT = process.env.KAFKA_OUTAGE_PORT ?? '39192';
const BROKERS = `127.0.0.1:${PORT}`;

/** ConversionRecorded events per order id. */
function recordedOrders(dataDir: string): Map<string, number> {
  const db = new Database(join(dataDir, 'events.sqlite'), { readonly: true });
  try {
    const rows = db
      .prepare("SELECT json_extract(data, '$.orderId') AS o, COUNT(*) AS n FROM events WHERE type = 'ConversionRecorded' GROUP BY o")
      .all() as { o: string; n: number }[];
    return new Map(rows.map((r) => [r.o, r.n]));
  } finally {
    db.close();
  }
}

describeKafka('Kafka path: the broker stops while the tracker takes orders (real broker)', () => {
  let setup: TrackingSetup;
  const processes: RoleProcess[] = [];

  beforeAll(async () => {
    ensureBuilt();
    await kafkaLocal('start', { KAFKA_PORT: PORT, KAFKA_FRESH: '1' });
    setup = await setupTracking(3);
  }, 300_000);

  afterAll(async () => {
    for (const p of processes.splice(0)) await p.kill9();
    setup?.cleanup();
    await deleteCreatedTopics();
    await kafkaLocal('stop', { KAFKA_PORT: PORT });
  }, 60_000);

  it('given orders flowing, when the broker stops and comes back, then the tracker answers 503 (never 202) while it is down, 202 again after, and every 202 is stored exactly once', async () => {
    const prefix = uniquePrefix('outage');
    const settings = await createTopics(prefix, BROKERS);
    const env = kafkaEnv(prefix, BROKERS, { KAFKA_SEND_TIMEOUT_MS: '2000' });
    const tracker = await startRole('tracker', setup.dataDir, env);
    const ingestor = await startRole('ingestor', setup.dataDir, env);
    processes.push(tracker, ingestor);

    const statuses = new Map<string, number[]>();
    const answers: { orderId: string; status: number; error?: string; phase: string }[] = [];
    let phase = 'up';
    let n = 0;
    const send = async (orderId: string) => {
      // The same body for the same order every time: a storefront's retry is the same request again.
      const body = { orderId, amountMinor: 1000, currency: 'EUR', affiliateCode: setup.codes[Number(orderId.slice(2)) % 3] };
      const res = await tracker.request('POST', '/v1/conversions', body, { 'x-api-key': setup.storefrontKey });
      statuses.set(orderId, [...(statuses.get(orderId) ?? []), res.status]);
      answers.push({ orderId, status: res.status, error: res.body?.error, phase });
      return res.status;
    };
    let stopped = false;
    const lane = async () => {
      while (!stopped) await send(`o-${n++}`);
    };
    const count = (status: number, inPhase: string) => answers.filter((a) => a.status === status && a.phase === inPhase).length;

    const lanes = Promise.all([lane(), lane(), lane(), lane()]);
    try {
      while (count(202, 'up') < 100) await sleep(10);

      // When: the broker stops under load.
      phase = 'stopping';
      await kafkaLocal('stop', { KAFKA_PORT: PORT });
      phase = 'down';
      while (count(503, 'down') < 20) await sleep(10);

      // And comes back: the same tracker process acknowledges again.
      phase = 'starting';
      await kafkaLocal('start', { KAFKA_PORT: PORT });
      phase = 'back';
      const deadline = Date.now() + 90_000;
      while (count(202, 'back') < 100 && Date.now() < deadline) await sleep(50);
    } finally {
      stopped = true;
      await lanes;
    }

    // Then: only 202 and 503 were answered; while the broker was down, only 503 (with the error shape).
    expect(answers.filter((a) => a.status !== 202 && a.status !== 503)).toEqual([]);
    expect(answers.filter((a) => a.status === 503 && a.error !== 'unavailable')).toEqual([]);
    expect(count(202, 'down')).toBe(0);
    expect(count(202, 'back')).toBeGreaterThanOrEqual(100);

    // A storefront retries what got 503 until it gets 202.
    const refused = [...statuses].filter(([, s]) => !s.includes(202)).map(([orderId]) => orderId);
    expect(refused.length).toBeGreaterThanOrEqual(20);
    for (const orderId of refused) {
      while ((await send(orderId)) !== 202) await sleep(200);
    }

    await waitForDrain(settings, 120_000, BROKERS);
    const recorded = recordedOrders(setup.dataDir);
    // Every order is acknowledged now; each is stored exactly once, the ones retried after a 503 included.
    expect(recorded.size).toBe(statuses.size);
    expect([...statuses.keys()].filter((o) => recorded.get(o) !== 1)).toEqual([]);
    const db = new Database(join(setup.dataDir, 'events.sqlite'), { readonly: true });
    const commissions = (db.prepare("SELECT COUNT(*) AS n FROM events WHERE type = 'CommissionEarned'").get() as { n: number }).n;
    db.close();
    expect(commissions).toBe(statuses.size);
  }, 240_000);
});
