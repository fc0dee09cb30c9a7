import { INestApplication, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
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
}

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
