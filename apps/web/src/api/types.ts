/**
 * The API's answers, typed by hand from the server's DTOs and readers (libs/dashboard/src/dashboard.reader.ts,
 * libs/programs/src/programs.views.ts, libs/payouts/src/ledger.ts, libs/attribution/src/attribution.controller.ts).
 * test/web-api-contract.e2e-spec.ts fails when these and the running API drift apart.
 */
export type CommissionRule = { type: 'percent'; basisPoints: number } | { type: 'flat'; amountMinor: number };

export interface Program {
  id: string;
  name: string;
  currency: string;
  defaultLandingUrl: string;
  allowedLandingHosts: string[];
  cookieWindowDays: number;
  commission: CommissionRule;
  holdDays: number;
  minimumPayoutMinor: number;
  settingsVersion: number;
  latestSettingsVersion: number;
  scheduledChanges: { version: number; effectiveAt: string; changes: Record<string, unknown> }[];
  storefronts: { id: string; name: string; createdAt: string }[];
  createdAt: string;
}

export interface ProgramInput {
  name: string;
  currency: string;
  defaultLandingUrl: string;
  allowedLandingHosts: string[];
  cookieWindowDays: number;
  commission: CommissionRule;
  holdDays: number;
  minimumPayoutMinor: number;
}

export interface Storefront {
  id: string;
  programId: string;
  name: string;
  apiKey: string;
}

export interface Affiliate {
  id: string;
  programId: string;
  name: string;
  email: string;
  code: string;
  link: string;
  landingUrl: string | null;
  commission: CommissionRule | null;
  status: 'active' | 'suspended';
  enrolledAt: string;
}

export interface Insight {
  code: 'high_clicks_low_conversions' | 'low_clicks' | 'high_conversion_rate';
  message: string;
}

export interface AffiliateStats {
  id: string;
  name: string;
  code: string;
  link: string;
  status: string;
  clicks: number;
  uniqueClicks: number;
  botClicks: number;
  conversions: number;
  conversionRate: number;
  commissionEarnedMinor: number;
  commissionPaidMinor: number;
  commissionOwedMinor: number;
  commissionPayableMinor: number;
  lastClickAt: string | null;
  lastConversionAt: string | null;
  insights: Insight[];
}

/** Every field of AffiliateStats, checked at compile time below and against the live API by the contract test. */
export const AFFILIATE_STATS_FIELDS = [
  'id', 'name', 'code', 'link', 'status', 'clicks', 'uniqueClicks', 'botClicks', 'conversions', 'conversionRate',
  'commissionEarnedMinor', 'commissionPaidMinor', 'commissionOwedMinor', 'commissionPayableMinor', 'lastClickAt',
  'lastConversionAt', 'insights',
] as const;
type Exactly<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const affiliateFieldsComplete: Exactly<(typeof AFFILIATE_STATS_FIELDS)[number], keyof AffiliateStats> = true;
void affiliateFieldsComplete;

/** GET .../affiliates/{affiliateId}: the stats plus the enrolment (commission null: the program's rule applies). */
export interface AffiliateDetail extends AffiliateStats {
  email: string;
  landingUrl: string | null;
  commission: CommissionRule | null;
  enrolledAt: string;
}

export interface Totals {
  clicks: number;
  uniqueClicks: number;
  botClicks: number;
  conversions: number;
  unattributedConversions: number;
  duplicateOrders: number;
  conversionRate: number;
  commissionEarnedMinor: number;
  commissionPaidMinor: number;
  commissionOwedMinor: number;
  commissionPayableMinor: number;
}

export const TOTALS_FIELDS = [
  'clicks', 'uniqueClicks', 'botClicks', 'conversions', 'unattributedConversions', 'duplicateOrders', 'conversionRate',
  'commissionEarnedMinor', 'commissionPaidMinor', 'commissionOwedMinor', 'commissionPayableMinor',
] as const;
const totalsFieldsComplete: Exactly<(typeof TOTALS_FIELDS)[number], keyof Totals> = true;
void totalsFieldsComplete;

export interface Dashboard {
  programId: string;
  currency: string;
  totals: Totals;
  topAffiliates: AffiliateStats[];
  needsAttention: AffiliateStats[];
  freshness: { position: number; headPosition: number; lagMs: number };
}

export const SORT_KEYS = ['clicks', 'conversions', 'conversionRate', 'commissionEarnedMinor', 'commissionOwedMinor'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export type SortOrder = 'asc' | 'desc';

export interface AffiliatePage {
  items: AffiliateStats[];
  nextCursor: string | null;
  total: number;
}

export type Metric = 'clicks' | 'conversions' | 'commission';
export type Interval = 'day' | 'hour';

export interface Timeseries {
  metric: Metric;
  interval: Interval;
  points: { t: string; value: number }[];
}

export interface LedgerBalance {
  earnedMinor: number;
  paidMinor: number;
  owedMinor: number;
}

export interface LedgerEntry {
  eventId: string;
  type: 'CommissionEarned' | 'PayoutRecorded' | 'PayoutVoided' | string;
  amountMinor: number;
  orderId?: string;
  conversionId?: string;
  payoutId?: string;
  reference?: string | null;
  reason?: string;
  ruleVersion?: number;
  occurredAt: string;
  recordedAt: string;
  balance: LedgerBalance;
}

export interface Ledger {
  entries: LedgerEntry[];
  balance: LedgerBalance;
}

export interface Payout {
  payoutId: string;
  programId: string;
  affiliateId: string;
  amountMinor: number;
  currency: string;
  reference: string | null;
  paidAt: string;
  recordedAt: string;
}

export interface PayoutInput {
  amountMinor?: number;
  reference?: string;
}

export type AttributionReason =
  | 'attributed'
  | 'no_click'
  | 'click_not_found'
  | 'click_expired'
  | 'unknown_code'
  | 'affiliate_suspended'
  | 'self_referral'
  | 'duplicate_order'
  | 'not_received';

export interface AttributionAnswer {
  attributed: boolean;
  reason: AttributionReason;
  affiliateId?: string;
  click?: { clickId: string; affiliateId: string | null; occurredAt: string; expiresAt: string };
  conversion?: {
    conversionId: string;
    orderId: string;
    storefrontId: string;
    amountMinor: number;
    currency: string;
    occurredAt: string;
    recordedAt: string;
    clickId: string | null;
    affiliateCode: string | null;
  };
  cookieWindowDays: number;
  explanation: string;
}

export interface ApiErrorBody {
  error: string;
  message: string;
  details: { field: string; message: string }[];
}
