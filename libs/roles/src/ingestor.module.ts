import { Injectable, Module, OnApplicationBootstrap } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { Transport } from '@lib/messaging/transport.port';
import { IngestTrackingBatchCommand, IngestTrackingBatchHandler } from '@lib/tracking/ingest.handler';

/** Consumes the transport in batches and runs each batch through the ingest command. */
@Injectable()
export class IngestorService implements OnApplicationBootstrap {
  constructor(private readonly transport: Transport, private readonly commands: CommandBus) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.transport.consume((messages) => this.commands.execute(new IngestTrackingBatchCommand(messages)));
  }
}

@Module({ providers: [IngestTrackingBatchHandler, IngestorService] })
export class IngestorRoleModule {}
