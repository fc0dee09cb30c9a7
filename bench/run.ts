/**
 * npm run bench [-- --quick] [--scenarios redirect,ingest,freshness,replay,reads,kafka,redis] [--runs N] [--out DIR]
 * Measures each hot path beside a reference measured in the same run, prints a table and writes
 * <out>/<timestamp>.json and .md (default out: bench/results).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { DIST } from './lib/processes';
import { markdown, Row } from './lib/report';
import { freshness, ingest, redirect } from './scenarios/http';
import { reads, replay } from './scenarios/data';
import { kafka } from './scenarios/kafka';
import { redis } from './scenarios/redis';
import { settings, Settings } from './scenarios/settings';

type Scenario = (s: Settings) => Promise<Row[]>;

/** A production mode is measured once its adapter has landed; until then it is reported, not failed. */
function unavailable(scenario: string, adapter: string, issue: string): Scenario {
  return async () => [
    { scenario, metric: '—', unit: '', value: null, target: '—', met: null, notes: `not available: ${adapter} is not in this build yet (${issue})` },
  ];
}

const SCENARIOS: Record<string, Scenario> = {
  redirect,
  ingest,
  freshness,
  replay,
  reads,
  kafka: existsSync(join(DIST, 'libs/messaging/src/kafka.transport.js')) ? kafka : unavailable('kafka mode', 'the Kafka transport', 'issue 4'),
  // Reports "not available" by itself when no Redis server answers (and none can be started).
  redis: existsSync(join(DIST, 'libs/views/src/redis.view-store.js')) ? redis : unavailable('redis mode', 'the Redis view store', 'issue 5'),
};

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main() {
  const quick = process.argv.includes('--quick');
  const s = settings(quick, arg('runs') ? Number(arg('runs')) : undefined);
  const names = (arg('scenarios') ?? Object.keys(SCENARIOS).join(',')).split(',').map((n) => n.trim());
  const unknown = names.filter((n) => !SCENARIOS[n]);
  if (unknown.length) throw new Error(`unknown scenario(s): ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}`);
  const started = new Date();
  const rows: Row[] = [];
  for (const name of names) {
    const t = Date.now();
    process.stderr.write(`bench: ${name}…\n`);
    rows.push(...(await SCENARIOS[name](s)));
    process.stderr.write(`bench: ${name} done in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
  }
  const machine = `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}`;
  const header = `Benchmark ${started.toISOString()}${quick ? ' (quick smoke run: figures are not comparable)' : ''} on ${machine}. Load generator: autocannon in its own process; each server in another.`;
  const out = arg('out') ?? join(__dirname, '..', '..', 'bench', 'results');
  mkdirSync(out, { recursive: true });
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const result = { startedAt: started.toISOString(), quick, machine, settings: s, rows };
  writeFileSync(join(out, `${stamp}.json`), JSON.stringify(result, null, 2) + '\n');
  const md = markdown(rows, header);
  writeFileSync(join(out, `${stamp}.md`), md);
  process.stdout.write('\n' + md + `\nwritten: ${join(out, stamp)}.json and .md\n`);
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${(e as Error).stack}\n`);
  process.exit(1);
});
