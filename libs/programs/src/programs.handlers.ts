import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { randomBytes } from 'node:crypto';
import { EventStore, WrongExpectedRevision } from '@lib/event-store/event-store.port';
import { retryOnConflict, StreamCache, UnitOfWork } from '@lib/event-store/unit-of-work';
import { Clock } from '@lib/platform/clock';
import { BusinessRuleViolation, Conflict, NotFound } from '@lib/platform/errors';
import { newId, sha256 } from '@lib/platform/ids';
import { AffiliateAccount, evolveAccount } from '@lib/commissions/affiliate-account';
import { evolveProgram, ProgramState } from './program.state';
import { changeProgramSettings, createProgram, enrollAffiliate, registerStorefront } from './programs.decider';
import { affiliateStream, codeStream, ProgramEvent, programStream } from './programs.events';
import {
  ChangeProgramSettingsCommand,
  CreateProgramCommand,
  EnrollAffiliateCommand,
  RegisterStorefrontCommand,
  UpdateAffiliateCommand,
  Written,
} from './programs.commands';

/** Loads the program's stream or answers 404. */
async function loadProgram(uow: UnitOfWork, programId: string): Promise<ProgramState> {
  const program = await uow.load<ProgramState, ProgramEvent>(programStream(programId), evolveProgram);
  if (!program) throw new NotFound(`program ${programId} does not exist`);
  return program;
}

@CommandHandler(CreateProgramCommand)
export class CreateProgramHandler implements ICommandHandler<CreateProgramCommand, Written & { programId: string }> {
  constructor(private readonly store: EventStore, private readonly cache: StreamCache, private readonly clock: Clock) {}

  async execute({ settings }: CreateProgramCommand) {
    const programId = newId('prg');
    const uow = new UnitOfWork(this.store, this.cache);
    uow.stage(programStream(programId), createProgram({ programId, settings, now: this.clock.now().toISOString() }), { evolve: evolveProgram });
    return { programId, position: await uow.commit() };
  }
}

@CommandHandler(ChangeProgramSettingsCommand)
export class ChangeProgramSettingsHandler implements ICommandHandler<ChangeProgramSettingsCommand, Written> {
  constructor(private readonly store: EventStore, private readonly cache: StreamCache, private readonly clock: Clock) {}

  execute(cmd: ChangeProgramSettingsCommand) {
    return retryOnConflict(async () => {
      const uow = new UnitOfWork(this.store, this.cache);
      const program = await loadProgram(uow, cmd.programId);
      const event = changeProgramSettings(program, { changes: { ...cmd.changes }, effectiveAt: cmd.effectiveAt, now: this.clock.now().toISOString() });
      uow.stage(programStream(cmd.programId), event);
      return { position: await uow.commit() };
    });
  }
}

@CommandHandler(RegisterStorefrontCommand)
export class RegisterStorefrontHandler implements ICommandHandler<RegisterStorefrontCommand, Written & { storefrontId: string; apiKey: string }> {
  constructor(private readonly store: EventStore, private readonly cache: StreamCache, private readonly clock: Clock) {}

  async execute(cmd: RegisterStorefrontCommand) {
    const storefrontId = newId('sf');
    const apiKey = `sk_${randomBytes(24).toString('base64url')}`;
    const position = await retryOnConflict(async () => {
      const uow = new UnitOfWork(this.store, this.cache);
      const program = await loadProgram(uow, cmd.programId);
      uow.stage(
        programStream(cmd.programId),
        registerStorefront(program, { storefrontId, name: cmd.name, apiKeyHash: sha256(apiKey), now: this.clock.now().toISOString() }),
      );
      return uow.commit();
    });
    return { storefrontId, apiKey, position };
  }
}

@CommandHandler(EnrollAffiliateCommand)
export class EnrollAffiliateHandler implements ICommandHandler<EnrollAffiliateCommand, Written & { affiliateId: string; code: string }> {
  constructor(private readonly store: EventStore, private readonly cache: StreamCache, private readonly clock: Clock) {}

  async execute(cmd: EnrollAffiliateCommand) {
    // A generated code may collide with a taken one; try a few fresh ones before giving up.
    const attempts = cmd.input.code ? 1 : 5;
    for (let i = 1; ; i++) {
      const code = cmd.input.code ?? randomBytes(6).toString('base64url').replace(/[^A-Za-z0-9]/g, 'x').toLowerCase();
      try {
        return await this.enroll(cmd, code);
      } catch (e) {
        if (!(e instanceof WrongExpectedRevision) || !e.streamId.startsWith('code-')) throw e;
        if (i >= attempts) throw new Conflict(`the code "${code}" is already taken; codes are unique across all programs`);
      }
    }
  }

  private async enroll(cmd: EnrollAffiliateCommand, code: string) {
    const affiliateId = newId('aff');
    const uow = new UnitOfWork(this.store, this.cache);
    const program = await loadProgram(uow, cmd.programId);
    const [claim, enrolled] = enrollAffiliate(program, { ...cmd.input, affiliateId, code, now: this.clock.now().toISOString() });
    // Claiming `code-<code>` with no_stream is what makes a code unique, across processes too.
    uow.stage(codeStream(code), claim);
    uow.stage(affiliateStream(affiliateId), enrolled, { evolve: evolveAccount });
    return { affiliateId, code, position: await uow.commit() };
  }
}

@CommandHandler(UpdateAffiliateCommand)
export class UpdateAffiliateHandler implements ICommandHandler<UpdateAffiliateCommand, Written> {
  constructor(private readonly store: EventStore, private readonly cache: StreamCache, private readonly clock: Clock) {}

  execute(cmd: UpdateAffiliateCommand) {
    return retryOnConflict(async () => {
      const uow = new UnitOfWork(this.store, this.cache);
      const stream = affiliateStream(cmd.affiliateId);
      const account = await uow.load<AffiliateAccount, any>(stream, evolveAccount);
      if (!account || account.programId !== cmd.programId) throw new NotFound(`affiliate ${cmd.affiliateId} does not exist in program ${cmd.programId}`);
      const base = { programId: cmd.programId, affiliateId: cmd.affiliateId, occurredAt: this.clock.now().toISOString() };
      if (cmd.input.status === undefined && cmd.input.commission === undefined) {
        throw new BusinessRuleViolation('nothing_to_change', 'send status or commission to change');
      }
      if (cmd.input.status !== undefined && cmd.input.status !== account.status) {
        uow.stage(stream, { type: 'AffiliateStatusChanged' as const, ...base, status: cmd.input.status });
      }
      if (cmd.input.commission !== undefined && JSON.stringify(cmd.input.commission) !== JSON.stringify(account.commission)) {
        uow.stage(stream, { type: 'AffiliateCommissionChanged' as const, ...base, commission: cmd.input.commission });
      }
      return { position: await uow.commit() };
    });
  }
}

export const PROGRAM_HANDLERS = [CreateProgramHandler, ChangeProgramSettingsHandler, RegisterStorefrontHandler, EnrollAffiliateHandler, UpdateAffiliateHandler];
