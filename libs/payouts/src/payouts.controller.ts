import { Body, Controller, Get, Headers, HttpCode, Param, Post, Res, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { EventStore } from '@lib/event-store/event-store.port';
import { AdminGuard } from '@lib/platform/admin.guard';
import { NotFound, ValidationFailed } from '@lib/platform/errors';
import { sha256 } from '@lib/platform/ids';
import { ViewReader } from '@lib/views/view.reader';
import { canonical } from '@lib/views/in-memory.view-store';
import { DirectoryReader } from '@lib/programs/directory.reader';
import { affiliateStream } from '@lib/programs/programs.events';
import { AccountEvent } from '@lib/commissions/affiliate-account';
import { ledgerOf } from './ledger';
import { RecordPayoutDto, VoidPayoutDto } from './payouts.dto';
import { RecordPayoutCommand, VoidPayoutCommand } from './payouts.handlers';
import { PayoutRecorded } from './payouts.events';

@ApiTags('finance')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('api/programs/:programId')
export class PayoutsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly directory: DirectoryReader,
    private readonly views: ViewReader,
    private readonly store: EventStore,
  ) {}

  @Post('affiliates/:affiliateId/payouts')
  @ApiHeader({ name: 'Idempotency-Key', required: true, description: 'the same key again returns the first answer' })
  @ApiOperation({ summary: 'Record a payout: above payable → 409, below the minimum → 422 below_minimum_payout' })
  async pay(
    @Param('programId') programId: string,
    @Param('affiliateId') affiliateId: string,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Body() body: RecordPayoutDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    if (!idempotencyKey || idempotencyKey.length > 200) {
      throw new ValidationFailed('an Idempotency-Key header is required for payouts', [{ field: 'Idempotency-Key', message: 'send 1 to 200 characters, unique per payout' }]);
    }
    const requestHash = sha256(canonical({ amountMinor: body.amountMinor ?? null, reference: body.reference ?? null, paidAt: body.paidAt ?? null }));
    const { payoutId, repeat, position } = await this.commands.execute(
      new RecordPayoutCommand(programId, affiliateId, idempotencyKey, requestHash, body),
    );
    await this.views.waitFor(position);
    reply.status(201);
    if (repeat) reply.header('idempotent-replayed', 'true');
    return this.payout(affiliateId, payoutId);
  }

  @Post('payouts/:payoutId/void')
  @HttpCode(200)
  @ApiOperation({ summary: 'Void a payout: the amount becomes owed again' })
  async void(@Param('programId') programId: string, @Param('payoutId') payoutId: string, @Body() body: VoidPayoutDto) {
    const ref = await this.directory.payout(payoutId);
    if (!ref || ref.programId !== programId) throw new NotFound(`payout ${payoutId} does not exist in program ${programId}`);
    const { position } = await this.commands.execute(new VoidPayoutCommand(programId, ref.affiliateId, payoutId, body.reason));
    await this.views.waitFor(position);
    return { ...(await this.payout(ref.affiliateId, payoutId)), voided: true, voidReason: body.reason };
  }

  @Get('affiliates/:affiliateId/ledger')
  @ApiOperation({ summary: 'Every commission and payout entry with the running balance, read from the event store' })
  async ledger(@Param('programId') programId: string, @Param('affiliateId') affiliateId: string) {
    await this.directory.requireAffiliate(programId, affiliateId);
    const events = await this.store.readStream<AccountEvent>(affiliateStream(affiliateId));
    return ledgerOf(events);
  }

  private async payout(affiliateId: string, payoutId: string) {
    const events = await this.store.readStream<AccountEvent>(affiliateStream(affiliateId));
    const recorded = events.find((e) => e.data.type === 'PayoutRecorded' && e.data.payoutId === payoutId) as { data: PayoutRecorded; recordedAt: string } | undefined;
    if (!recorded) throw new NotFound(`payout ${payoutId} does not exist`);
    const p = recorded.data;
    return {
      payoutId: p.payoutId,
      programId: p.programId,
      affiliateId: p.affiliateId,
      amountMinor: p.amountMinor,
      currency: p.currency,
      reference: p.reference,
      paidAt: p.paidAt,
      recordedAt: recorded.recordedAt,
    };
  }
}
