/**
 * Worker thread behind waitUntilIngestedSync() in test/support/kafka.ts: the e2e store readers are synchronous,
 * so the main thread blocks on Atomics.wait while this thread asks the broker whether the app's consumer group
 * has committed everything written to its topics (offsets are committed only after the append).
 */
const { parentPort } = require('node:worker_threads');
const { Kafka, logLevel } = require('kafkajs');

const admins = new Map();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function admin(brokers) {
  if (!admins.has(brokers)) {
    const a = new Kafka({ clientId: 'test-drain', brokers: brokers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 3 } }).admin();
    admins.set(brokers, a.connect().then(() => a));
  }
  return admins.get(brokers);
}

async function drained(a, groupId, topics) {
  let committed = 0;
  for (const t of await a.fetchOffsets({ groupId, topics })) for (const p of t.partitions) committed += Math.max(0, Number(p.offset));
  let end = 0;
  for (const topic of topics) for (const p of await a.fetchTopicOffsets(topic)) end += Number(p.high);
  return committed >= end;
}

parentPort.on('message', async ({ brokers, groupId, topics, timeoutMs, flag }) => {
  const state = new Int32Array(flag);
  let result = 2; // 1: ingested, 2: timed out, 3: failed
  try {
    const a = await admin(brokers);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await drained(a, groupId, topics)) {
        result = 1;
        break;
      }
      if (Date.now() > deadline) break;
      await sleep(20);
    }
  } catch (e) {
    result = 3;
  }
  Atomics.store(state, 0, result);
  Atomics.notify(state, 0);
});
