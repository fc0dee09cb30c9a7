/** jest globalSetup: each backend the integration suites need gets one line (start it when nothing answers). */
import { setupKafka } from './support/kafka-broker';

export default async function globalSetup(): Promise<void> {
  await setupKafka();
}
