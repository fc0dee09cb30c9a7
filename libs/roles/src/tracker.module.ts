import { Module } from '@nestjs/common';
import { RedirectController, StorefrontController } from '@lib/tracking/tracking.controller';
import { StorefrontGuard } from '@lib/tracking/storefront.guard';
import { TrackerService } from '@lib/tracking/tracker.service';

/** The edge: /r/{code}, /t.js and the storefront API; hands validated input to the transport. */
@Module({
  controllers: [RedirectController, StorefrontController],
  providers: [TrackerService, StorefrontGuard],
})
export class TrackerRoleModule {}
