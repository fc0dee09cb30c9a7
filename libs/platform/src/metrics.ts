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

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
