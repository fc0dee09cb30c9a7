import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { EventStore, WrongExpectedRevision } from '@lib/event-store/event-store.port';
import { retryOnConflict, StreamCache, UnitOfWork } from '@lib/event-store/unit-of-work';
import { MessageOutcome, TrackingMessage } from '@lib/messaging/transport.port';
import { AppConfig } from '@lib/platform/config';
import { AppError, ValidationFailed } from '@lib/platform/errors';
import { deterministicUuid } from '@lib/platform/ids';
import { Metrics } from '@lib/platform/metrics';
import { APP_CONFIG } from '@lib/platform/tokens';
import { evolveProgram, ProgramState, settingsAt } from '@lib/programs/program.state';
import { AffiliateCodeClaimed, affiliateStream, codeStream, ProgramEvent, programStream } from '@lib/programs/programs.events';
import { AccountEvent, AffiliateAccount, evolveAccount } from '@lib/commissions/affiliate-account';
import { ConversionInput, decideConversion, missingCommission } from '@lib/attribution/attribution.decider';
import { ConversionRecorded, orderStream } from '@lib/attribution/attribution.events';
import { ClickRecorded, clickStream } from './tracking.events';
import { ClickTokens } from './click-token';

export class IngestTrackingBatchCommand {
  constructor(readonly messages: TrackingMessage[]) {}
}

const evolveOrder = (state: ConversionRecorded[] | null, event: ConversionRecorded) => [...(state ?? []), event];
const orderStreamOf = (m: TrackingMessage): string[] =>
  m.kind === 'conversion' && typeof m.body.storefrontId === 'string' && typeof m.body.orderId === 'string' ? [orderStream(m.body.storefrontId, m.body.orderId)] : [];
const evolveClaim = (_: AffiliateCodeClaimed | null, event: AffiliateCodeClaimed) => event;

/**
 * The ingestor: turns a batch of tracking messages into domain events and appends them in one call
 * (one SQLite transaction: group commit). Event ids derive from the input, so a redelivered batch
 * appends nothing new. A message the domain refuses is dead-lettered with the reason; the rest go on.
 */
@CommandHandler(IngestTrackingBatchCommand)
export class IngestTrackingBatchHandler implements ICommandHandler<IngestTrackingBatchCommand, MessageOutcome[]> {
  private readonly tokens: ClickTokens;

  constructor(
    private readonly store: EventStore,
    private readonly cache: StreamCache,
    private readonly metrics: Metrics,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.tokens = new ClickTokens(config.trackingSecret);
  }

  async execute({ messages }: IngestTrackingBatchCommand): Promise<MessageOutcome[]> {
    const timer = this.metrics.ingestBatchSeconds.startTimer();
    const outcomes = await retryOnConflict(() => this.attempt(messages), 10);
    timer();
    messages.forEach((m, i) => this.metrics.trackingMessages.inc({ kind: m.kind, outcome: outcomes[i].status }));
    return outcomes;
  }

  private async attempt(messages: TrackingMessage[]): Promise<MessageOutcome[]> {
    const uow = new UnitOfWork(this.store, this.cache);
    // Every conversion reads its order stream (is it a repeat?): one read for the whole batch.
    await uow.prefetch(messages.flatMap(orderStreamOf), evolveOrder);
    const outcomes: MessageOutcome[] = [];
    for (const message of messages) {
      try {
        if (message.kind === 'click') await this.click(uow, message);
        else if (message.kind === 'conversion') await this.conversion(uow, message);
        else throw new ValidationFailed(`messages of kind ${message.kind} are not handled by this version`);
        outcomes.push({ status: 'processed' });
      } catch (e) {
        if (e instanceof WrongExpectedRevision || !(e instanceof AppError) || e.status >= 500) throw e;
        outcomes.push({ status: 'dead_letter', reason: `${e.code}: ${e.message}` });
      }
    }
    await uow.commit();
    return outcomes;
  }

  private async program(uow: UnitOfWork, programId: string): Promise<ProgramState> {
    const program = await uow.load<ProgramState, ProgramEvent>(programStream(programId), evolveProgram);
    if (!program) throw new ValidationFailed(`program ${programId} does not exist`);
    return program;
  }

  private async click(uow: UnitOfWork, message: TrackingMessage): Promise<void> {
    const body = message.body as Omit<ClickRecorded, 'type' | 'programId' | 'cookieWindowDays'>;
    const program = await this.program(uow, message.programId);
    const event: ClickRecorded = {
      type: 'ClickRecorded',
      programId: message.programId,
      ...body,
      cookieWindowDays: settingsAt(program, body.occurredAt).settings.cookieWindowDays,
    };
    uow.stage(clickStream(body.clickId), event, { id: message.id, metadata: { causationId: message.id, receivedAt: message.receivedAt } });
  }

  private async conversion(uow: UnitOfWork, message: TrackingMessage): Promise<void> {
    const input = { programId: message.programId, ...message.body } as ConversionInput;
    const program = await this.program(uow, input.programId);
    const stream = orderStream(input.storefrontId, input.orderId);
    const earlier = (await uow.load(stream, evolveOrder)) ?? [];
    const click = input.clickId ? this.tokens.read(input.clickId) : null;
    const clickAccount = click?.valid ? await this.account(uow, click.affiliateId) : null;
    let codeAccount: AffiliateAccount | null = null;
    if (input.affiliateCode) {
      const claim = await uow.load(codeStream(input.affiliateCode), evolveClaim);
      codeAccount = claim && claim.programId === input.programId ? await this.account(uow, claim.affiliateId) : null;
    }
    const decision = decideConversion(input, { program, earlier, click, clickAccount, codeAccount });
    const metadata = { causationId: message.id, receivedAt: message.receivedAt };
    if (decision.kind === 'repeat') {
      const affiliateId = decision.counted.attribution.affiliateId;
      const account = affiliateId ? await this.account(uow, affiliateId) : null;
      const commission = account ? missingCommission(decision.counted, program, account) : null;
      if (commission) {
        uow.stage(affiliateStream(commission.affiliateId), commission, { id: deterministicUuid('commission', commission.conversionId), metadata });
      }
      return;
    }
    const first = decision.conversion.duplicateOf === null;
    uow.stage(stream, decision.conversion, {
      id: first ? deterministicUuid('conversion', input.storefrontId, input.orderId) : message.id,
      metadata,
    });
    if (decision.commission) {
      uow.stage(affiliateStream(decision.commission.affiliateId), decision.commission, {
        id: deterministicUuid('commission', input.conversionId),
        metadata,
      });
    }
  }

  private account(uow: UnitOfWork, affiliateId: string): Promise<AffiliateAccount | null> {
    return uow.load<AffiliateAccount, AccountEvent>(affiliateStream(affiliateId), evolveAccount);
  }
}
