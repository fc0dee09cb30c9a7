/**
 * Seeding command: writes a workload through the real append path (the same commands and deciders the
 * app uses, not hand-written rows) into a DATA_DIR. Prints one JSON line with what it wrote.
 *   node dist/bench/seed.js --data-dir DIR --events 100000
 *   node dist/bench/seed.js --data-dir DIR --affiliates 10000
 */
import 'reflect-metadata';
import { DynamicModule, Module } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { NestFactory } from '@nestjs/core';
import { EventStore } from '@lib/event-store/event-store.port';
import { TrackingMessage } from '@lib/messaging/transport.port';
import { AppConfig, loadConfig } from '@lib/platform/config';
import { createLogger } from '@lib/platform/logger';
import { PROGRAM_HANDLERS } from '@lib/programs/programs.handlers';
import { CreateProgramCommand, EnrollAffiliateCommand, RegisterStorefrontCommand } from '@lib/programs/programs.commands';
import { ClickTokens } from '@lib/tracking/click-token';
import { IngestTrackingBatchCommand, IngestTrackingBatchHandler } from '@lib/tracking/ingest.handler';
import { clickMessage, conversionMessage } from '@lib/tracking/tracking.messages';
import { InfrastructureModule } from '@lib/roles/infrastructure.module';

@Module({})
class SeedModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: SeedModule,
      imports: [InfrastructureModule.forRoot(config, createLogger('warn'))],
      providers: [...PROGRAM_HANDLERS, IngestTrackingBatchHandler],
    };
  }
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main() {
  const dataDir = arg('data-dir');
  if (!dataDir) throw new Error('--data-dir is required');
  const events = Number(arg('events') ?? 0);
  const affiliates = Number(arg('affiliates') ?? (events > 0 ? 100 : 0));
  // Seeding is setup, not the measured path: NORMAL still survives a crash of this process.
  const config = loadConfig({ ...process.env, DATA_DIR: dataDir, SQLITE_SYNCHRONOUS: 'NORMAL', LOG_LEVEL: 'warn' });
  const app = await NestFactory.createApplicationContext(SeedModule.forRoot(config), { logger: false });
  await app.init();
  const commands = app.get(CommandBus);
  const store = app.get(EventStore);
  const tokens = new ClickTokens(config.trackingSecret);
  const started = Date.now();

  const { programId } = await commands.execute(
    new CreateProgramCommand({
      name: 'Seeded program',
      currency: 'EUR',
      defaultLandingUrl: 'https://shop.example.com/',
      allowedLandingHosts: [],
      cookieWindowDays: 30,
      commission: { type: 'percent', basisPoints: 1000 },
      holdDays: 0,
      minimumPayoutMinor: 1000,
    }),
  );
  const { storefrontId } = await commands.execute(new RegisterStorefrontCommand(programId, 'seed store'));
  const storefront = { storefrontId, programId };
  const ids: string[] = [];
  for (let i = 0; i < affiliates; i++) {
    const r = await commands.execute(new EnrollAffiliateCommand(programId, { name: `Affiliate ${i}`, email: `a${i}@example.com`, code: `s${i}-${programId.slice(4, 10)}` }));
    ids.push(r.affiliateId);
  }

  // Traffic: clicks spread over affiliates (a long tail), one conversion per five clicks, on the last 30 days.
  const now = Date.now();
  let order = 0;
  let batch: TrackingMessage[] = [];
  const flush = async () => {
    if (batch.length) await commands.execute(new IngestTrackingBatchCommand(batch));
    batch = [];
  };
  const target = events > 0 ? events : affiliates * 4;
  let n = 0;
  while ((await store.headPosition()) < target) {
    for (let k = 0; k < 1000; k++, n++) {
      const affiliateId = ids[Math.floor(Math.pow((n * 7919) % 1000 / 1000, 2) * ids.length)] ?? ids[n % ids.length];
      const at = new Date(now - ((n * 104729) % (30 * 86_400_000)));
      const clickId = tokens.issue(programId, affiliateId, at);
      batch.push(
        clickMessage(
          { programId, affiliateId, clickId, occurredAt: at, visitorHash: `v${n % 5000}`, userAgent: 'Mozilla/5.0 seed', referrer: null, subId: null, bot: n % 50 === 0, source: 'api', storefrontId },
          new Date(),
        ),
      );
      if (n % 5 === 0) {
        batch.push(conversionMessage(storefront, { orderId: `o${order++}`, amountMinor: 1000 + (n % 9000), currency: 'EUR', clickId, occurredAt: new Date(at.getTime() + 3_600_000).toISOString() }, new Date()));
      }
    }
    await flush();
  }
  const head = await store.headPosition();
  await app.close();
  process.stdout.write(JSON.stringify({ programId, affiliates, events: head, ms: Date.now() - started }) + '\n');
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
