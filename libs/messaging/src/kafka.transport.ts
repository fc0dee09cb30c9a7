import { Admin, Consumer, EachBatchPayload, IHeaders, Kafka, Message, Partitioners, Producer } from 'kafkajs';
import { Logger } from 'pino';
import { ConfigError } from '@lib/platform/config';
import { Unavailable } from '@lib/platform/errors';
import { Metrics } from '@lib/platform/metrics';
import { createKafkaClient } from './kafka.client';
import { KafkaSettings } from './kafka.config';
import { decodeTrackingRecord, TopicKinds } from './tracking-record.schema';
import { BatchHandler, MessageOutcome, TrackingKind, TrackingMessage, Transport } from './transport.port';

/** Headers a dead letter carries; its key and value are the original record's, unchanged, so it can be replayed. */
export const DEAD_LETTER_HEADERS = {
  reason: 'dead-letter.reason',
  topic: 'dead-letter.original-topic',
  partition: 'dead-letter.original-partition',
  offset: 'dead-letter.original-offset',
  timestamp: 'dead-letter.original-timestamp',
  group: 'dead-letter.consumer-group',
  at: 'dead-letter.at',
} as const;

interface OutgoingRecord {
  topic: string;
  message: Message;
}

interface PendingSend {
  records: OutgoingRecord[];
  bytes: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

interface ProducerSlot {
  producer: Producer;
  ready: Promise<Producer>;
}

/** A consumed record the ingest refused, with the reason that goes into the dead-letter headers. */
interface Refused {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  reason: string;
}

const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 30_000;
const LAG_REFRESH_MS = 5_000;
const PING_TIMEOUT_MS = 2_000;

/**
 * The Kafka adapter of the transport port; every Kafka semantic of the product is decided in this file.
 *
 * Producing: an idempotent producer sends with acks=-1 (every in-sync replica), and publish() resolves only
 * then, so the tracker's 202/302 means "in Kafka". Requests that arrive while a send is in flight share the
 * next send (group commit; KAFKA_LINGER_MS can add a wait). A send that fails or exceeds KAFKA_SEND_TIMEOUT_MS
 * rejects with Unavailable (→ 503), and the producer is replaced: after a failed send its sequence numbers
 * may disagree with the broker's, and a reused producer could have a later batch dropped as a "duplicate".
 *
 * Consuming: one consumer group, eachBatch per partition. A batch is validated record by record, appended
 * through the handler (the ingest command), its refused records are written to the dead-letter topic, and only
 * then is the offset committed. A handler that throws (event store down) pauses the partition and the same
 * records come again after a backoff: nothing is skipped and nothing is committed past. Redelivery is harmless
 * because event ids are deterministic. stopConsuming() (SIGTERM) stops fetching, lets the batch in flight
 * finish and commit, and leaves the group.
 */
export class KafkaTransport extends Transport {
  private readonly kafka: Kafka;
  private readonly topicKinds: TopicKinds;
  private slot: ProducerSlot | null = null;
  private queue: PendingSend[] = [];
  private sending = false;
  private closed = false;
  private admin: { client: Admin; ready: Promise<void> } | null = null;
  private consumer: Consumer | null = null;
  private assignment: Record<string, number[]> = {};
  private lagTimer: NodeJS.Timeout | null = null;
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly settings: KafkaSettings,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    super();
    this.kafka = createKafkaClient(settings, logger);
    this.topicKinds = { [settings.topics.clicks]: ['click'], [settings.topics.orders]: ['conversion', 'refund'] };
  }

  topicFor(kind: TrackingKind): string {
    return kind === 'click' ? this.settings.topics.clicks : this.settings.topics.orders;
  }

  // ---------------------------------------------------------------------------------------------- producing

  publish(messages: TrackingMessage[]): Promise<void> {
    return this.enqueue(messages.map((m) => ({ topic: this.topicFor(m.kind), message: { key: m.key, value: JSON.stringify(m) } })));
  }

  private enqueue(records: OutgoingRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new Unavailable('the Kafka producer is shut down'));
    if (records.length === 0) return Promise.resolve();
    // A publish larger than one send (a /v1/batch of 1000 long clicks) is split; it resolves when every part is acknowledged.
    const parts: { records: OutgoingRecord[]; bytes: number }[] = [];
    for (const r of records) {
      const size = sizeOf(r);
      const last = parts[parts.length - 1];
      if (last && last.records.length < this.settings.maxBatchRecords && last.bytes + size <= this.settings.maxBatchBytes) {
        last.records.push(r);
        last.bytes += size;
      } else parts.push({ records: [r], bytes: size });
    }
    return new Promise<void>((resolve, reject) => {
      let left = parts.length;
      let failed = false;
      for (const part of parts) {
        this.queue.push({
          ...part,
          resolve: () => {
            if (--left === 0 && !failed) resolve();
          },
          reject: (error) => {
            if (failed) return;
            failed = true;
            reject(error);
          },
        });
      }
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.sending || this.queue.length === 0) return;
    this.sending = true;
    // setImmediate lets every request parsed in this turn of the event loop join the send.
    if (this.settings.lingerMs > 0) setTimeout(() => void this.drain(), this.settings.lingerMs);
    else setImmediate(() => void this.drain());
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch: PendingSend[] = [];
      let records = 0;
      let bytes = 0;
      const fits = (p: PendingSend) => records + p.records.length <= this.settings.maxBatchRecords && bytes + p.bytes <= this.settings.maxBatchBytes;
      while (this.queue.length > 0 && (batch.length === 0 || fits(this.queue[0]))) {
        const next = this.queue.shift()!;
        batch.push(next);
        records += next.records.length;
        bytes += next.bytes;
      }
      try {
        await this.send(batch.flatMap((p) => p.records));
        for (const p of batch) p.resolve();
      } catch (e) {
        const error = e instanceof Unavailable ? e : new Unavailable(`Kafka did not acknowledge the events: ${(e as Error).message}`);
        for (const p of batch) p.reject(error);
      }
    }
    this.sending = false;
  }

  private async send(records: OutgoingRecord[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    for (const r of records) {
      const list = byTopic.get(r.topic);
      if (list) list.push(r.message);
      else byTopic.set(r.topic, [r.message]);
    }
    const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    const slot = this.producerSlot();
    const stopTimer = this.metrics.kafkaPublishSeconds.startTimer();
    const attempt = slot.ready.then((producer) =>
      // acks -1: the leader answers only once every in-sync replica has the records (min.insync.replicas applies).
      producer.sendBatch({ acks: -1, timeout: this.settings.sendTimeoutMs, topicMessages }),
    );
    try {
      await withTimeout(attempt, this.settings.sendTimeoutMs, `Kafka did not acknowledge within ${this.settings.sendTimeoutMs} ms`);
      stopTimer();
    } catch (e) {
      this.metrics.kafkaPublishFailures.inc();
      this.discardProducer(slot, attempt);
      throw e;
    }
  }

  private producerSlot(): ProducerSlot {
    if (!this.slot) {
      const producer = this.kafka.producer({
        idempotent: true,
        // One request in flight per broker: a retried request can never overtake a later one.
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        // murmur2 of the key, as the Java client does: a key lands on the same partition whoever produces it.
        createPartitioner: Partitioners.DefaultPartitioner,
        // Bounded, so a down broker becomes a 503 within the send timeout; safe because a failed producer is replaced.
        retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 },
      });
      const ready = producer.connect().then(() => producer);
      ready.catch(() => undefined); // the send that awaits it reports the failure
      this.slot = { producer, ready };
    }
    return this.slot;
  }

  private discardProducer(slot: ProducerSlot, inFlight: Promise<unknown>): void {
    if (this.slot === slot) this.slot = null;
    // Disconnect once its own request settled (it may still be retrying after our timeout answered 503).
    void inFlight
      .catch(() => undefined)
      .then(() => slot.producer.disconnect())
      .catch(() => undefined);
  }

  // ---------------------------------------------------------------------------------------------- consuming

  async consume(handler: BatchHandler): Promise<void> {
    if (this.consumer) throw new Error('this transport is already consuming');
    await this.checkTopics();
    const consumer = this.kafka.consumer({
      groupId: this.settings.groupId,
      sessionTimeout: this.settings.sessionTimeoutMs,
      heartbeatInterval: this.settings.heartbeatIntervalMs,
      allowAutoTopicCreation: false,
      maxBytesPerPartition: this.settings.maxBytesPerPartition,
      // The longest a fetch waits for new records: also how long SIGTERM may wait for an idle fetch to return.
      maxWaitTimeInMs: 500,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.assignment = payload.memberAssignment;
      this.metrics.kafkaConsumerLag.reset();
      this.logger.info({ groupId: payload.groupId, memberId: payload.memberId, assignment: payload.memberAssignment }, 'joined the Kafka consumer group');
    });
    consumer.on(consumer.events.CRASH, ({ payload }) =>
      this.logger.error({ err: payload.error, restart: payload.restart }, 'the Kafka consumer crashed; kafkajs restarts it'),
    );
    await consumer.connect();
    // fromBeginning: a group that has never committed starts at the oldest record, so nothing published before
    // the first ingestor joined is missed.
    await consumer.subscribe({ topics: [this.settings.topics.clicks, this.settings.topics.orders], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.eachBatch(payload, handler),
    });
    this.lagTimer = setInterval(() => void this.refreshLag(), LAG_REFRESH_MS);
    this.lagTimer.unref();
  }

  private async eachBatch(payload: EachBatchPayload, handler: BatchHandler): Promise<void> {
    const { batch, resolveOffset, commitOffsetsIfNecessary, heartbeat, pause } = payload;
    const { topic, partition } = batch;
    if (batch.messages.length === 0) return;

    const decoded = batch.messages.map((record) => ({ record, result: decodeTrackingRecord({ topic, key: record.key, value: record.value }, this.topicKinds) }));
    const valid = decoded.flatMap((d) => (d.result.ok ? [{ record: d.record, message: d.result.message }] : []));
    const refused: Refused[] = decoded.flatMap((d) => (d.result.ok ? [] : [{ ...d.record, reason: d.result.reason }]));
    try {
      let outcomes: MessageOutcome[] = [];
      if (valid.length > 0) {
        const stopTimer = this.metrics.kafkaAppendSeconds.startTimer();
        outcomes = await handler(valid.map((v) => v.message));
        stopTimer();
      }
      outcomes.forEach((o, i) => {
        if (o.status === 'dead_letter') refused.push({ ...valid[i].record, reason: o.reason });
      });
      // The dead letters are acknowledged before the offset moves past them: a refused record is never just dropped.
      refused.sort((a, b) => (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1));
      if (refused.length > 0) await this.deadLetter(topic, partition, refused);
    } catch (e) {
      this.retryLater(payload, e as Error);
      return;
    }

    const last = batch.messages[batch.messages.length - 1].offset;
    resolveOffset(last);
    const next = (BigInt(batch.lastOffset()) + 1n).toString();
    // The commit, after the append: a crash before it redelivers the batch, and the deterministic ids make that a no-op.
    await commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: next }] }] });
    this.failures.delete(`${topic}:${partition}`);
    this.metrics.kafkaRecordsProcessed.inc({ topic }, batch.messages.length - refused.length);
    for (const r of refused) this.metrics.kafkaRecordsDeadLettered.inc({ topic, reason: r.reason.split(':')[0] });
    this.metrics.kafkaConsumerLag.set({ topic, partition: String(partition) }, Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(next))));
    await heartbeat();
  }

  /** Transient failure: pause this partition, resume after a growing backoff, and fetch from the same offset. */
  private retryLater({ batch, pause }: EachBatchPayload, error: Error): void {
    const key = `${batch.topic}:${batch.partition}`;
    const attempt = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, attempt);
    const delayMs = Math.round(Math.min(RETRY_FIRST_MS * 2 ** (attempt - 1), RETRY_MAX_MS) * (0.75 + Math.random() * 0.5));
    this.metrics.kafkaBatchRetries.inc({ topic: batch.topic });
    this.logger.warn(
      { err: error, topic: batch.topic, partition: batch.partition, fromOffset: batch.firstOffset(), records: batch.messages.length, attempt, delayMs },
      'a consumed batch could not be stored; its partition is paused and the batch will be retried from the same offset',
    );
    const resume = pause();
    setTimeout(resume, delayMs).unref();
  }

  private deadLetter(topic: string, partition: number, refused: Refused[]): Promise<void> {
    const at = new Date().toISOString();
    return this.enqueue(
      refused.map((r) => {
        const headers: IHeaders = {
          [DEAD_LETTER_HEADERS.reason]: r.reason,
          [DEAD_LETTER_HEADERS.topic]: topic,
          [DEAD_LETTER_HEADERS.partition]: String(partition),
          [DEAD_LETTER_HEADERS.offset]: r.offset,
          [DEAD_LETTER_HEADERS.timestamp]: r.timestamp,
          [DEAD_LETTER_HEADERS.group]: this.settings.groupId,
          [DEAD_LETTER_HEADERS.at]: at,
        };
        this.logger.warn({ topic, partition, offset: r.offset, reason: r.reason }, 'record sent to the dead-letter topic');
        return { topic: this.settings.topics.deadLetter, message: { key: r.key, value: r.value, headers } };
      }),
    );
  }

  /** Lag per assigned partition from the broker's view (log end minus committed), also while a partition is paused. */
  private async refreshLag(): Promise<void> {
    try {
      const admin = await this.connectedAdmin();
      const topics = Object.keys(this.assignment);
      if (topics.length === 0) return;
      const committed = await admin.fetchOffsets({ groupId: this.settings.groupId, topics });
      for (const { topic, partitions } of committed) {
        const ends = await admin.fetchTopicOffsets(topic);
        for (const p of partitions) {
          if (!this.assignment[topic]?.includes(p.partition)) continue;
          const end = BigInt(ends.find((e) => e.partition === p.partition)?.high ?? '0');
          const done = BigInt(p.offset) < 0n ? 0n : BigInt(p.offset);
          this.metrics.kafkaConsumerLag.set({ topic, partition: String(p.partition) }, Number(end > done ? end - done : 0n));
        }
      }
    } catch (e) {
      this.logger.debug({ err: e }, 'could not refresh the consumer lag');
    }
  }

  override async stopConsuming(): Promise<void> {
    const consumer = this.consumer;
    if (!consumer) return;
    this.consumer = null;
    if (this.lagTimer) clearInterval(this.lagTimer);
    // kafkajs: stop fetching, wait for the batch in flight (it commits), leave the group, close the connections.
    await consumer.disconnect();
    this.logger.info({ groupId: this.settings.groupId }, 'left the Kafka consumer group');
  }

  // ---------------------------------------------------------------------------------------------- lifecycle

  /** Boot check: the brokers answer, the topics exist (created by npm run kafka:topics), the producer is ready. */
  override async connect(): Promise<void> {
    await this.checkTopics();
    await this.producerSlot().ready;
  }

  private async checkTopics(): Promise<void> {
    const admin = await this.connectedAdmin().catch((e: Error) => {
      throw new Unavailable(`Kafka at ${this.settings.brokers.join(',')} does not answer: ${e.message}`);
    });
    const existing = new Set(await admin.listTopics());
    const missing = Object.values(this.settings.topics).filter((t) => !existing.has(t));
    if (missing.length > 0) {
      throw new ConfigError(`the Kafka topics ${missing.join(', ')} do not exist on ${this.settings.brokers.join(',')}: create them with npm run kafka:topics`);
    }
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Unavailable('the Kafka transport is shut down');
    try {
      const admin = await withTimeout(this.connectedAdmin(), PING_TIMEOUT_MS, 'no answer');
      await withTimeout(admin.fetchTopicMetadata({ topics: Object.values(this.settings.topics) }), PING_TIMEOUT_MS, 'no answer');
    } catch (e) {
      throw new Unavailable(`Kafka at ${this.settings.brokers.join(',')} does not answer: ${(e as Error).message}`);
    }
  }

  private connectedAdmin(): Promise<Admin> {
    if (!this.admin) {
      const client = this.kafka.admin();
      const ready = client.connect();
      this.admin = { client, ready };
      ready.catch(() => {
        if (this.admin?.client === client) this.admin = null;
      });
    }
    const { client, ready } = this.admin;
    return ready.then(() => client);
  }

  async close(): Promise<void> {
    await this.stopConsuming();
    // Sends already queued still complete: their HTTP requests are waiting for the acknowledgement.
    const deadline = Date.now() + this.settings.sendTimeoutMs + 1_000;
    while ((this.sending || this.queue.length > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    this.closed = true;
    const slot = this.slot;
    this.slot = null;
    await slot?.ready.then((p) => p.disconnect()).catch(() => undefined);
    await this.admin?.client.disconnect().catch(() => undefined);
    this.admin = null;
  }
}

/** Bytes the record takes in a send, near enough: key, value, headers, and the per-record overhead. */
function sizeOf({ message }: OutgoingRecord): number {
  const len = (v: unknown) => (v == null ? 0 : Buffer.isBuffer(v) ? v.length : Buffer.byteLength(String(v)));
  let headers = 0;
  for (const [k, v] of Object.entries(message.headers ?? {})) headers += k.length + len(v) + 8;
  return len(message.key) + len(message.value) + headers + 70;
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Unavailable(message)), ms);
  });
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
