import { RecordedEvent } from '@lib/event-store/event-store.port';
import { Projection, ProjectionContext } from '@lib/views/projection';
import { AttributionOutcome, ConversionRecorded } from './attribution.events';

/** One document per recorded conversion, found by order id or click id; unattributed ones indexed by time. */
export interface ConversionDoc {
  recordId: string;
  conversionId: string;
  programId: string;
  storefrontId: string;
  orderId: string;
  amountMinor: number;
  currency: string;
  customerId: string | null;
  occurredAt: string;
  recordedAt: string;
  clickId: string | null;
  affiliateCode: string | null;
  attribution: AttributionOutcome;
  duplicateOf: string | null;
}

export const attributionKeys = {
  record: (recordId: string) => `rec:${recordId}`,
  order: (programId: string, orderId: string) => `order:${programId}:${orderId}`,
  click: (clickId: string) => `click:${clickId}`,
  unattributed: (programId: string) => `unattributed:${programId}`,
};

export const attributionProjection: Projection = {
  name: 'attribution',
  version: 1,
  eventTypes: ['ConversionRecorded'],
  keysFor(event: RecordedEvent<ConversionRecorded>): string[] {
    const e = event.data;
    return [attributionKeys.record(event.id), attributionKeys.order(e.programId, e.orderId), ...(e.clickId ? [attributionKeys.click(e.clickId)] : [])];
  },
  apply(event: RecordedEvent<ConversionRecorded>, ctx: ProjectionContext): void {
    const e = event.data;
    const doc: ConversionDoc = {
      recordId: event.id,
      conversionId: e.conversionId,
      programId: e.programId,
      storefrontId: e.storefrontId,
      orderId: e.orderId,
      amountMinor: e.amountMinor,
      currency: e.currency,
      customerId: e.customerId,
      occurredAt: e.occurredAt,
      recordedAt: event.recordedAt,
      clickId: e.clickId,
      affiliateCode: e.affiliateCode,
      attribution: e.attribution,
      duplicateOf: e.duplicateOf,
    };
    ctx.put(attributionKeys.record(event.id), doc);
    appendTo(ctx, attributionKeys.order(e.programId, e.orderId), event.id);
    if (e.clickId) appendTo(ctx, attributionKeys.click(e.clickId), event.id);
    if (!e.attribution.attributed) ctx.zadd(attributionKeys.unattributed(e.programId), event.id, Date.parse(e.occurredAt));
  },
};

function appendTo(ctx: ProjectionContext, key: string, id: string): void {
  ctx.put(key, [...(ctx.get<string[]>(key) ?? []), id]);
}
