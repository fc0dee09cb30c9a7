import { ConfigError } from '@lib/platform/config';
import { loadKafkaSettings } from './kafka.config';

describe('loadKafkaSettings', () => {
  it('given only KAFKA_BROKERS, when loaded, then the documented defaults apply', () => {
    expect(loadKafkaSettings(['127.0.0.1:9092'], {})).toMatchObject({
      groupId: 'affiliate.ingestor',
      topics: { clicks: 'affiliate.tracking.clicks', orders: 'affiliate.tracking.orders', deadLetter: 'affiliate.tracking.dead-letter' },
      partitions: { clicks: 6, orders: 6, deadLetter: 1 },
      replicationFactor: -1,
      sendTimeoutMs: 5000,
      lingerMs: 0,
      ssl: false,
      sasl: null,
    });
  });

  it('given a topic prefix, when loaded, then topics and the consumer group carry it', () => {
    const s = loadKafkaSettings(['k1:9092', 'k2:9092'], { KAFKA_TOPIC_PREFIX: 'shop-eu.' });
    expect(s.topics.clicks).toBe('shop-eu.tracking.clicks');
    expect(s.groupId).toBe('shop-eu.ingestor');
  });

  it.each([
    [['localhost'], {}, 'KAFKA_BROKERS must be a comma-separated list of host:port, got "localhost"'],
    [['k:9092'], { KAFKA_SEND_TIMEOUT_MS: 'soon' }, 'KAFKA_SEND_TIMEOUT_MS must be a whole number from 100 to 120000, got "soon"'],
    [['k:9092'], { KAFKA_SESSION_TIMEOUT_MS: '1000' }, 'KAFKA_SESSION_TIMEOUT_MS must be a whole number from 6000 to 300000, got "1000"'],
    [['k:9092'], { KAFKA_TOPIC_PREFIX: 'a b' }, 'KAFKA_TOPIC_PREFIX may only contain letters, digits, ".", "_" and "-", got "a b"'],
    [['k:9092'], { KAFKA_SASL_MECHANISM: 'plain' }, 'KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD must be set when KAFKA_SASL_MECHANISM is'],
    [['k:9092'], { KAFKA_SSL: 'maybe' }, 'KAFKA_SSL must be true or false, got "maybe"'],
  ])('given brokers %j and %j, when loaded, then start-up stops with a sentence naming the variable', (brokers, env, message) => {
    expect(() => loadKafkaSettings(brokers as string[], env as Record<string, string>)).toThrow(new ConfigError(message as string));
  });
});
