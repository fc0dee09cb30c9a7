/** jest globalTeardown: stops only what global-setup.ts started. */
import { teardownKafka } from './support/kafka-broker';

export default async function globalTeardown(): Promise<void> {
  await teardownKafka();
}
