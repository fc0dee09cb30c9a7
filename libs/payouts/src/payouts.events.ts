/** Ledger events of the affiliate's stream (`affiliate-<id>`), appended with its exact expected revision. */
export interface PayoutRecorded {
  type: 'PayoutRecorded';
  programId: string;
  affiliateId: string;
  payoutId: string;
  amountMinor: number;
  currency: string;
  reference: string | null;
  paidAt: string;
  occurredAt: string;
  idempotencyKey: string;
  /** Fingerprint of the request body: the same key with another body is refused, not replayed. */
  requestHash: string;
}

export interface PayoutVoided {
  type: 'PayoutVoided';
  programId: string;
  affiliateId: string;
  payoutId: string;
  amountMinor: number;
  reason: string;
  occurredAt: string;
}
