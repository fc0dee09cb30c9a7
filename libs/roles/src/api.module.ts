import { Module } from '@nestjs/common';
import { ProgramsController } from '@lib/programs/programs.controller';
import { PROGRAM_HANDLERS } from '@lib/programs/programs.handlers';
import { PayoutsController } from '@lib/payouts/payouts.controller';
import { RecordPayoutHandler, VoidPayoutHandler } from '@lib/payouts/payouts.handlers';
import { DashboardController } from '@lib/dashboard/dashboard.controller';
import { DashboardReader } from '@lib/dashboard/dashboard.reader';
import { AttributionController } from '@lib/attribution/attribution.controller';
import { AuditService } from '@lib/dashboard/audit.service';
import { ViewsAdmin } from '@lib/views/views.admin';
import { ViewsAdminController } from './operations.controller';
import { ProjectionsModule } from './projector.module';

/** The operator API: setup and payouts as commands with expected revisions; dashboards from the views. */
@Module({
  imports: [ProjectionsModule],
  controllers: [ProgramsController, PayoutsController, DashboardController, AttributionController, ViewsAdminController],
  providers: [...PROGRAM_HANDLERS, RecordPayoutHandler, VoidPayoutHandler, DashboardReader, AuditService, ViewsAdmin],
})
export class ApiRoleModule {}
