import { Injectable, Module, OnApplicationBootstrap } from '@nestjs/common';
import { Transport } from '@lib/messaging/transport.port';
import { RedirectController, StorefrontController } from '@lib/tracking/tracking.controller';
import { StorefrontGuard } from '@lib/tracking/storefront.guard';
import { TrackerService } from '@lib/tracking/tracker.service';

/** Before the first request: the transport answers and its topics exist (Kafka), or start-up stops with a sentence. */
@Injectable()
class TransportCheck implements OnApplicationBootstrap {
  constructor(private readonly transport: Transport) {}

  onApplicationBootstrap(): Promise<void> {
    return this.transport.connect();
  }
}

/** The edge: /r/{code}, /t.js and the storefront API; hands validated input to the transport. */
@Module({
  controllers: [RedirectController, StorefrontController],
  providers: [TrackerService, StorefrontGuard, TransportCheck],
})
export class TrackerRoleModule {}
