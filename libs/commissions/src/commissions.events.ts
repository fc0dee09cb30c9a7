import { CommissionRule } from '@lib/programs/programs.events';

/** Appended to the affiliate's ledger stream; carries the decision so a replay never recomputes it. */
export interface CommissionEarned {
  type: 'CommissionEarned';
  programId: string;
  affiliateId: string;
  conversionId: string;
  storefrontId: string;
  orderId: string;
  orderAmountMinor: number;
  amountMinor: number;
  currency: string;
  rule: CommissionRule;
  /** 'program' (version = program settings version) or 'affiliate' (version = the override's revision). */
  ruleSource: 'program' | 'affiliate';
  ruleVersion: number;
  occurredAt: string;
  /** End of the hold: from then on the commission is payable. */
  availableAt: string;
}
