/** Events of the program stream (`program-<id>`), the code registry (`code-<code>`) and enrolment. */
export type CommissionRule = { type: 'percent'; basisPoints: number } | { type: 'flat'; amountMinor: number };

export interface ProgramSettings {
  name: string;
  currency: string;
  defaultLandingUrl: string;
  allowedLandingHosts: string[];
  cookieWindowDays: number;
  commission: CommissionRule;
  holdDays: number;
  minimumPayoutMinor: number;
}

export type ProgramSettingsPatch = Partial<Omit<ProgramSettings, 'currency'>>;

export interface ProgramCreated {
  type: 'ProgramCreated';
  programId: string;
  occurredAt: string;
  settings: ProgramSettings;
}

/** Settings version n takes effect at effectiveAt; earlier decisions keep the version they were made with. */
export interface ProgramSettingsChanged {
  type: 'ProgramSettingsChanged';
  programId: string;
  occurredAt: string;
  effectiveAt: string;
  version: number;
  changes: ProgramSettingsPatch;
}

export interface StorefrontRegistered {
  type: 'StorefrontRegistered';
  programId: string;
  storefrontId: string;
  name: string;
  /** sha256 of the API key; the key itself is shown once and never stored. */
  apiKeyHash: string;
  occurredAt: string;
}

export interface AffiliateCodeClaimed {
  type: 'AffiliateCodeClaimed';
  programId: string;
  affiliateId: string;
  code: string;
  occurredAt: string;
}

export interface AffiliateEnrolled {
  type: 'AffiliateEnrolled';
  programId: string;
  affiliateId: string;
  name: string;
  email: string;
  code: string;
  landingUrl: string | null;
  commission: CommissionRule | null;
  occurredAt: string;
}

export interface AffiliateStatusChanged {
  type: 'AffiliateStatusChanged';
  programId: string;
  affiliateId: string;
  status: AffiliateStatus;
  occurredAt: string;
}

export interface AffiliateCommissionChanged {
  type: 'AffiliateCommissionChanged';
  programId: string;
  affiliateId: string;
  /** null removes the override: the program's rule applies again. */
  commission: CommissionRule | null;
  occurredAt: string;
}

export type AffiliateStatus = 'active' | 'suspended';

export type ProgramEvent = ProgramCreated | ProgramSettingsChanged | StorefrontRegistered;
export type EnrolmentEvent = AffiliateEnrolled | AffiliateStatusChanged | AffiliateCommissionChanged;

export const programStream = (programId: string) => `program-${programId}`;
export const affiliateStream = (affiliateId: string) => `affiliate-${affiliateId}`;
/** Codes are unique across programs, case-insensitively: the link names no program. */
export const codeStream = (code: string) => `code-${code.toLowerCase()}`;
