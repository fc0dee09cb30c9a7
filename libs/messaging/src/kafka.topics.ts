import { Admin, ITopicConfig } from 'kafkajs';
import { KafkaSettings } from './kafka.config';

export interface TopicPlan {
  topic: string;
  partitions: number;
  purpose: string;
  configEntries: { name: string; value: string }[];
}

/**
 * The topics the tracking path uses, with their partition counts. Created explicitly (the local broker runs with
 * auto.create.topics.enable=false), because a partition count decides which records keep their relative order.
 */
export function topicPlan(settings: KafkaSettings): TopicPlan[] {
  return [
    { topic: settings.topics.clicks, partitions: settings.partitions.clicks, purpose: 'clicks, keyed by affiliate id', configEntries: [] },
    {
      topic: settings.topics.orders,
      partitions: settings.partitions.orders,
      purpose: 'conversions and refunds, keyed by program id + order id',
      configEntries: [],
    },
    {
      topic: settings.topics.deadLetter,
      partitions: settings.partitions.deadLetter,
      purpose: 'records the ingestor refused, with the reason and original coordinates in headers',
      // Dead letters are read by people, later: keep them for 30 days, longer than the tracking topics.
      configEntries: [{ name: 'retention.ms', value: String(30 * 86_400_000) }],
    },
  ];
}

export type TopicResult = TopicPlan & { status: 'created' | 'exists'; actualPartitions: number };

/** Creates the missing topics; existing ones are left exactly as they are (idempotent). */
export async function ensureTopics(admin: Admin, settings: KafkaSettings): Promise<TopicResult[]> {
  const plan = topicPlan(settings);
  const existing = new Set(await admin.listTopics());
  const missing = plan.filter((p) => !existing.has(p.topic));
  if (missing.length > 0) {
    const topics: ITopicConfig[] = missing.map((p) => ({
      topic: p.topic,
      numPartitions: p.partitions,
      replicationFactor: settings.replicationFactor,
      configEntries: p.configEntries,
    }));
    // false means another process created them in between: that is fine too.
    await admin.createTopics({ topics, waitForLeaders: true });
  }
  const metadata = await admin.fetchTopicMetadata({ topics: plan.map((p) => p.topic) });
  return plan.map((p) => ({
    ...p,
    status: missing.includes(p) ? 'created' : 'exists',
    actualPartitions: metadata.topics.find((t) => t.name === p.topic)?.partitions.length ?? 0,
  }));
}
