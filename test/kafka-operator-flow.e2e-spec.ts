/**
 * The operator flow (test/operator-flow.e2e-spec.ts, unchanged) with the Kafka transport selected: the built
 * standalone app gets KAFKA_BROKERS (the test broker) and topics of its own, so every click and conversion goes
 * tracker → Kafka → ingestor → store in one process. The spec's direct reads of the store first wait until the
 * app's consumer group has committed everything on its topics: a 202 here means "in Kafka", not yet "stored".
 */
import { useExternalTransport } from './support/app';
import { deleteCreatedTopics, describeKafka, kafkaForApps, progressNow, settingsFor, stopDrainWorker } from './support/kafka';

describeKafka('the operator flow with the Kafka transport (real broker)', () => {
  const kafka = kafkaForApps();

  // Registered before the operator flow's own beforeAll (which starts the app), so the app runs in Kafka mode.
  beforeAll(() => useExternalTransport(kafka));

  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('./operator-flow.e2e-spec');

  describe('with the Kafka transport selected', () => {
    it("the flow's clicks and conversions went through the app's Kafka topics and were all committed by its consumer group", async () => {
      expect(kafka.prefixes).toHaveLength(1);
      const progress = await progressNow(settingsFor(kafka.prefixes[0]));
      expect(progress.end).toBeGreaterThan(10);
      expect(progress.committed).toBe(progress.end);
    });
  });

  afterAll(async () => {
    useExternalTransport(null);
    await stopDrainWorker();
    await deleteCreatedTopics();
  });
});
