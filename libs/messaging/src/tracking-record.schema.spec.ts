import { decodeTrackingRecord } from './tracking-record.schema';

const TOPICS = { clicks: ['click' as const], orders: ['conversion' as const, 'refund' as const] };

const conversion = (overrides: Record<string, unknown> = {}, body: Record<string, unknown> = {}) => ({
  id: '6f1c2a3e-9b8d-5c7e-a1f0-5e2d3c4b5a69',
  kind: 'conversion',
  key: 'prg_1:o-1',
  programId: 'prg_1',
  receivedAt: '2025-03-01T10:00:00.000Z',
  body: {
    storefrontId: 'sf_1',
    conversionId: 'cv_1',
    orderId: 'o-1',
    amountMinor: 1999,
    currency: 'EUR',
    customerId: null,
    customerEmail: null,
    occurredAt: '2025-03-01T09:59:00.000Z',
    clickId: null,
    affiliateCode: 'jane',
    payloadHash: 'ab'.repeat(32),
    ...body,
  },
  ...overrides,
});

const record = (value: unknown, topic = 'orders', key: string | null = 'prg_1:o-1') => ({
  topic,
  key: key === null ? null : Buffer.from(key),
  value: value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
});

const reason = (r: ReturnType<typeof decodeTrackingRecord>) => (r.ok ? 'ok' : r.reason);

describe('decodeTrackingRecord: every consumed record is validated before the ingest command sees it', () => {
  it('given a conversion as the tracker writes it, when decoded, then it is the message', () => {
    const result = decodeTrackingRecord(record(conversion()), TOPICS);
    expect(result).toEqual({ ok: true, message: conversion() });
  });

  it.each([
    ['an empty record', null, /^empty_record/],
    ['text that is not JSON', '{"orderId": ', /^invalid_json: /],
    ['a JSON array', '[1,2]', /^invalid_json: the value is not a JSON object/],
    ['an unknown kind', conversion({ kind: 'payout' }), /^validation_failed: kind must be one of/],
    ['an id that is not a UUID', conversion({ id: 'x' }), /^validation_failed: id must be a UUID/],
    ['a fractional amount', conversion({}, { amountMinor: 19.5 }), /^validation_failed: conversion body: amountMinor must be an integer/],
    ['a lower-case currency', conversion({}, { currency: 'eur' }), /^validation_failed: conversion body: currency must match/],
    ['a missing nullable field', conversion({}, { clickId: undefined }), /^validation_failed: conversion body: clickId must be a string/],
    ['a field nobody validated', conversion({}, { isAdmin: true }), /^validation_failed: conversion body: property isAdmin should not exist/],
    ['an unknown envelope field', conversion({ extra: 1 }), /^validation_failed: property extra should not exist/],
  ])('given %s, when decoded, then it is refused with the reason', (_name, value, expected) => {
    expect(reason(decodeTrackingRecord(record(value), TOPICS))).toMatch(expected);
  });

  it('given a conversion on the clicks topic, when decoded, then it is refused: it would be ordered by the wrong key', () => {
    expect(reason(decodeTrackingRecord(record(conversion(), 'clicks'), TOPICS))).toBe('wrong_topic: a conversion does not belong on clicks');
  });

  it('given a record whose key is not the message key, when decoded, then it is refused', () => {
    expect(reason(decodeTrackingRecord(record(conversion(), 'orders', 'prg_1:o-2'), TOPICS))).toMatch(/^key_mismatch/);
    expect(reason(decodeTrackingRecord(record(conversion(), 'orders', null), TOPICS))).toMatch(/^key_mismatch/);
  });
});
