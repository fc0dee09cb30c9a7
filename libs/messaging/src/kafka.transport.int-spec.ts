import pino from 'pino';
import { ConfigError } from '@lib/platform/config';
import { Unavailable } from '@lib/platform/errors';
import { Metrics } from '@lib/platform/metrics';
import { createTopics, deleteCreatedTopics, describeKafka, progressNow, sleep, testBrokers, uniquePrefix } from '../../../test/support/kafka';
import { loadKafkaSettings } from './kafka.config';
import { KafkaTransport } from './kafka.transport';
import { MessageOutcome, TrackingMessage } from './transport.port';

/** The Kafka adapter of the transport port in-process, against the real broker the test run uses. */

let seq = 0;
const click = (key: string, n: number): TrackingMessage => ({
  id: `00000000-0000-4000-8000-${String(++seq).padStart(12, '0')}`,
  kind: 'click',
  key,
  programId: 'prg_1',
  receivedAt: '2025-03-01T00:00:00.000Z',
  body: {
    clickId: `c-${key}-${n}`,
    affiliateId: key,
    occurredAt: '2025-03-01T00:00:00.000Z',
    visitorHash: null,
    userAgent: null,
    referrer: null,
    subId: null,
    bot: false,
    source: 'api',
    storefrontId: null,
  },
});

const processed = (batch: TrackingMessage[]): MessageOutcome[] => batch.map(() => ({ status: 'processed' }));

describeKafka('KafkaTransport (real broker)', () => {
  const transports: KafkaTransport[] = [];
  const transport = (prefix: string, env: Record<string, string> = {}, brokers = testBrokers()) => {
    const t = new KafkaTransport(
      loadKafkaSettings(brokers.split(','), { KAFKA_TOPIC_PREFIX: prefix, KAFKA_SESSION_TIMEOUT_MS: '6000', ...env }),
      new Metrics(),
      pino({ level: 'silent' }),
    );
    transports.push(t);
    return t;
  };

  afterEach(async () => {
    for (const t of transports.splice(0)) await t.close();
    await deleteCreatedTopics();
  });

  it('given messages on several keys, when published and consumed, then each publish resolved and every key is consumed in the order it was published', async () => {
    const prefix = uniquePrefix('order');
    await createTopics(prefix);
    const t = transport(prefix);
    await t.connect();
    const keys = ['aff_a', 'aff_b', 'aff_c', 'aff_d', 'aff_e'];
    const sent: TrackingMessage[] = [];
    // Concurrent publishes: they share producer sends (group commit) and must still keep each key's order.
    for (let round = 0; round < 40; round++) {
      const batch = keys.map((k) => click(k, round));
      sent.push(...batch);
      await Promise.all(batch.map((m) => t.publish([m])));
    }

    const seen: TrackingMessage[] = [];
    await t.consume(async (batch) => {
      seen.push(...batch);
      return processed(batch);
    });
    while (seen.length < sent.length) await sleep(50);

    for (const k of keys) {
      expect(seen.filter((m) => m.key === k).map((m) => m.body.clickId)).toEqual(sent.filter((m) => m.key === k).map((m) => m.body.clickId));
    }
  }, 60_000);

  it('given one publish of 1000 long clicks for one affiliate (3.5 MB, one partition), when published, then it is split under the broker limit and every click arrives', async () => {
    const prefix = uniquePrefix('large');
    const settings = await createTopics(prefix);
    const t = transport(prefix);
    const messages = Array.from({ length: 1000 }, (_, i) => {
      const m = click('aff_hot', i);
      m.body.userAgent = 'u'.repeat(1000);
      m.body.referrer = `https://example.com/${'r'.repeat(1980)}`;
      return m;
    });
    await t.publish(messages);
    expect(await progressNow(settings)).toEqual({ committed: 0, end: 1000 });
  }, 60_000);

  it('given a handler that fails twice (the event store is down), when consuming, then the same records come again, nothing is committed meanwhile, and nothing is skipped', async () => {
    const prefix = uniquePrefix('transient');
    const settings = await createTopics(prefix);
    const t = transport(prefix);
    const messages = Array.from({ length: 20 }, (_, i) => click('aff_x', i));
    await t.publish(messages);

    const deliveries: string[][] = [];
    const committedWhileFailing: number[] = [];
    let failures = 0;
    await t.consume(async (batch) => {
      deliveries.push(batch.map((m) => m.body.clickId as string));
      if (failures < 2) {
        failures += 1;
        committedWhileFailing.push((await progressNow(settings)).committed);
        throw new Unavailable('event store unavailable: disk I/O error');
      }
      return processed(batch);
    });
    const deadline = Date.now() + 30_000;
    while ((await progressNow(settings)).committed < 20 && Date.now() < deadline) await sleep(100);

    expect(committedWhileFailing).toEqual([0, 0]);
    const ids = messages.map((m) => m.body.clickId);
    expect(deliveries.length).toBe(3);
    for (const d of deliveries) expect(d).toEqual(ids);
    expect((await progressNow(settings)).committed).toBe(20);
  }, 60_000);

  it('given a batch in the handler, when consuming stops (SIGTERM), then the batch finishes and is committed before stopConsuming resolves', async () => {
    const prefix = uniquePrefix('stop');
    const settings = await createTopics(prefix);
    const t = transport(prefix);
    await t.publish(Array.from({ length: 10 }, (_, i) => click('aff_y', i)));
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => (entered = r));
    let finished = false;
    await t.consume(async (batch) => {
      entered();
      await sleep(1_000);
      finished = true;
      return processed(batch);
    });
    await inHandler;
    await t.stopConsuming();
    expect(finished).toBe(true);
    expect(await progressNow(settings)).toEqual({ committed: 10, end: 10 });
  }, 60_000);

  it('given no broker at the address, when publishing, then it rejects with Unavailable (503) within the send timeout, and ping says so', async () => {
    const t = transport(uniquePrefix('down'), { KAFKA_SEND_TIMEOUT_MS: '1500' }, '127.0.0.1:1');
    const started = Date.now();
    const error = await t.publish([click('aff_z', 1)]).catch((e) => e);
    expect(error).toBeInstanceOf(Unavailable);
    expect(error).toMatchObject({ status: 503, code: 'unavailable' });
    expect(Date.now() - started).toBeLessThan(10_000);
    await expect(t.ping()).rejects.toBeInstanceOf(Unavailable);
  }, 30_000);

  it('given topics that were never created, when connecting, then start-up stops with a sentence that names them and npm run kafka:topics', async () => {
    const prefix = uniquePrefix('missing');
    const error = await transport(prefix)
      .connect()
      .catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(`${prefix}tracking.clicks`);
    expect(error.message).toContain('npm run kafka:topics');
  }, 30_000);
});
