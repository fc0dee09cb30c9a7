import { hostname } from 'node:os';
import { createEventStore } from '@lib/event-store/event-store.module';
import { ConfigError, loadConfig } from '@lib/platform/config';
import { createLogger } from '@lib/platform/logger';
import { ALL_PROJECTIONS } from '@lib/roles/projector.module';
import { rebuildProjection, RebuildProgress } from './rebuild';
import { loadViewsSettings } from './views.config';
import { openViewStore } from './views.module';

/**
 * `npm run rebuild -- <projection>|all`: replays the event store from position 0 into a new namespace of
 * the projection while the running apps keep serving the old one, swaps it in and deletes the old keys.
 * Needs REDIS_URL (embedded views live inside the app; there POST /api/admin/views/{projection}/rebuild).
 * Prints a progress line per second and one JSON line per projection at the end.
 */
async function main(): Promise<number> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const names = ALL_PROJECTIONS.map((p) => p.name);
  if (wanted.length === 0 || wanted.some((w) => w !== 'all' && !names.includes(w))) {
    process.stderr.write(`usage: npm run rebuild -- <${names.join('|')}|all>\n`);
    return 2;
  }
  let config, settings;
  try {
    config = loadConfig();
    settings = loadViewsSettings(config.redisUrl);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`rebuild: ${e.message}\n`);
    return 2;
  }
  if (!settings.redis) {
    process.stderr.write(
      'rebuild: REDIS_URL is not set. Embedded views live inside the app and are rebuilt at each start; to rebuild them in a running app, POST /api/admin/views/<projection>/rebuild\n',
    );
    return 2;
  }
  const logger = createLogger(process.env.LOG_LEVEL?.trim() || 'warn');
  const store = createEventStore(config);
  const views = await openViewStore(settings, logger);
  const projections = wanted.includes('all') ? ALL_PROJECTIONS : ALL_PROJECTIONS.filter((p) => wanted.includes(p.name));
  try {
    for (const projection of projections) {
      let lastLine = 0;
      const result = await rebuildProjection({ store, views, settings, logger }, projection, {
        holder: `${hostname()}/${process.pid}/cli`,
        onProgress: (p: RebuildProgress) => {
          if (p.phase === 'replaying' && Date.now() - lastLine < 1000) return;
          lastLine = Date.now();
          process.stderr.write(`${p.projection}: ${p.phase} ${p.namespace} at ${p.position}/${p.head}, ${p.events} events, ${p.eventsPerSecond} events/s\n`);
        },
      });
      process.stdout.write(JSON.stringify(result) + '\n');
    }
    return 0;
  } catch (e) {
    process.stderr.write(`rebuild: ${(e as Error).message}\n`);
    return 1;
  } finally {
    await views.close();
    await store.close();
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`rebuild: ${(e as Error).stack}\n`);
    process.exit(1);
  },
);
