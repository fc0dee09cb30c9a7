import { AffiliateAccount, commissionsOf } from '@lib/commissions/affiliate-account';
import { addDays, commissionFor } from '@lib/commissions/commission.rule';
import { CommissionEarned } from '@lib/commissions/commissions.events';
import { ProgramState, settingsAt } from '@lib/programs/program.state';
import { AttributionOutcome, ConversionRecorded } from './attribution.events';

/** A click id as the conversion presented it: verified (signature ok) or not. */
export type ClickRef =
  | { valid: true; clickId: string; programId: string; affiliateId: string; clickAt: string }
  | { valid: false; clickId: string };

export interface ConversionInput {
  programId: string;
  storefrontId: string;
  conversionId: string;
  orderId: string;
  amountMinor: number;
  currency: string;
  customerId: string | null;
  customerEmail: string | null;
  occurredAt: string;
  clickId: string | null;
  affiliateCode: string | null;
  payloadHash: string;
}

export interface ConversionContext {
  program: ProgramState;
  /** Earlier ConversionRecorded events of the same order stream. */
  earlier: ConversionRecorded[];
  click: ClickRef | null;
  /** The account of the click's affiliate (null when unknown to the store). */
  clickAccount: AffiliateAccount | null;
  /** The account the affiliateCode names within this program; null: unknown code. */
  codeAccount: AffiliateAccount | null;
}

export type ConversionDecision =
  | { kind: 'repeat'; counted: ConversionRecorded }
  | { kind: 'record'; conversion: ConversionRecorded; commission: CommissionEarned | null };

/**
 * Decides a conversion once: attribution outcome with its reason, and the commission it earns.
 * The click's window is the program's cookie window as it stood at the click; the commission rule
 * is the affiliate's override, else the program's rule in effect when the order happened.
 */
export function decideConversion(input: ConversionInput, ctx: ConversionContext): ConversionDecision {
  const first = ctx.earlier.find((e) => e.duplicateOf === null);
  if (first) {
    // An identical resend (client retry, redelivery) changes nothing; a different one is on record as a duplicate.
    if (ctx.earlier.some((e) => e.payloadHash === input.payloadHash)) return { kind: 'repeat', counted: first };
    return {
      kind: 'record',
      conversion: conversionEvent(input, { ...notAttributed('duplicate_order'), ...clickFields(ctx.click) }, first.conversionId),
      commission: null,
    };
  }
  const { outcome, account } = attribute(input, ctx);
  const conversion = conversionEvent(input, outcome, null);
  if (!outcome.attributed || !account) return { kind: 'record', conversion, commission: null };
  return { kind: 'record', conversion, commission: commissionEvent(input, ctx.program, account) };
}

/**
 * A repeat of an attributed order whose commission is not in the affiliate's ledger: a store without
 * multi-stream transactions (EventStoreDB) crashed, or lost a race, between the order's append and the
 * commission's. The commission is decided from the recorded conversion, exactly as it was at first.
 */
export function missingCommission(counted: ConversionRecorded, program: ProgramState, account: AffiliateAccount): CommissionEarned | null {
  if (!counted.attribution.attributed || counted.attribution.affiliateId !== account.affiliateId) return null;
  for (const c of commissionsOf(account)) if (c.conversionId === counted.conversionId) return null;
  return commissionEvent({ ...counted, customerEmail: null }, program, account);
}

export function attribute(input: ConversionInput, ctx: ConversionContext): { outcome: AttributionOutcome; account: AffiliateAccount | null } {
  const click = ctx.click;
  if (click && click.valid && click.programId === input.programId && ctx.clickAccount) {
    const windowDays = settingsAt(ctx.program, click.clickAt).settings.cookieWindowDays;
    const expiresAt = addDays(click.clickAt, windowDays);
    const base = { method: 'click' as const, affiliateId: click.affiliateId, clickId: click.clickId, clickAt: click.clickAt, expiresAt, cookieWindowDays: windowDays };
    // The window's last instant still counts: a conversion at exactly expiresAt is attributed.
    if (Date.parse(input.occurredAt) > Date.parse(expiresAt)) return { outcome: { ...base, attributed: false, reason: 'click_expired' }, account: null };
    return judgeAccount(input, ctx.clickAccount, base);
  }
  if (input.affiliateCode !== null) {
    if (!ctx.codeAccount || ctx.codeAccount.programId !== input.programId) {
      return { outcome: { ...notAttributed('unknown_code'), method: 'code', ...clickFields(click) }, account: null };
    }
    return judgeAccount(input, ctx.codeAccount, { ...notAttributed('attributed'), method: 'code', affiliateId: ctx.codeAccount.affiliateId, ...clickFields(click) });
  }
  if (click) return { outcome: { ...notAttributed('click_not_found'), method: 'click', clickId: click.clickId }, account: null };
  return { outcome: notAttributed('no_click'), account: null };
}

function judgeAccount(
  input: ConversionInput,
  account: AffiliateAccount,
  base: Omit<AttributionOutcome, 'attributed' | 'reason'>,
): { outcome: AttributionOutcome; account: AffiliateAccount | null } {
  if (account.status !== 'active') return { outcome: { ...base, attributed: false, reason: 'affiliate_suspended' }, account: null };
  if (input.customerEmail && input.customerEmail.toLowerCase() === account.email) {
    return { outcome: { ...base, attributed: false, reason: 'self_referral' }, account: null };
  }
  return { outcome: { ...base, attributed: true, reason: 'attributed' }, account };
}

function notAttributed(reason: AttributionOutcome['reason']): AttributionOutcome {
  return { attributed: false, reason, method: null, affiliateId: null, clickId: null, clickAt: null, expiresAt: null, cookieWindowDays: null };
}

function clickFields(click: ClickRef | null): Partial<AttributionOutcome> {
  return click ? { clickId: click.clickId } : {};
}

function conversionEvent(input: ConversionInput, attribution: AttributionOutcome, duplicateOf: string | null): ConversionRecorded {
  return {
    type: 'ConversionRecorded',
    programId: input.programId,
    storefrontId: input.storefrontId,
    conversionId: input.conversionId,
    orderId: input.orderId,
    amountMinor: input.amountMinor,
    currency: input.currency,
    customerId: input.customerId,
    occurredAt: input.occurredAt,
    clickId: input.clickId,
    affiliateCode: input.affiliateCode,
    attribution,
    payloadHash: input.payloadHash,
    duplicateOf,
  };
}

function commissionEvent(input: ConversionInput, program: ProgramState, account: AffiliateAccount): CommissionEarned {
  const { settings, version } = settingsAt(program, input.occurredAt);
  const override = account.commission;
  const rule = override ?? settings.commission;
  return {
    type: 'CommissionEarned',
    programId: input.programId,
    affiliateId: account.affiliateId,
    conversionId: input.conversionId,
    storefrontId: input.storefrontId,
    orderId: input.orderId,
    orderAmountMinor: input.amountMinor,
    amountMinor: commissionFor(rule, input.amountMinor),
    currency: settings.currency,
    rule,
    ruleSource: override ? 'affiliate' : 'program',
    ruleVersion: override ? account.commissionVersion : version,
    occurredAt: input.occurredAt,
    availableAt: addDays(input.occurredAt, settings.holdDays),
  };
}
