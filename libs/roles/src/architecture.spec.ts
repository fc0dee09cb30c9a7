import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * Keeps the layering honest: rules stay framework-free and clock-free, and capabilities reach into each
 * other only through events, pure rules and readers, never through controllers or handlers.
 */
const LIBS = join(__dirname, '..', '..');
const CAPABILITIES = ['programs', 'tracking', 'attribution', 'commissions', 'payouts', 'dashboard'];
const PURE = /(\.events|\.decider|\.rule|\.projection|\.state)\.ts$|\/(affiliate-account|insights|ledger|explain)\.ts$/;
const ADAPTERS = /better-sqlite3|ioredis|kafkajs|@eventstore|sqlite\.event-store|in-memory\.view-store|in-process\.transport/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !/\.(spec|int-spec|e2e-spec)\.ts$/.test(e.name) ? [path] : [];
  });
}

function imports(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]);
}

const files = CAPABILITIES.flatMap((c) => sources(join(LIBS, c, 'src')));
const pureFiles = files.filter((f) => PURE.test(f));

describe('architecture', () => {
  it('finds the pure rule files it guards', () => {
    expect(pureFiles.length).toBeGreaterThanOrEqual(15);
  });

  it.each(pureFiles.map((f) => [relative(LIBS, f), f]))('%s imports no framework and no adapter', (_name, file) => {
    const bad = imports(file).filter((i) => i.startsWith('@nestjs') || ADAPTERS.test(i));
    expect(bad).toEqual([]);
  });

  it.each(pureFiles.map((f) => [relative(LIBS, f), f]))('%s reads no clock', (_name, file) => {
    const text = readFileSync(file, 'utf8');
    expect(text.match(/Date\.now\(\)|new Date\(\)/g) ?? []).toEqual([]);
  });

  it.each(files.map((f) => [relative(LIBS, f), f]))("%s uses no other capability's controllers or handlers", (_name, file) => {
    const own = relative(LIBS, file).split('/')[0];
    const bad = imports(file).filter((i) => {
      const m = /^@lib\/([^/]+)\/(.+)$/.exec(i);
      return m !== null && m[1] !== own && CAPABILITIES.includes(m[1]) && /\.(controller|handlers?)$/.test(m[2]);
    });
    expect(bad).toEqual([]);
  });
});
