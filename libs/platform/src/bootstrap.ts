import { INestApplication, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import fastifyStatic from '@fastify/static';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from 'pino';
import { AppConfig } from './config';
import { ErrorFilter } from './error.filter';
import { PinoNestLogger } from './logger';
import { Metrics } from './metrics';
import { validationFailed } from './validation';

/** Bodies above this get 413: a full /v1/batch of 1000 events fits well within it. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

export interface StartOptions {
  /** Publish OpenAPI at /api/docs (apps that serve the operator API). */
  openApi: boolean;
  /** Serve the operator web dashboard (the Vite build in dist/web) at `/`. */
  webDashboard?: boolean;
}

/** Where `npm run build` puts the dashboard: dist/web, beside dist/libs (this file runs from dist/libs/platform/src). */
export const WEB_DIR = join(__dirname, '..', '..', '..', 'web');

/** Client-side routes of the dashboard: a reload or a shared link on any of them gets index.html. */
const WEB_ROUTES = ['/', '/programs', '/programs/*'];

/** Builds a Nest app on Fastify with the shared error shape, validation, metrics and OpenAPI. */
export async function createHttpApp(rootModule: unknown, config: AppConfig, logger: Logger, options: StartOptions): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES, trustProxy: config.trustProxy, logger: false });
  const app = await NestFactory.create<NestFastifyApplication>(rootModule as never, adapter, {
    logger: new PinoNestLogger(logger),
    abortOnError: false,
  });
  app.useGlobalFilters(new ErrorFilter());
  app.useGlobalPipes(
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true, stopAtFirstError: true, exceptionFactory: validationFailed }),
  );
  const metrics = app.get(Metrics);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onResponse', (request, reply, done) => {
      metrics.httpRequests.inc({ method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
      done();
    });
  if (options.openApi) publishOpenApi(app);
  if (options.webDashboard) await serveWebDashboard(app, logger);
  // SIGTERM: every shutdown hook runs (batch in flight committed, store closed), then exit 0, not "killed by signal".
  app.enableShutdownHooks([], { useProcessExit: true });
  return app;
}

function publishOpenApi(app: INestApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Affiliate tracking API')
      .setDescription(
        'Operator API (/api, Bearer token), storefront API (/v1, X-Api-Key) and public tracking (/r, /t.js). ' +
          'Money is integer minor units; times are ISO-8601 UTC.',
      )
      .setVersion('1')
      .addBearerAuth()
      .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Api-Key' }, 'storefront')
      .build(),
  );
  SwaggerModule.setup('api/docs', app, document);
}

/**
 * The dashboard's files and its client-side routes, beside the API. Only the files the build produced are
 * routed (no wildcard), so /api, /v1, /r, /t.js and the operations endpoints keep their own routes and 404s.
 */
async function serveWebDashboard(app: NestFastifyApplication, logger: Logger): Promise<void> {
  if (!existsSync(join(WEB_DIR, 'index.html'))) {
    logger.warn({ dir: WEB_DIR }, 'the web dashboard is not built (npm run build builds it): / will answer 404');
    return;
  }
  await app.register(fastifyStatic, {
    root: WEB_DIR,
    wildcard: false,
    index: false,
    // Asset names carry a content hash: cache them for good; index.html must always be fetched again.
    setHeaders: (reply, path) => reply.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache'),
  });
  const fastify = app.getHttpAdapter().getInstance();
  for (const url of WEB_ROUTES) {
    fastify.get(url, (_request, reply) => reply.header('cache-control', 'no-cache').sendFile('index.html'));
  }
}
