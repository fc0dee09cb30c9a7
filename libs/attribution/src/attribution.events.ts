export type AttributionReason =
  | 'attributed'
  | 'no_click'
  | 'click_not_found'
  | 'click_expired'
  | 'unknown_code'
  | 'affiliate_suspended'
  | 'self_referral'
  | 'duplicate_order';

export interface AttributionOutcome {
  attributed: boolean;
  reason: AttributionReason;
  method: 'click' | 'code' | null;
  affiliateId: string | null;
  clickId: string | null;
  clickAt: string | null;
  expiresAt: string | null;
  cookieWindowDays: number | null;
}

/** In the order's stream (`order-<storefrontId>-<orderId>`); the outcome is the decision, recorded once. */
export interface ConversionRecorded {
  type: 'ConversionRecorded';
  programId: string;
  storefrontId: string;
  conversionId: string;
  orderId: string;
  amountMinor: number;
  currency: string;
  customerId: string | null;
  occurredAt: string;
  clickId: string | null;
  affiliateCode: string | null;
  attribution: AttributionOutcome;
  /** Fingerprint of the input: an identical resend is a no-op, a different one is recorded as duplicate_order. */
  payloadHash: string;
  /** Set on a duplicate_order record: the conversion that was counted. */
  duplicateOf: string | null;
}

export const orderStream = (storefrontId: string, orderId: string) => `order-${storefrontId}-${orderId}`;
