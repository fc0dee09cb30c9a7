import 'reflect-metadata';
import { runRole } from '@lib/roles/run';
import { StandaloneModule } from '@lib/roles/standalone.module';

void runRole({ role: 'standalone', openApi: true, module: (config, logger) => StandaloneModule.forRoot(config, logger) });
