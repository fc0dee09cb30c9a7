/** jest globalTeardown: stops only what global-setup.ts started. */
import { teardownKafka } from './support/kafka-broker';
import { teardownRedis } from './support/redis-server';

export default async function globalTeardown(): Promise<void> {
  await teardownKafka();
  await teardownRedis();
}
