import { DynamicModule } from '@nestjs/common';
import { Logger } from 'pino';
import { AppConfig, ConfigError, loadConfig } from '@lib/platform/config';
import { createHttpApp } from '@lib/platform/bootstrap';
import { createLogger } from '@lib/platform/logger';

export interface RoleSpec {
  role: string;
  module: (config: AppConfig, logger: Logger) => DynamicModule;
  openApi: boolean;
  /** Why this role cannot run on the given configuration (a split role needs shared engines), or null. */
  cannotRun?: (config: AppConfig) => string | null;
}

/** Boots one role: validated config, views caught up, then HTTP. A bad setting stops start-up with a sentence. */
export async function runRole(spec: RoleSpec): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig();
    const reason = spec.cannotRun?.(config);
    if (reason) throw new ConfigError(reason);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${spec.role}: cannot start: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  const logger = createLogger(config.logLevel);
  try {
    const app = await createHttpApp(spec.module(config, logger), config, logger, { openApi: spec.openApi, webDashboard: spec.openApi });
    await app.listen(config.port, config.host);
    const url = (await app.getUrl()).replace('[::1]', 'localhost').replace('127.0.0.1', 'localhost');
    logger.info({ role: spec.role, url, dataDir: config.dataDir }, `${spec.role} listening`);
    if (spec.openApi) {
      process.stdout.write(
        `\n  ${spec.role} ready at ${config.publicBaseUrl}\n  dashboard:      ${config.publicBaseUrl}/  (sign in with the operator token)\n  API docs:       ${config.publicBaseUrl}/api/docs\n` +
          `  operator token: ${config.adminToken}${config.adminTokenGenerated ? '  (generated, kept in ' + config.dataDir + '/admin-token)' : ''}\n\n`,
      );
    }
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${spec.role}: cannot start: ${e.message}\n`);
      process.exit(1);
    }
    logger.fatal({ err: e }, `${spec.role} failed to start`);
    process.exit(1);
  }
}

/** The in-process queue and in-memory views live inside one process: split roles need the shared engines. */
export function needs(config: AppConfig, what: { kafka?: boolean; redis?: boolean }): string | null {
  if (what.kafka && !config.kafkaBrokers) return 'this role runs on its own only with KAFKA_BROKERS set; without it, run apps/standalone (npm start)';
  if (what.redis && !config.redisUrl) return 'this role runs on its own only with REDIS_URL set; without it, run apps/standalone (npm start)';
  return null;
}
