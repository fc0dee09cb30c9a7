import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';

/**
 * The Kafka broker the test run uses: TEST_KAFKA_BROKERS when given, else 127.0.0.1:$KAFKA_PORT (9092). When
 * nothing answers there, scripts/kafka-local.sh starts one and the teardown stops it again; a broker that was
 * already running is left alone. Used by jest's global setup and teardown (test/global-setup.ts).
 */
const ROOT = resolve(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'kafka-local.sh');
const STARTED = Symbol.for('affiliate.tests.kafkaStartedPort');

export const isCI = () => ['1', 'true', 'yes'].includes((process.env.CI ?? '').toLowerCase());

/** SKIP_KAFKA_TESTS=1 skips the Kafka suites out loud on a developer machine; never under CI. */
export const kafkaSkipped = () => !isCI() && ['1', 'true', 'yes'].includes((process.env.SKIP_KAFKA_TESTS ?? '').toLowerCase());

/** True when a Kafka broker answers a metadata request at the address within a few seconds. */
export async function brokerAnswers(brokers: string): Promise<boolean> {
  const admin = new Kafka({ clientId: 'test-probe', brokers: brokers.split(','), connectionTimeout: 1_000, retry: { retries: 0 }, logLevel: logLevel.NOTHING }).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Runs scripts/kafka-local.sh with the given command; resolves with its output, rejects with it. */
export function kafkaLocal(command: 'start' | 'stop' | 'status', env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(SCRIPT, [command], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 10 * 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`scripts/kafka-local.sh ${command} failed: ${error.message}\n${stdout}${stderr}`));
      else resolvePromise(`${stdout}${stderr}`);
    });
  });
}

export async function setupKafka(): Promise<void> {
  if (kafkaSkipped()) {
    process.stderr.write('\n[kafka] SKIP_KAFKA_TESTS is set: the Kafka suites are SKIPPED in this run (never under CI=true)\n');
    return;
  }
  const given = process.env.TEST_KAFKA_BROKERS?.trim();
  const port = process.env.KAFKA_PORT?.trim() || '9092';
  const brokers = given || `127.0.0.1:${port}`;
  if (!(await brokerAnswers(brokers))) {
    if (given) throw new Error(`TEST_KAFKA_BROKERS=${given} does not answer; unset it to let the tests start a local broker`);
    process.stderr.write(`\n[kafka] no broker answers at ${brokers}: starting one with scripts/kafka-local.sh (first run downloads Apache Kafka with Maven)\n`);
    // A fresh broker: topics left by earlier runs would only slow it down.
    process.stderr.write(await kafkaLocal('start', { KAFKA_PORT: port, KAFKA_FRESH: '1' }));
    (globalThis as Record<symbol, unknown>)[STARTED] = port;
    if (!(await brokerAnswers(brokers))) throw new Error(`the local broker was started but does not answer at ${brokers}`);
  }
  process.env.TEST_KAFKA_BROKERS = brokers;
}

export async function teardownKafka(): Promise<void> {
  const port = (globalThis as Record<symbol, unknown>)[STARTED] as string | undefined;
  if (!port) return;
  delete (globalThis as Record<symbol, unknown>)[STARTED];
  process.stderr.write(await kafkaLocal('stop', { KAFKA_PORT: port }));
}
