import { BeforeApplicationShutdown, Injectable, Module, OnApplicationBootstrap } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { Transport } from '@lib/messaging/transport.port';
import { IngestTrackingBatchCommand, IngestTrackingBatchHandler } from '@lib/tracking/ingest.handler';

/** Consumes the transport in batches and runs each batch through the ingest command. */
@Injectable()
export class IngestorService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(private readonly transport: Transport, private readonly commands: CommandBus) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.transport.consume((messages) => this.commands.execute(new IngestTrackingBatchCommand(messages)));
  }

  /** Before the event store closes: the batch in flight is appended and committed, then the group is left (Kafka). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.transport.stopConsuming();
  }
}

@Module({ providers: [IngestTrackingBatchHandler, IngestorService] })
export class IngestorRoleModule {}
