import { appendFileSync } from 'node:fs';
import { Unavailable } from '@lib/platform/errors';
import { BatchHandler, TrackingMessage, Transport } from './transport.port';

interface Pending {
  message: TrackingMessage;
  done: (error?: Error) => void;
}

export interface InProcessTransportOptions {
  /** JSON-lines file that receives dead letters with their reason. */
  deadLetterFile: string;
  maxBatch?: number;
}

/**
 * Group commit: every message published while the previous batch was being written goes into the next
 * batch, and the ingestor appends a batch in one transaction. Publishers wait for their batch's commit.
 */
export class InProcessTransport extends Transport {
  private queue: Pending[] = [];
  private handler: BatchHandler | null = null;
  private draining = false;
  private closed = false;
  private readonly maxBatch: number;
  deadLettered = 0;

  constructor(private readonly options: InProcessTransportOptions) {
    super();
    this.maxBatch = options.maxBatch ?? 2000;
  }

  publish(messages: TrackingMessage[]): Promise<void> {
    if (this.closed) return Promise.reject(new Unavailable('the ingestion queue is shut down'));
    if (messages.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let left = messages.length;
      let failed = false;
      const done = (error?: Error) => {
        if (failed) return;
        if (error) {
          failed = true;
          reject(error);
        } else if (--left === 0) resolve();
      };
      for (const message of messages) this.queue.push({ message, done });
      this.schedule();
    });
  }

  async consume(handler: BatchHandler): Promise<void> {
    this.handler = handler;
    this.schedule();
  }

  private schedule(): void {
    if (this.draining || !this.handler || this.queue.length === 0) return;
    this.draining = true;
    setImmediate(() => void this.drain());
  }

  private async drain(): Promise<void> {
    const handler = this.handler!;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        const outcomes = await handler(batch.map((p) => p.message));
        outcomes.forEach((outcome, i) => {
          if (outcome.status === 'dead_letter') this.deadLetter(batch[i].message, outcome.reason);
          batch[i].done();
        });
      } catch (e) {
        // Nothing of this batch is acknowledged: the callers answer 503 and the client retries.
        const error = e instanceof Unavailable ? e : new Unavailable(`events could not be stored: ${(e as Error).message}`);
        for (const p of batch) p.done(error);
      }
    }
    this.draining = false;
  }

  private deadLetter(message: TrackingMessage, reason: string): void {
    this.deadLettered += 1;
    appendFileSync(this.options.deadLetterFile, JSON.stringify({ at: new Date().toISOString(), reason, message }) + '\n');
  }

  async ping(): Promise<void> {
    if (this.closed) throw new Unavailable('the ingestion queue is shut down');
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
