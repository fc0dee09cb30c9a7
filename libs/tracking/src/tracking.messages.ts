import { TrackingMessage } from '@lib/messaging/transport.port';
import { deterministicUuid, sha256 } from '@lib/platform/ids';

/**
 * The messages the edge hands to the transport. Their ids derive from the input (the click id; the
 * storefront, order id and body), so a resend or a redelivery maps to the same events.
 */
export interface ClickFacts {
  programId: string;
  affiliateId: string;
  clickId: string;
  occurredAt: Date;
  visitorHash: string | null;
  userAgent: string | null;
  referrer: string | null;
  subId: string | null;
  bot: boolean;
  source: 'redirect' | 'api';
  storefrontId: string | null;
}

export function clickMessage(click: ClickFacts, now: Date): TrackingMessage {
  const { programId, occurredAt, ...rest } = click;
  return {
    id: deterministicUuid('click', click.clickId),
    kind: 'click',
    key: click.affiliateId,
    programId,
    receivedAt: now.toISOString(),
    body: { ...rest, occurredAt: occurredAt.toISOString() },
  };
}

export interface ConversionFields {
  orderId: string;
  amountMinor: number;
  currency: string;
  clickId?: string;
  affiliateCode?: string;
  customerId?: string;
  customerEmail?: string;
  /** As the client sent it: absent means "when received". */
  occurredAt?: string;
}

export function conversionId(storefrontId: string, orderId: string): string {
  return `cv_${sha256(`${storefrontId}\u0000${orderId}`).slice(0, 24)}`;
}

export function conversionMessage(storefront: { storefrontId: string; programId: string }, fields: ConversionFields, now: Date): TrackingMessage {
  const payloadHash = conversionPayloadHash(fields);
  return {
    id: deterministicUuid('conversion', storefront.storefrontId, fields.orderId, payloadHash),
    kind: 'conversion',
    key: `${storefront.programId}:${fields.orderId}`,
    programId: storefront.programId,
    receivedAt: now.toISOString(),
    body: {
      storefrontId: storefront.storefrontId,
      conversionId: conversionId(storefront.storefrontId, fields.orderId),
      orderId: fields.orderId,
      amountMinor: fields.amountMinor,
      currency: fields.currency,
      customerId: fields.customerId ?? null,
      customerEmail: fields.customerEmail ?? null,
      occurredAt: (fields.occurredAt ? new Date(fields.occurredAt) : now).toISOString(),
      clickId: fields.clickId ?? null,
      affiliateCode: fields.affiliateCode ?? null,
      payloadHash,
    },
  };
}

/**
 * The hash of the input as sent (occurredAt as given, not defaulted), so a client's retry hashes the same.
 * The keys are written in sorted order: the same bytes as canonical JSON, without sorting on every request.
 */
export function conversionPayloadHash(fields: ConversionFields): string {
  return sha256(
    JSON.stringify({
      affiliateCode: fields.affiliateCode ?? null,
      amountMinor: fields.amountMinor,
      clickId: fields.clickId ?? null,
      currency: fields.currency,
      customerEmail: fields.customerEmail ?? null,
      customerId: fields.customerId ?? null,
      occurredAt: fields.occurredAt ?? null,
      orderId: fields.orderId,
    }),
  );
}
