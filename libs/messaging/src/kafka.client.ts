import { Kafka, logLevel, LogEntry, SASLOptions } from 'kafkajs';
import { Logger } from 'pino';
import { KafkaSettings } from './kafka.config';

/**
 * One place for the client settings every Kafka user here shares (producer, consumer, admin, topics script).
 * Short connection and retry times: a broker that is down must turn into a 503 within the send timeout,
 * not after kafkajs's default minute of retries.
 */
export function createKafkaClient(settings: KafkaSettings, logger?: Logger): Kafka {
  return new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    ssl: settings.ssl,
    sasl: (settings.sasl as SASLOptions | null) ?? undefined,
    connectionTimeout: 1_000,
    requestTimeout: Math.max(settings.sendTimeoutMs, 5_000),
    retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 5 },
    logLevel: logger ? logLevel.WARN : logLevel.ERROR,
    logCreator: logger ? () => (entry) => toPino(logger, entry) : undefined,
  });
}

// kafkajs warns about this on every idempotent producer we create with bounded retries; the reason it is safe
// here (a failed producer is replaced, never reused) is in kafka.transport.ts.
const EXPECTED = 'Limiting retries for the idempotent producer may invalidate EoS guarantees';

function toPino(logger: Logger, { namespace, level, log }: LogEntry): void {
  const { message, timestamp: _t, logger: _l, ...fields } = log as LogEntry['log'] & { logger?: string };
  if (message === EXPECTED) return;
  const child = { kafkajs: namespace, ...fields };
  // kafkajs logs every error response of a connection (coordinator loading, broker gone) and then retries it;
  // what is not recovered surfaces as our own error (a 503, a paused partition), so these are warnings.
  if ((level === logLevel.ERROR || level === logLevel.NOTHING) && namespace !== 'Connection') logger.error(child, message);
  else if (level === logLevel.ERROR) logger.warn(child, message);
  else if (level === logLevel.WARN) logger.warn(child, message);
  else if (level === logLevel.INFO) logger.info(child, message);
  else logger.debug(child, message);
}
