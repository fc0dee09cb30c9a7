/**
 * docker-compose.yml and the Dockerfile, checked structurally: Docker cannot run where this suite runs,
 * so this is what keeps the stack description in step with the code (role entry points, configuration,
 * service names). It proves the files are consistent, not that the images build or the stack starts.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '@lib/platform/config';
import { createEventStore } from '@lib/event-store/event-store.module';
import { EventStoreDbEventStore } from '@lib/event-store/eventstoredb.event-store';

const ROOT = join(__dirname, '..');
const ROLES = ['tracker', 'ingestor', 'projector', 'api'] as const;
const ENGINES = ['kafka', 'eventstore', 'redis'] as const;
/** API.md's configuration table, and what every split role needs on top: the shared click-id secret. */
const ROLE_ENV = ['PORT', 'DATA_DIR', 'ADMIN_TOKEN', 'PUBLIC_BASE_URL', 'KAFKA_BROKERS', 'EVENTSTORE_CONNECTION_STRING', 'REDIS_URL', 'TRACKING_SECRET'];

type Service = Record<string, any>;

/** Compose's `${NAME:-default}` / `${NAME-default}` / `${NAME}` with nothing set in the environment. */
function interpolate(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}/g, (_m, _name, fallback) => fallback ?? '');
  if (Array.isArray(value)) return value.map(interpolate);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v)]));
  return value;
}

const compose = interpolate(parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true })) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const services = compose.services;
const names = Object.keys(services);
const envOf = (s: Service): Record<string, string> => {
  const env = s.environment ?? {};
  const entries: [string, unknown][] = Array.isArray(env) ? env.map((e: string) => [e.split('=')[0], e.slice(e.indexOf('=') + 1)]) : Object.entries(env);
  return Object.fromEntries(entries.map(([k, v]) => [k, String(v ?? '')]));
};
const dependsOn = (s: Service): Record<string, { condition?: string }> =>
  Array.isArray(s.depends_on) ? Object.fromEntries(s.depends_on.map((d: string) => [d, {}])) : (s.depends_on ?? {});
const published = (s: Service): { host: string; container: string }[] =>
  (s.ports ?? []).map((p: string | { published: string | number; target: number }) => {
    if (typeof p === 'object') return { host: String(p.published), container: String(p.target) };
    const parts = String(p).split(':');
    return { host: parts.length > 1 ? parts[parts.length - 2] : parts[0], container: parts[parts.length - 1].replace(/\/.*$/, '') };
  });
const oneShot = (name: string) => services[name].restart === 'no' && names.some((other) => dependsOn(services[other])[name]?.condition === 'service_completed_successfully');

describe('docker-compose.yml', () => {
  it('describes Kafka, EventStoreDB, Redis, the four roles and a one-shot topic step', () => {
    expect(names).toEqual(expect.arrayContaining([...ENGINES, ...ROLES, 'kafka-topics']));
  });

  it.each(names)('%s has an image or a build', (name) => {
    const s = services[name];
    expect(Boolean(s.image) || Boolean(s.build)).toBe(true);
    if (s.build) expect(existsSync(join(ROOT, s.build.context ?? s.build, s.build.dockerfile ?? 'Dockerfile'))).toBe(true);
  });

  it.each(names)('%s has a health check (a one-shot job instead signals by its exit code)', (name) => {
    const check = services[name].healthcheck;
    expect(check).toBeDefined();
    if (check.disable === true) {
      expect(oneShot(name)).toBe(true);
      return;
    }
    expect(Array.isArray(check.test) ? check.test.length : String(check.test).length).toBeGreaterThan(1);
    expect(check.test[0]).not.toBe('NONE');
    expect(check.interval).toBeDefined();
    expect(check.retries).toBeGreaterThan(0);
  });

  it.each(names)('%s depends only on services that exist, with a valid condition', (name) => {
    for (const [dep, spec] of Object.entries(dependsOn(services[name]))) {
      expect(names).toContain(dep);
      expect(dep).not.toBe(name);
      if (spec.condition) expect(['service_started', 'service_healthy', 'service_completed_successfully']).toContain(spec.condition);
      // Waiting for "healthy" on a service without a health check would wait forever.
      if (spec.condition === 'service_healthy') expect(services[dep].healthcheck?.disable).not.toBe(true);
    }
  });

  it('has no dependency cycle', () => {
    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (n: string) => {
      if (done.has(n)) return;
      if (visiting.has(n)) throw new Error(`dependency cycle through ${n}`);
      visiting.add(n);
      Object.keys(dependsOn(services[n])).forEach(visit);
      visiting.delete(n);
      done.add(n);
    };
    names.forEach(visit);
  });

  it('publishes each host port once, and uses only declared named volumes', () => {
    const hostPorts = names.flatMap((n) => published(services[n]).map((p) => p.host));
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
    for (const n of names) {
      for (const v of services[n].volumes ?? []) {
        const source = typeof v === 'string' ? v.split(':')[0] : v.source;
        if (!source.startsWith('.') && !source.startsWith('/')) expect(Object.keys(compose.volumes ?? {})).toContain(source);
      }
    }
  });

  it('runs Kafka in KRaft mode (no ZooKeeper) on a 3.x image (kafkajs 2.x needs protocol versions Kafka 4 removed)', () => {
    const kafka = services.kafka;
    const env = envOf(kafka);
    expect(kafka.image).toMatch(/^apache\/kafka:3\./);
    expect(env.KAFKA_PROCESS_ROLES.split(',')).toEqual(expect.arrayContaining(['broker', 'controller']));
    expect(env.CLUSTER_ID).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(env.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe(`${env.KAFKA_NODE_ID}@kafka:9093`);
    expect(names.some((n) => /zookeeper/i.test(n) || /zookeeper/i.test(String(services[n].image)))).toBe(false);
    expect(env.KAFKA_AUTO_CREATE_TOPICS_ENABLE).toBe('false');
  });

  it('creates the topics once, with `npm run kafka:topics` from the app image, before any role starts', () => {
    const job = services['kafka-topics'];
    expect(job.command).toEqual(['npm', 'run', 'kafka:topics']);
    expect(job.image).toBe(services.api.image);
    expect(oneShot('kafka-topics')).toBe(true);
    expect(dependsOn(job).kafka?.condition).toBe('service_healthy');
    expect(envOf(job).KAFKA_BROKERS).toBe(envOf(services.api).KAFKA_BROKERS);
    const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;
    expect(Object.keys(scripts)).toContain('kafka:topics');
    // The image has production dependencies only: the script must run the compiled code, not compile it.
    expect(scripts['kafka:topics']).not.toMatch(/\b(tsc|ts-node|tsx|npm run build|nest build)\b/);
    const compiled = /^node dist\/(\S+)\.js$/.exec(scripts['kafka:topics']);
    expect(compiled).not.toBeNull();
    expect(existsSync(join(ROOT, `${compiled![1]}.ts`))).toBe(true);
  });

  describe.each(ROLES)('role %s', (role) => {
    const s = services[role];
    const env = envOf(s);

    it('runs its compiled entry point from the one Dockerfile', () => {
      expect(s.build).toEqual(services.api.build);
      expect(s.image).toBe(services.api.image);
      expect(s.command).toEqual(['node', `dist/apps/${role}/src/main.js`]);
      expect(existsSync(join(ROOT, 'apps', role, 'src', 'main.ts'))).toBe(true);
    });

    it('has every variable a split role needs, pointing at services that exist', () => {
      for (const name of ROLE_ENV) expect({ [name]: env[name] ?? null }).toEqual({ [name]: expect.stringMatching(/\S/) });
      for (const broker of env.KAFKA_BROKERS.split(',')) {
        const [host, port] = broker.split(':');
        expect(names).toContain(host);
        expect(envOf(services[host]).KAFKA_ADVERTISED_LISTENERS).toContain(`//${host}:${port}`);
      }
      const esdb = new URL(env.EVENTSTORE_CONNECTION_STRING.replace(/^esdb:/, 'http:'));
      expect(esdb.hostname).toBe('eventstore');
      expect(esdb.port).toBe('2113');
      // tls=false only talks to a server started insecure, and the other way round.
      expect(esdb.searchParams.get('tls') === 'false').toBe(envOf(services.eventstore).EVENTSTORE_INSECURE === 'true');
      expect(new URL(env.REDIS_URL).hostname).toBe('redis');
    });

    it('shares the operator token and the click-id secret with every other role', () => {
      for (const other of ROLES) {
        expect(envOf(services[other]).TRACKING_SECRET).toBe(env.TRACKING_SECRET);
        expect(envOf(services[other]).ADMIN_TOKEN).toBe(env.ADMIN_TOKEN);
      }
    });

    it("passes the app's own configuration checks, and its event store connection string is one the client accepts", async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'compose-config-'));
      try {
        const config = loadConfig({ ...env, DATA_DIR: dataDir });
        expect(config.kafkaBrokers).not.toBeNull();
        expect(config.redisUrl).not.toBeNull();
        const store = createEventStore(config);
        expect(store).toBeInstanceOf(EventStoreDbEventStore);
        await store.close();
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });

    it('is checked for health on its own port at /ready, and waits for the engines and the topics', () => {
      const check = s.healthcheck.test.join(' ');
      expect(check).toContain(`127.0.0.1:${env.PORT}/ready`);
      const ports = [...published(s).map((p) => p.container), ...(s.expose ?? []).map(String)];
      expect(ports).toContain(env.PORT);
      for (const engine of ENGINES) expect(dependsOn(s)[engine]?.condition).toBe('service_healthy');
      expect(dependsOn(s)['kafka-topics']?.condition).toBe('service_completed_successfully');
    });
  });

  it('publishes no fixed host port for ingestors and projectors, so `--scale` can run several', () => {
    expect(published(services.ingestor)).toEqual([]);
    expect(published(services.projector)).toEqual([]);
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const stages = text.split(/^FROM /m).slice(1);
  const final = stages[stages.length - 1];

  it('is multi-stage, and the final stage installs production dependencies only with npm ci --omit=dev', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(final).toMatch(/npm ci --omit=dev/);
    expect(final).not.toMatch(/COPY --from=\S+ \S*node_modules/);
    expect(stages.slice(0, -1).join('\n')).toMatch(/npm run build/);
  });

  it('runs as a non-root user', () => {
    const users = [...final.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0']).not.toContain(users[users.length - 1]);
  });

  it('ships the compiled roles where the compose commands look for them (tsconfig outDir dist, rootDir .)', () => {
    const tsconfig = JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8'));
    expect(tsconfig.compilerOptions.outDir.replace(/^\.\//, '')).toBe('dist');
    expect(tsconfig.compilerOptions.rootDir).toBe('.');
    expect(final).toMatch(/COPY --from=\S+ \/app\/dist \.\/dist/);
    expect(final).toMatch(/^CMD \["node", "dist\/apps\/standalone\/src\/main\.js"\]/m);
  });

  it('.dockerignore keeps local installs, builds, data and git out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', 'data', '.git']));
  });
});
