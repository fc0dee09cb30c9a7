import { ConfigError } from '@lib/platform/config';
import { loadKafkaSettings } from './kafka.config';
import { createKafkaClient } from './kafka.client';
import { ensureTopics } from './kafka.topics';

/** `npm run kafka:topics`: creates the tracking topics on KAFKA_BROKERS (default 127.0.0.1:9092); safe to run again. */
async function main(): Promise<void> {
  const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',').map((b) => b.trim()).filter(Boolean);
  let settings;
  try {
    settings = loadKafkaSettings(brokers);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`kafka:topics: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  const admin = createKafkaClient(settings).admin();
  try {
    await admin.connect();
    for (const t of await ensureTopics(admin, settings)) {
      const drift = t.actualPartitions !== t.partitions ? ` (configured ${t.partitions}; partitions are never changed by this script)` : '';
      process.stdout.write(`${t.topic}: ${t.status}, ${t.actualPartitions} partitions${drift} — ${t.purpose}\n`);
    }
  } catch (e) {
    process.stderr.write(`kafka:topics: could not create the topics on ${settings.brokers.join(',')}: ${(e as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    await admin.disconnect();
  }
}

void main();
