import { plainToInstance } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  Min,
  ValidateIf,
  validateSync,
  ValidationError,
} from 'class-validator';
import { TrackingKind, TrackingMessage } from './transport.port';

/**
 * The wire contract of the tracking topics: what the tracker writes and the ingestor accepts. Every consumed
 * record is checked against it before it reaches the ingest command, so a malformed record is dead-lettered
 * with the reason instead of failing a batch (and blocking its partition) over and over.
 */
const KINDS: TrackingKind[] = ['click', 'conversion', 'refund'];

/** A field that must be present and may be null (the tracker writes null, never leaves it out). */
// Decorators run bottom-up and only the first failure is reported: the type check sits last so it speaks first.
const Nullable = () => ValidateIf((_o, value) => value !== null);

class TrackingEnvelope {
  @IsUUID() id: string;
  @IsIn(KINDS) kind: TrackingKind;
  @Length(1, 512) @IsString() key: string;
  @Length(1, 100) @IsString() programId: string;
  @IsISO8601({ strict: true }) receivedAt: string;
  @IsObject() body: Record<string, unknown>;
}

class ClickBody {
  @Length(1, 300) @IsString() clickId: string;
  @Length(1, 100) @IsString() affiliateId: string;
  @IsISO8601({ strict: true }) occurredAt: string;
  @Nullable() @Length(1, 128) @IsString() visitorHash: string | null;
  @Nullable() @Length(0, 1000) @IsString() userAgent: string | null;
  @Nullable() @Length(0, 2000) @IsString() referrer: string | null;
  @Nullable() @Length(1, 200) @IsString() subId: string | null;
  @IsBoolean() bot: boolean;
  @IsIn(['redirect', 'api']) source: 'redirect' | 'api';
  @Nullable() @Length(1, 100) @IsString() storefrontId: string | null;
}

class ConversionBody {
  @Length(1, 100) @IsString() storefrontId: string;
  @Length(1, 100) @IsString() conversionId: string;
  @Length(1, 200) @IsString() orderId: string;
  @Min(0) @Max(1e13) @IsInt() amountMinor: number;
  @Matches(/^[A-Z]{3}$/) currency: string;
  @Nullable() @Length(1, 200) @IsString() customerId: string | null;
  @Nullable() @Length(1, 320) @IsString() customerEmail: string | null;
  @IsISO8601({ strict: true }) occurredAt: string;
  @Nullable() @Length(1, 300) @IsString() clickId: string | null;
  @Nullable() @Length(1, 64) @IsString() affiliateCode: string | null;
  @Matches(/^[0-9a-f]{64}$/) payloadHash: string;
}

class RefundBody {
  @Length(1, 100) @IsString() storefrontId: string;
  @Length(1, 200) @IsString() orderId: string;
  @Min(0) @Max(1e13) @IsInt() amountMinor: number;
  @IsISO8601({ strict: true }) occurredAt: string;
}

const BODIES: Record<TrackingKind, new () => object> = { click: ClickBody, conversion: ConversionBody, refund: RefundBody };

export type DecodedRecord = { ok: true; message: TrackingMessage } | { ok: false; reason: string };

/** Which kinds each topic carries: a record on the wrong topic would be ordered by the wrong key. */
export type TopicKinds = Record<string, TrackingKind[]>;

/**
 * Turns a consumed record into a TrackingMessage, or says why it cannot be one. Unknown fields are refused
 * rather than dropped: the domain spreads the body into events, and a field nobody validated must not reach them.
 */
export function decodeTrackingRecord(
  record: { topic: string; key: Buffer | null; value: Buffer | null },
  topicKinds: TopicKinds,
): DecodedRecord {
  if (record.value === null || record.value.length === 0) return { ok: false, reason: 'empty_record: the record has no value' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(record.value.toString('utf8'));
  } catch (e) {
    return { ok: false, reason: `invalid_json: ${(e as Error).message}` };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { ok: false, reason: 'invalid_json: the value is not a JSON object' };
  const envelope = check(TrackingEnvelope, parsed as Record<string, unknown>);
  if (envelope) return { ok: false, reason: `validation_failed: ${envelope}` };
  const message = parsed as TrackingMessage;
  const body = check(BODIES[message.kind], message.body);
  if (body) return { ok: false, reason: `validation_failed: ${message.kind} body: ${body}` };
  if (!topicKinds[record.topic]?.includes(message.kind)) return { ok: false, reason: `wrong_topic: a ${message.kind} does not belong on ${record.topic}` };
  // The key decides the partition and therefore the order; a record whose key disagrees was not written by the tracker.
  if (record.key === null || record.key.toString('utf8') !== message.key) return { ok: false, reason: 'key_mismatch: the record key is not the message key' };
  return { ok: true, message };
}

/** Null when the object satisfies the class, else the first problems in words. */
function check(cls: new () => object, plain: Record<string, unknown>): string | null {
  const errors = validateSync(plainToInstance(cls, plain), { whitelist: true, forbidNonWhitelisted: true, stopAtFirstError: true });
  return errors.length === 0 ? null : describe(errors);
}

function describe(errors: ValidationError[]): string {
  return errors
    .slice(0, 5)
    .map((e) => Object.values(e.constraints ?? {}).join(', ') || `${e.property} is invalid`)
    .join('; ');
}
