import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { EventStore } from '@lib/event-store/event-store.port';
import { retryOnConflict, StreamCache, UnitOfWork } from '@lib/event-store/unit-of-work';
import { Clock } from '@lib/platform/clock';
import { NotFound } from '@lib/platform/errors';
import { newId } from '@lib/platform/ids';
import { AccountEvent, AffiliateAccount, evolveAccount } from '@lib/commissions/affiliate-account';
import { evolveProgram, ProgramState, settingsAt } from '@lib/programs/program.state';
import { affiliateStream, ProgramEvent, programStream } from '@lib/programs/programs.events';
import { recordPayout, voidPayout } from './payouts.decider';

export class RecordPayoutCommand {
  constructor(
    readonly programId: string,
    readonly affiliateId: string,
    readonly idempotencyKey: string,
    readonly requestHash: string,
    readonly input: { amountMinor?: number; reference?: string; paidAt?: string },
  ) {}
}

export class VoidPayoutCommand {
  constructor(readonly programId: string, readonly affiliateId: string, readonly payoutId: string, readonly reason: string) {}
}

async function loadAccount(uow: UnitOfWork, programId: string, affiliateId: string): Promise<AffiliateAccount> {
  const account = await uow.load<AffiliateAccount, AccountEvent>(affiliateStream(affiliateId), evolveAccount);
  if (!account || account.programId !== programId) throw new NotFound(`affiliate ${affiliateId} does not exist in program ${programId}`);
  return account;
}

/**
 * Pays from the affiliate's ledger stream with its exact expected revision: two concurrent payouts cannot
 * both spend the same balance, whichever process runs them; the loser re-reads and decides again.
 */
@CommandHandler(RecordPayoutCommand)
export class RecordPayoutHandler implements ICommandHandler<RecordPayoutCommand> {
  constructor(private readonly store: EventStore, private readonly cache: StreamCache, private readonly clock: Clock) {}

  execute(cmd: RecordPayoutCommand): Promise<{ payoutId: string; repeat: boolean; position: number }> {
    return retryOnConflict(async () => {
      const uow = new UnitOfWork(this.store, this.cache);
      const account = await loadAccount(uow, cmd.programId, cmd.affiliateId);
      const program = await uow.load<ProgramState, ProgramEvent>(programStream(cmd.programId), evolveProgram);
      const now = this.clock.now().toISOString();
      const { settings } = settingsAt(program!, now);
      const decision = recordPayout(account, {
        payoutId: newId('po'),
        ...cmd.input,
        idempotencyKey: cmd.idempotencyKey,
        requestHash: cmd.requestHash,
        minimumPayoutMinor: settings.minimumPayoutMinor,
        currency: settings.currency,
        now,
      });
      if (decision.kind === 'repeat') return { payoutId: decision.payoutId, repeat: true, position: 0 };
      uow.stage(affiliateStream(cmd.affiliateId), decision.event);
      return { payoutId: decision.event.payoutId, repeat: false, position: await uow.commit() };
    }, 10);
  }
}

@CommandHandler(VoidPayoutCommand)
export class VoidPayoutHandler implements ICommandHandler<VoidPayoutCommand> {
  constructor(private readonly store: EventStore, private readonly cache: StreamCache, private readonly clock: Clock) {}

  execute(cmd: VoidPayoutCommand): Promise<{ position: number }> {
    return retryOnConflict(async () => {
      const uow = new UnitOfWork(this.store, this.cache);
      const account = await loadAccount(uow, cmd.programId, cmd.affiliateId);
      uow.stage(affiliateStream(cmd.affiliateId), voidPayout(account, { payoutId: cmd.payoutId, reason: cmd.reason, now: this.clock.now().toISOString() }));
      return { position: await uow.commit() };
    });
  }
}
