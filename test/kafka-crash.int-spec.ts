/**
 * Crashes on the Kafka path against a real broker, with separate tracker and ingestor processes sharing one
 * event store: every acknowledged event is appended exactly once, whatever dies when.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { countEvents } from './support/app';
import { ensureBuilt } from './support/build';
import {
  clickItems,
  clickLoad,
  createTopics,
  deleteCreatedTopics,
  describeKafka,
  FAULTS_JS,
  kafkaEnv,
  metricSum,
  progressNow,
  RoleProcess,
  sendBatch,
  setupTracking,
  sleep,
  startRole,
  TrackingSetup,
  uniquePrefix,
  waitForDrain,
} from './support/kafka';

/** Click streams in the store and how many ClickRecorded events each has. */
function clickStreams(dataDir: string): Map<string, number> {
  const db = new Database(join(dataDir, 'events.sqlite'), { readonly: true });
  try {
    const rows = db.prepare("SELECT stream_id AS s, COUNT(*) AS n FROM events WHERE type = 'ClickRecorded' GROUP BY stream_id").all() as { s: string; n: number }[];
    return new Map(rows.map((r) => [r.s, r.n]));
  } finally {
    db.close();
  }
}

function expectEachClickOnce(dataDir: string, acked: string[]): void {
  const streams = clickStreams(dataDir);
  expect(new Set(acked).size).toBe(acked.length);
  expect(streams.size).toBe(acked.length);
  expect([...streams.values()].filter((n) => n !== 1)).toEqual([]);
  expect(acked.filter((id) => !streams.has(`click-${id}`))).toEqual([]);
}

describeKafka('Kafka path: crashes of ingestors (real broker)', () => {
  let setup: TrackingSetup;
  const processes: RoleProcess[] = [];
  const start = async (...args: Parameters<typeof startRole>) => {
    const p = await startRole(...args);
    processes.push(p);
    return p;
  };

  beforeAll(() => ensureBuilt(), 300_000);

  beforeEach(async () => {
    setup = await setupTracking(6);
  }, 120_000);

  afterEach(async () => {
    for (const p of processes.splice(0)) await p.kill9();
    setup?.cleanup();
    await deleteCreatedTopics();
  });

  it('given a burst of acknowledged events, when the ingestor is killed -9 after appending a batch but before committing it and a new one starts, then each event is appended exactly once', async () => {
    const prefix = uniquePrefix('crash');
    const settings = await createTopics(prefix);
    const env = kafkaEnv(prefix);
    const tracker = await start('tracker', setup.dataDir, env);

    // Given: a burst of 3000 clicks and 300 conversions, every one acknowledged by the tracker before any ingestor runs.
    const clicks: string[] = [];
    for (let i = 0; i < 30; i++) clicks.push(...(await sendBatch(tracker, setup.storefrontKey, clickItems(setup.codes, 100, i * 100))));
    const orders = Array.from({ length: 300 }, (_, i) => ({ type: 'conversion', orderId: `o-${i}`, amountMinor: 1000 + i, currency: 'EUR', affiliateCode: setup.codes[i % setup.codes.length] }));
    for (let i = 0; i < 3; i++) await sendBatch(tracker, setup.storefrontKey, orders.slice(i * 100, (i + 1) * 100));
    expect(countEvents(setup.dataDir, 'ClickRecorded')).toBe(0);

    // When: the ingestor appends its 4th batch, hangs before that batch's commit, and is killed there.
    const first = await start('ingestor', setup.dataDir, {
      ...env,
      KAFKA_MAX_BYTES_PER_PARTITION: '16384',
      NODE_OPTIONS: `--require ${FAULTS_JS}`,
      FAULT_HANG_COMMIT_AT: '4',
    });
    await first.waitForOutput('FAULT commit-hanging');
    await first.kill9();
    const atKill = await progressNow(settings);
    const storedAtKill = countEvents(setup.dataDir, 'ClickRecorded') + countEvents(setup.dataDir, 'ConversionRecorded');
    // The kill landed inside a batch: appended to the store, not committed in Kafka.
    expect(storedAtKill).toBeGreaterThan(atKill.committed);
    expect(atKill.committed).toBeLessThan(atKill.end);

    const second = await start('ingestor', setup.dataDir, env);
    const drained = await waitForDrain(settings);

    // Then: exact totals, nothing twice, and the new ingestor took over exactly where the commits stopped.
    expect(drained.end).toBe(3300);
    expectEachClickOnce(setup.dataDir, clicks);
    expect(countEvents(setup.dataDir, 'ConversionRecorded')).toBe(300);
    expect(countEvents(setup.dataDir, 'CommissionEarned')).toBe(300);
    expect(metricSum(await second.metrics(), 'kafka_records_processed_total')).toBe(3300 - atKill.committed);
  }, 180_000);

  it('given two ingestors in one group under load, when one is killed -9 during the rebalance the other one started, then nothing is lost and nothing is appended twice', async () => {
    const prefix = uniquePrefix('rebalance');
    const settings = await createTopics(prefix);
    const env = kafkaEnv(prefix, undefined, { KAFKA_MAX_BYTES_PER_PARTITION: '16384' });
    const tracker = await start('tracker', setup.dataDir, env);
    const a = await start('ingestor', setup.dataDir, { ...env, NODE_OPTIONS: `--require ${FAULTS_JS}`, FAULT_ANNOUNCE_REJOIN: '1' });

    const load = clickLoad(tracker, setup);
    let b: RoleProcess | undefined;
    try {
      while (countEvents(setup.dataDir, 'ClickRecorded') < 300) await sleep(50);

      // When: B joins the group; A learns of the rebalance, starts to rejoin, and dies right there.
      b = await start('ingestor', setup.dataDir, env, { waitReady: false });
      const bExited = b.exited.then(() => Promise.reject(new Error(`the second ingestor exited:\n${b!.output()}`)));
      bExited.catch(() => undefined); // reported by the race below only, not when afterEach kills it
      await Promise.race([a.waitForOutput('FAULT rejoin'), bExited]);
      await a.kill9();

      // B ends up with every partition once A's session expired; the load keeps flowing meanwhile.
      const before = countEvents(setup.dataDir, 'ClickRecorded');
      const deadline = Date.now() + 60_000;
      while (countEvents(setup.dataDir, 'ClickRecorded') < before + 300 && Date.now() < deadline) await sleep(100);
    } finally {
      await load.stop();
    }
    expect(load.failures).toEqual([]);
    await waitForDrain(settings);

    // Then: every acknowledged click is in the store exactly once, and no other click is.
    expectEachClickOnce(setup.dataDir, load.acked);
    expect(load.acked.length).toBeGreaterThan(600);
    expect(metricSum(await b!.metrics(), 'kafka_records_processed_total')).toBeGreaterThan(0);
  }, 180_000);
});
