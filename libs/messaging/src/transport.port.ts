/**
 * The transport carries validated tracking input from the tracker (edge) to the ingestor.
 * Production: Kafka. Embedded: an in-process queue whose publish resolves only after the
 * ingestor's append committed, so an acknowledgement always means "durable".
 */
export type TrackingKind = 'click' | 'conversion' | 'refund';

export interface TrackingMessage {
  /** Deterministic per input (e.g. storefront + order id) so a redelivery appends nothing new. */
  id: string;
  kind: TrackingKind;
  /** Ordering key: messages with the same key are processed in order. */
  key: string;
  programId: string;
  receivedAt: string;
  body: Record<string, unknown>;
}

export type MessageOutcome = { status: 'processed' } | { status: 'dead_letter'; reason: string };

export type BatchHandler = (messages: TrackingMessage[]) => Promise<MessageOutcome[]>;

export abstract class Transport {
  /** Resolves once every message is durably handed off; rejects (→ 503) when it could not be. */
  abstract publish(messages: TrackingMessage[]): Promise<void>;
  /** Starts delivering batches to the handler. A handler that throws gets the same batch again later. */
  abstract consume(handler: BatchHandler): Promise<void>;
  abstract ping(): Promise<void>;
  abstract close(): Promise<void>;
  /** Connects and checks what publishing needs (Kafka: brokers and topics), so a role fails at boot with a sentence. */
  async connect(): Promise<void> {}
  /** Stops taking new batches, lets the one in flight finish and commit, and leaves (Kafka: the consumer group). */
  async stopConsuming(): Promise<void> {}
}
