/**
 * What the ingestor does with what it consumes, against a real broker: poison records go to the dead-letter
 * topic and the partition moves on, a repeated order counts once, and SIGTERM leaves clean offsets.
 */
import { randomUUID } from 'node:crypto';
import { countEvents, readEvents } from './support/app';
import { ensureBuilt } from './support/build';
import {
  client,
  clickLoad,
  connectedProducer,
  createTopics,
  deleteCreatedTopics,
  describeKafka,
  kafkaEnv,
  metricSum,
  progressNow,
  readDeadLetters,
  RoleProcess,
  sendBatch,
  setupTracking,
  sleep,
  startRole,
  TrackingSetup,
  uniquePrefix,
  waitForDrain,
} from './support/kafka';
import { DEAD_LETTER_HEADERS } from '@lib/messaging/kafka.transport';

describeKafka('Kafka path: consumed records (real broker)', () => {
  let setup: TrackingSetup;
  const processes: RoleProcess[] = [];
  const start = async (...args: Parameters<typeof startRole>) => {
    const p = await startRole(...args);
    processes.push(p);
    return p;
  };

  beforeAll(() => ensureBuilt(), 300_000);

  beforeEach(async () => {
    setup = await setupTracking(3);
  }, 120_000);

  afterEach(async () => {
    for (const p of processes.splice(0)) await p.kill9();
    setup?.cleanup();
    await deleteCreatedTopics();
  });

  /** A conversion as the tracker writes it, on the given key (so on the key's partition). */
  const conversion = (key: string, orderId: string, programId = setup.programId) => ({
    id: randomUUID(),
    kind: 'conversion',
    key,
    programId,
    receivedAt: new Date().toISOString(),
    body: {
      storefrontId: setup.storefrontId,
      conversionId: `cv_${orderId}`,
      orderId,
      amountMinor: 2500,
      currency: 'EUR',
      customerId: null,
      customerEmail: null,
      occurredAt: new Date().toISOString(),
      clickId: null,
      affiliateCode: setup.codes[0],
      payloadHash: 'a'.repeat(64),
    },
  });

  it('given poison records between good ones on one partition, when consumed, then each poison record is on the dead-letter topic with its reason and coordinates, and every good record around it is stored', async () => {
    const prefix = uniquePrefix('poison');
    const settings = await createTopics(prefix);
    await start('ingestor', setup.dataDir, kafkaEnv(prefix));
    const key = `${setup.programId}:poison-partition`;
    const good = (orderId: string) => JSON.stringify(conversion(key, orderId));
    const badAmount = conversion(key, 'o-bad-amount') as any;
    badAmount.body.amountMinor = '12.5';
    const extraField = conversion(key, 'o-extra') as any;
    extraField.body.isAdmin = true;
    const values = [
      good('o-1'),
      '{"not json',
      JSON.stringify(badAmount),
      good('o-2'),
      JSON.stringify(conversion(key, 'o-unknown-program', 'prg_does_not_exist')),
      JSON.stringify(extraField),
      good('o-3'),
    ];

    // Given: the seven records in one send, so they sit next to each other on one partition.
    const producer = await connectedProducer();
    const [sent] = await producer.send({ topic: settings.topics.orders, acks: -1, messages: values.map((value) => ({ key, value })) });
    // And a good record later, in a batch of its own.
    await waitForDrain(settings);
    await producer.send({ topic: settings.topics.orders, acks: -1, messages: [{ key, value: good('o-4') }] });
    await producer.disconnect();
    await waitForDrain(settings);

    // Then: the good ones are stored (and earn their commission) ...
    const stored = readEvents(setup.dataDir, { type: 'ConversionRecorded' }).map((e) => e.data.orderId);
    expect(stored.sort()).toEqual(['o-1', 'o-2', 'o-3', 'o-4']);
    expect(countEvents(setup.dataDir, 'CommissionEarned')).toBe(4);

    // ... and exactly the four poison records are dead letters, unchanged, with why and where they came from.
    const letters = await readDeadLetters(settings, 4);
    const base = Number(sent.baseOffset);
    expect(letters.map((l) => l.headers[DEAD_LETTER_HEADERS.offset])).toEqual([1, 2, 4, 5].map((i) => String(base + i)));
    for (const l of letters) {
      expect(l.key).toBe(key);
      expect(l.headers[DEAD_LETTER_HEADERS.topic]).toBe(settings.topics.orders);
      expect(l.headers[DEAD_LETTER_HEADERS.partition]).toBe(String(sent.partition));
      expect(l.headers[DEAD_LETTER_HEADERS.group]).toBe(settings.groupId);
    }
    expect(letters.map((l) => l.value)).toEqual([values[1], values[2], values[4], values[5]]);
    const reasons = letters.map((l) => l.headers[DEAD_LETTER_HEADERS.reason]);
    expect(reasons[0]).toMatch(/^invalid_json: /);
    expect(reasons[1]).toMatch(/^validation_failed: conversion body: amountMinor must be an integer number/);
    expect(reasons[2]).toBe('validation_failed: program prg_does_not_exist does not exist');
    expect(reasons[3]).toMatch(/^validation_failed: conversion body: property isAdmin should not exist/);
  }, 120_000);

  it('given the same order sent twice to the tracker, once more in a batch, and its Kafka record duplicated twice, when consumed, then the order counts once', async () => {
    const prefix = uniquePrefix('dupes');
    const settings = await createTopics(prefix);
    const env = kafkaEnv(prefix);
    const tracker = await start('tracker', setup.dataDir, env);
    const ingestor = await start('ingestor', setup.dataDir, env);
    const order = { orderId: 'o-twice', amountMinor: 4200, currency: 'EUR', affiliateCode: setup.codes[1] };

    const first = await tracker.request('POST', '/v1/conversions', order, { 'x-api-key': setup.storefrontKey });
    const second = await tracker.request('POST', '/v1/conversions', order, { 'x-api-key': setup.storefrontKey });
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(second.body.conversionId).toBe(first.body.conversionId);
    expect(await sendBatch(tracker, setup.storefrontKey, [{ type: 'conversion', ...order }])).toEqual([first.body.conversionId]);

    // The tracker's record, written to the topic twice more as a producer retry or a replay would.
    const consumer = client().consumer({ groupId: `${settings.groupId}-copier` });
    const copied: { key?: Buffer | null; value?: Buffer | null } = {};
    await consumer.connect();
    await consumer.subscribe({ topic: settings.topics.orders, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void (copied.value ??= message.value, copied.key ??= message.key) });
    while (!copied.value) await sleep(50);
    await consumer.disconnect();
    const producer = await connectedProducer();
    const record = { key: copied.key!, value: copied.value };
    await producer.send({ topic: settings.topics.orders, acks: -1, messages: [record, record] });
    await producer.disconnect();

    const drained = await waitForDrain(settings);
    expect(drained.end).toBe(5);
    expect(metricSum(await ingestor.metrics(), 'kafka_records_processed_total')).toBe(5);
    const recorded = readEvents(setup.dataDir, { type: 'ConversionRecorded' });
    expect(recorded.map((e) => [e.data.orderId, e.data.duplicateOf])).toEqual([['o-twice', null]]);
    expect(readEvents(setup.dataDir, { type: 'CommissionEarned' }).map((e) => e.data.amountMinor)).toEqual([420]);
  }, 120_000);

  it('given an ingestor under load, when it gets SIGTERM, then it exits 0 with its offsets committed for exactly what it stored, and the next one reprocesses nothing', async () => {
    const prefix = uniquePrefix('sigterm');
    const settings = await createTopics(prefix);
    const env = kafkaEnv(prefix, undefined, { KAFKA_MAX_BYTES_PER_PARTITION: '16384' });
    const tracker = await start('tracker', setup.dataDir, env);
    const first = await start('ingestor', setup.dataDir, env);

    const load = clickLoad(tracker, setup);
    let exit: { code: number | null; signal: NodeJS.Signals | null };
    try {
      while (countEvents(setup.dataDir, 'ClickRecorded') < 500) await sleep(20);
      // When: SIGTERM while batches are flowing.
      exit = await first.terminate();
    } finally {
      await load.stop();
    }
    expect(load.failures).toEqual([]);

    // Then: a clean exit, after leaving the group ...
    expect(exit).toEqual({ code: 0, signal: null });
    expect(first.output()).toContain('left the Kafka consumer group');
    // ... with a commit for every record it stored, and no record stored beyond its commits.
    const atExit = await progressNow(settings);
    expect(countEvents(setup.dataDir, 'ClickRecorded')).toBe(atExit.committed);
    expect(atExit.end).toBe(load.acked.length);

    const second = await start('ingestor', setup.dataDir, env);
    await waitForDrain(settings);
    expect(metricSum(await second.metrics(), 'kafka_records_processed_total')).toBe(load.acked.length - atExit.committed);
    expect(countEvents(setup.dataDir, 'ClickRecorded')).toBe(load.acked.length);
  }, 120_000);
});
