import { AffiliateStatus, CommissionRule, EnrolmentEvent } from '@lib/programs/programs.events';
import { CommissionEarned } from './commissions.events';
import { PayoutRecorded, PayoutVoided } from '@lib/payouts/payouts.events';

/** The affiliate's stream (`affiliate-<id>`) is its account: enrolment, status, override and ledger. */
export type AccountEvent = EnrolmentEvent | CommissionEarned | PayoutRecorded | PayoutVoided;

export interface PayoutEntry {
  payoutId: string;
  amountMinor: number;
  reference: string | null;
  paidAt: string;
  occurredAt: string;
  idempotencyKey: string;
  requestHash: string;
  voided: boolean;
}

export interface CommissionEntry {
  conversionId: string;
  availableAt: string;
  amountMinor: number;
}

/**
 * Commissions as a persistent list, newest first: folding a commission shares the rest of the list instead
 * of copying it, so a ledger of n commissions folds in O(n), not O(n²), and earlier states stay intact.
 */
export type CommissionList = { entry: CommissionEntry; rest: CommissionList } | null;

export function* commissionsOf(account: Pick<AffiliateAccount, 'commissions'>): Generator<CommissionEntry> {
  for (let node = account.commissions; node; node = node.rest) yield node.entry;
}

export interface AffiliateAccount {
  affiliateId: string;
  programId: string;
  name: string;
  email: string;
  code: string;
  landingUrl: string | null;
  status: AffiliateStatus;
  commission: CommissionRule | null;
  /** Counts override changes: the rule version recorded when the override decides a commission. */
  commissionVersion: number;
  earnedMinor: number;
  paidMinor: number;
  commissions: CommissionList;
  payouts: Record<string, PayoutEntry>;
}

export function evolveAccount(state: AffiliateAccount | null, event: AccountEvent): AffiliateAccount | null {
  if (event.type === 'AffiliateEnrolled') {
    return {
      affiliateId: event.affiliateId,
      programId: event.programId,
      name: event.name,
      email: event.email,
      code: event.code,
      landingUrl: event.landingUrl,
      status: 'active',
      commission: event.commission,
      commissionVersion: 1,
      earnedMinor: 0,
      paidMinor: 0,
      commissions: null,
      payouts: {},
    };
  }
  if (!state) return state;
  switch (event.type) {
    case 'AffiliateStatusChanged':
      return { ...state, status: event.status };
    case 'AffiliateCommissionChanged':
      return { ...state, commission: event.commission, commissionVersion: state.commissionVersion + 1 };
    case 'CommissionEarned':
      return {
        ...state,
        earnedMinor: state.earnedMinor + event.amountMinor,
        commissions: { entry: { conversionId: event.conversionId, availableAt: event.availableAt, amountMinor: event.amountMinor }, rest: state.commissions },
      };
    case 'PayoutRecorded':
      return {
        ...state,
        paidMinor: state.paidMinor + event.amountMinor,
        payouts: {
          ...state.payouts,
          [event.payoutId]: {
            payoutId: event.payoutId,
            amountMinor: event.amountMinor,
            reference: event.reference,
            paidAt: event.paidAt,
            occurredAt: event.occurredAt,
            idempotencyKey: event.idempotencyKey,
            requestHash: event.requestHash,
            voided: false,
          },
        },
      };
    case 'PayoutVoided': {
      const payout = state.payouts[event.payoutId];
      if (!payout) return state;
      return {
        ...state,
        paidMinor: state.paidMinor - event.amountMinor,
        payouts: { ...state.payouts, [event.payoutId]: { ...payout, voided: true } },
      };
    }
  }
}

/** owed = earned − paid (voids give the amount back). */
export function owedMinor(account: AffiliateAccount): number {
  return account.earnedMinor - account.paidMinor;
}

/** What can be paid now: commissions past their hold, less what was paid. Never negative. */
export function payableMinor(account: AffiliateAccount, now: string): number {
  const t = Date.parse(now);
  let matured = 0;
  for (const c of commissionsOf(account)) if (Date.parse(c.availableAt) <= t) matured += c.amountMinor;
  return Math.max(0, matured - account.paidMinor);
}
