/** jest globalSetup: each backend the integration suites need gets one line (start it when nothing answers). */
import { setupKafka } from './support/kafka-broker';
import { setupRedis } from './support/redis-server';

export default async function globalSetup(): Promise<void> {
  await setupKafka();
  await setupRedis();
}
