import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics for this process, served at /metrics. */
@Injectable()
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly eventsAppended = new Counter({
    name: 'events_appended_total',
    help: 'Domain events appended to the event store, by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  readonly trackingMessages = new Counter({
    name: 'tracking_messages_total',
    help: 'Tracking messages handled by the ingestor, by kind and outcome',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly ingestBatchSeconds = new Histogram({
    name: 'ingest_batch_seconds',
    help: 'Time to decide and append one batch of tracking messages',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly projectionPosition = new Gauge({
    name: 'projection_position',
    help: 'Global position of the last event applied to a projection',
    labelNames: ['projection'] as const,
    registers: [this.registry],
  });
  readonly projectionLag = new Gauge({
    name: 'projection_lag_events',
    help: 'Events in the store not yet applied to the views',
    registers: [this.registry],
  });

  // Kafka ingestion (libs/messaging/src/kafka.transport.ts); absent from the embedded mode's output until used.
  readonly kafkaConsumerLag = new Gauge({
    name: 'kafka_consumer_lag',
    help: 'Records in a partition not yet committed by this consumer group (log end offset minus committed offset)',
    labelNames: ['topic', 'partition'] as const,
    registers: [this.registry],
  });
  readonly kafkaRecordsProcessed = new Counter({
    name: 'kafka_records_processed_total',
    help: 'Kafka records appended to the event store (or found already there) and committed, by topic',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });
  readonly kafkaRecordsDeadLettered = new Counter({
    name: 'kafka_records_dead_lettered_total',
    help: 'Kafka records sent to the dead-letter topic, by topic and reason code',
    labelNames: ['topic', 'reason'] as const,
    registers: [this.registry],
  });
  readonly kafkaAppendSeconds = new Histogram({
    name: 'kafka_append_seconds',
    help: 'Time to append one consumed batch to the event store (decide and write)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5],
    registers: [this.registry],
  });
  readonly kafkaBatchRetries = new Counter({
    name: 'kafka_batch_retries_total',
    help: 'Consumed batches paused and retried after a transient failure (nothing skipped, nothing committed)',
    labelNames: ['topic'] as const,
    registers: [this.registry],
  });
  readonly kafkaPublishSeconds = new Histogram({
    name: 'kafka_publish_seconds',
    help: 'Time from handing a send to the producer until every in-sync replica acknowledged it (acks=-1)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [this.registry],
  });
  readonly kafkaPublishFailures = new Counter({
    name: 'kafka_publish_failures_total',
    help: 'Producer sends that failed or timed out; their requests were answered 503',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
