import { createEventStore } from '@lib/event-store/event-store.module';
import { ConfigError, loadConfig } from '@lib/platform/config';
import { createLogger } from '@lib/platform/logger';
import { projectionIdOf } from '@lib/views/projection';
import { loadViewsSettings } from '@lib/views/views.config';
import { openViewStore } from '@lib/views/views.module';
import { directoryKeys, directoryProjection } from '@lib/programs/directory.projection';
import { auditProgram } from './audit.service';

/**
 * `npm run audit [-- <programId> ... ] [--json]`: recomputes every affiliate's balances and counts from
 * the event store and compares them with the views in Redis, for the given programs or all of them.
 * One line per mismatch (program, affiliate, field, view value, event value); exit code 1 when any.
 */
async function main(): Promise<number> {
  const json = process.argv.includes('--json');
  let config, settings;
  try {
    config = loadConfig();
    settings = loadViewsSettings(config.redisUrl);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`audit: ${e.message}\n`);
    return 2;
  }
  if (!settings.redis) {
    process.stderr.write('audit: REDIS_URL is not set. Embedded views live inside the app: use GET /api/programs/<programId>/audit there\n');
    return 2;
  }
  const logger = createLogger(process.env.LOG_LEVEL?.trim() || 'warn');
  const store = createEventStore(config);
  const views = await openViewStore(settings, logger);
  try {
    let programs = process.argv.slice(2).filter((a) => !a.startsWith('-'));
    if (programs.length === 0) {
      const { active } = await views.registry(projectionIdOf(directoryProjection));
      if (!active) throw new Error('the directory views are not built yet: start the projector first');
      programs = (await views.zrange(active + directoryKeys.programs, { order: 'asc', limit: 1_000_000 })).map((e) => e.member);
    }
    let total = 0;
    for (const programId of programs) {
      const report = await auditProgram(store, views, programId, new Date());
      total += report.mismatches.length;
      if (json) {
        process.stdout.write(JSON.stringify(report) + '\n');
        continue;
      }
      process.stdout.write(`program ${programId}: ${report.affiliatesChecked} affiliates checked at position ${report.position}, ${report.mismatches.length} mismatches\n`);
      for (const m of report.mismatches) {
        process.stdout.write(
          `  ${m.affiliateId === null ? 'program totals' : `affiliate ${m.affiliateId}`}: ${m.field} view=${JSON.stringify(m.viewValue)} events=${JSON.stringify(m.eventValue)}\n`,
        );
      }
    }
    return total > 0 ? 1 : 0;
  } finally {
    await views.close();
    await store.close();
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`audit: ${(e as Error).message}\n`);
    process.exit(2);
  },
);
