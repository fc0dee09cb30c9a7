import { CommissionRule, ProgramSettings, ProgramSettingsPatch } from './programs.events';

/** Each operator command answers with the position of its last event, so the caller can read its own write. */
export interface Written {
  position: number;
}

export class CreateProgramCommand {
  constructor(readonly settings: ProgramSettings) {}
}

export class ChangeProgramSettingsCommand {
  constructor(readonly programId: string, readonly changes: ProgramSettingsPatch & { currency?: string }, readonly effectiveAt?: string) {}
}

export class RegisterStorefrontCommand {
  constructor(readonly programId: string, readonly name: string) {}
}

export class EnrollAffiliateCommand {
  constructor(
    readonly programId: string,
    readonly input: { name: string; email: string; code?: string; landingUrl?: string; commission?: CommissionRule },
  ) {}
}

export class UpdateAffiliateCommand {
  constructor(readonly programId: string, readonly affiliateId: string, readonly input: { status?: 'active' | 'suspended'; commission?: CommissionRule | null }) {}
}
