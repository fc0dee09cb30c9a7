import { BusinessRuleViolation, ValidationFailed } from '@lib/platform/errors';
import {
  AffiliateCodeClaimed,
  AffiliateEnrolled,
  CommissionRule,
  ProgramCreated,
  ProgramSettings,
  ProgramSettingsChanged,
  ProgramSettingsPatch,
  StorefrontRegistered,
} from './programs.events';
import { landingHostAllowed, latestVersion, ProgramState, settingsAt } from './program.state';

/** Pure rules for setting programs up. Time and ids come in as arguments. */
export function createProgram(cmd: { programId: string; settings: ProgramSettings; now: string }): ProgramCreated {
  checkSettings(cmd.settings);
  return { type: 'ProgramCreated', programId: cmd.programId, occurredAt: cmd.now, settings: normalise(cmd.settings) };
}

export function changeProgramSettings(
  state: ProgramState,
  cmd: { changes: ProgramSettingsPatch & { currency?: string }; effectiveAt?: string; now: string },
): ProgramSettingsChanged {
  if (cmd.changes.currency !== undefined) {
    const current = settingsAt(state, cmd.now).settings.currency;
    if (cmd.changes.currency.toUpperCase() !== current) {
      throw new BusinessRuleViolation('currency_locked', `a program keeps one currency (${current}); create a new program for another one`, [
        { field: 'currency', message: 'cannot be changed after the program is created' },
      ]);
    }
  }
  const changes = Object.fromEntries(
    Object.entries(cmd.changes).filter(([k, v]) => v !== undefined && k !== 'currency'),
  ) as ProgramSettingsPatch;
  if (Object.keys(changes).length === 0) {
    throw new ValidationFailed('the request changes no setting', [{ field: 'body', message: 'name at least one setting to change' }]);
  }
  const effectiveAt = cmd.effectiveAt ?? cmd.now;
  // A retroactive change would make old decisions look inconsistent with their rule version.
  if (Date.parse(effectiveAt) < Date.parse(cmd.now) - 60_000) {
    throw new ValidationFailed('effectiveAt cannot be in the past', [{ field: 'effectiveAt', message: 'must be now or later' }]);
  }
  // Versions must take effect in their own order, or one version number would name two different settings.
  const lastScheduled = state.changes.reduce((t, c) => Math.max(t, Date.parse(c.effectiveAt)), 0);
  if (Date.parse(effectiveAt) < lastScheduled) {
    throw new BusinessRuleViolation(
      'settings_change_scheduled',
      `a settings change is already scheduled for ${new Date(lastScheduled).toISOString()}; a new change must take effect at or after it`,
      [{ field: 'effectiveAt', message: `must be ${new Date(lastScheduled).toISOString()} or later` }],
    );
  }
  const after = { ...settingsAt(state, effectiveAt).settings, ...changes };
  checkSettings(after);
  return {
    type: 'ProgramSettingsChanged',
    programId: state.programId,
    occurredAt: cmd.now,
    effectiveAt,
    version: latestVersion(state) + 1,
    changes: normalise(changes as ProgramSettings),
  };
}

export function registerStorefront(
  state: ProgramState,
  cmd: { storefrontId: string; name: string; apiKeyHash: string; now: string },
): StorefrontRegistered {
  return {
    type: 'StorefrontRegistered',
    programId: state.programId,
    storefrontId: cmd.storefrontId,
    name: cmd.name,
    apiKeyHash: cmd.apiKeyHash,
    occurredAt: cmd.now,
  };
}

export function enrollAffiliate(
  state: ProgramState,
  cmd: { affiliateId: string; name: string; email: string; code: string; landingUrl?: string; commission?: CommissionRule; now: string },
): [AffiliateCodeClaimed, AffiliateEnrolled] {
  const { settings } = settingsAt(state, cmd.now);
  if (cmd.landingUrl && !landingHostAllowed(settings, cmd.landingUrl)) {
    throw new BusinessRuleViolation('landing_host_not_allowed', `the landing URL's host is not the program's landing host nor in allowedLandingHosts`, [
      { field: 'landingUrl', message: `host must be one of: ${allowedHosts(settings).join(', ')}` },
    ]);
  }
  if (cmd.commission) checkCommission(cmd.commission, 'commission');
  const base = { programId: state.programId, affiliateId: cmd.affiliateId, occurredAt: cmd.now };
  return [
    { type: 'AffiliateCodeClaimed', ...base, code: cmd.code },
    {
      type: 'AffiliateEnrolled',
      ...base,
      name: cmd.name,
      email: cmd.email.toLowerCase(),
      code: cmd.code,
      landingUrl: cmd.landingUrl ?? null,
      commission: cmd.commission ?? null,
    },
  ];
}

export function allowedHosts(settings: ProgramSettings): string[] {
  return [new URL(settings.defaultLandingUrl).hostname.toLowerCase(), ...settings.allowedLandingHosts];
}

/** ISO codes in upper case (conversions are compared with it), hosts in lower case without repeats. */
function normalise<T extends Partial<ProgramSettings>>(s: T): T {
  return {
    ...s,
    ...(s.currency ? { currency: s.currency.toUpperCase() } : {}),
    ...(s.allowedLandingHosts ? { allowedLandingHosts: [...new Set(s.allowedLandingHosts.map((h) => h.toLowerCase()))] } : {}),
  };
}

function checkSettings(s: ProgramSettings): void {
  checkCommission(s.commission, 'commission');
}

function checkCommission(rule: CommissionRule, field: string): void {
  if (rule.type === 'percent') {
    if (!Number.isInteger(rule.basisPoints) || rule.basisPoints < 1 || rule.basisPoints > 10_000) {
      throw new ValidationFailed('the commission rule is invalid', [{ field: `${field}.basisPoints`, message: 'must be a whole number from 1 to 10000' }]);
    }
  } else if (rule.type === 'flat') {
    if (!Number.isSafeInteger(rule.amountMinor) || rule.amountMinor < 0) {
      throw new ValidationFailed('the commission rule is invalid', [{ field: `${field}.amountMinor`, message: 'must be a whole number of minor units, 0 or more' }]);
    }
  } else {
    throw new ValidationFailed('the commission rule is invalid', [{ field: `${field}.type`, message: 'must be percent or flat' }]);
  }
}
