import { AccountEvent, AffiliateAccount, evolveAccount } from '@lib/commissions/affiliate-account';
import { evolveProgram, ProgramState } from '@lib/programs/program.state';
import { changeProgramSettings, createProgram, enrollAffiliate } from '@lib/programs/programs.decider';
import { CommissionRule, ProgramEvent, ProgramSettings } from '@lib/programs/programs.events';
import { ClickRef, ConversionContext, ConversionDecision, ConversionInput, decideConversion, missingCommission } from './attribution.decider';

const DAY = 86_400_000;
const T0 = '2025-03-01T00:00:00.000Z';
const at = (days: number, ms = 0) => new Date(Date.parse(T0) + days * DAY + ms).toISOString();

const settings: ProgramSettings = {
  name: 'Trail Shoes',
  currency: 'EUR',
  defaultLandingUrl: 'https://shop.example.com/',
  allowedLandingHosts: [],
  cookieWindowDays: 30,
  commission: { type: 'percent', basisPoints: 1000 },
  holdDays: 14,
  minimumPayoutMinor: 5000,
};

const created = createProgram({ programId: 'p1', settings, now: T0 });

function program(...events: ProgramEvent[]): ProgramState {
  return events.reduce<ProgramState | null>(evolveProgram, null)!;
}

/** An affiliate's account folded from its enrolment (through the real decider) and any later events. */
function account(opts: { id?: string; email?: string; commission?: CommissionRule; programState?: ProgramState } = {}, ...later: AccountEvent[]) {
  const id = opts.id ?? 'a1';
  const [, enrolled] = enrollAffiliate(opts.programState ?? program(created), {
    affiliateId: id,
    name: 'Alice',
    email: opts.email ?? 'Alice@Example.com',
    code: `code-${id}`,
    commission: opts.commission,
    now: at(0.5),
  });
  return [enrolled, ...later].reduce<AffiliateAccount | null>(evolveAccount, null)!;
}

const suspended = (affiliateId = 'a1'): AccountEvent => ({
  type: 'AffiliateStatusChanged',
  programId: 'p1',
  affiliateId,
  status: 'suspended',
  occurredAt: at(0.6),
});

const CLICK_AT = at(1);
const click = (over: Partial<Extract<ClickRef, { valid: true }>> = {}): ClickRef => ({
  valid: true,
  clickId: 'ck1',
  programId: 'p1',
  affiliateId: 'a1',
  clickAt: CLICK_AT,
  ...over,
});

function order(over: Partial<ConversionInput> = {}): ConversionInput {
  return {
    programId: 'p1',
    storefrontId: 'sf1',
    conversionId: 'cv1',
    orderId: 'o1',
    amountMinor: 10_000,
    currency: 'EUR',
    customerId: 'cust-9',
    customerEmail: 'buyer@example.net',
    occurredAt: at(3),
    clickId: null,
    affiliateCode: null,
    payloadHash: 'hash-1',
    ...over,
  };
}

function context(over: Partial<ConversionContext> = {}): ConversionContext {
  return { program: program(created), earlier: [], click: null, clickAccount: null, codeAccount: null, ...over };
}

function recorded(decision: ConversionDecision) {
  if (decision.kind !== 'record') throw new Error(`expected a record decision, got ${decision.kind}`);
  return decision;
}

const notAttributed = { attributed: false, method: null, affiliateId: null, clickId: null, clickAt: null, expiresAt: null, cookieWindowDays: null };

describe('decideConversion: attribution outcome', () => {
  it('given a valid click within the window, when the order arrives, then it is attributed by click with the window as recorded', () => {
    const { conversion, commission } = recorded(
      decideConversion(order({ clickId: 'ck1' }), context({ click: click(), clickAccount: account() })),
    );
    expect(conversion.attribution).toEqual({
      attributed: true,
      reason: 'attributed',
      method: 'click',
      affiliateId: 'a1',
      clickId: 'ck1',
      clickAt: CLICK_AT,
      expiresAt: at(31),
      cookieWindowDays: 30,
    });
    expect(conversion).toMatchObject({ type: 'ConversionRecorded', conversionId: 'cv1', orderId: 'o1', duplicateOf: null, payloadHash: 'hash-1' });
    expect(commission).toMatchObject({ affiliateId: 'a1', conversionId: 'cv1', amountMinor: 1000 });
  });

  it('given an affiliate code of the program and no click, when the order arrives, then it is attributed by code', () => {
    const { conversion, commission } = recorded(decideConversion(order({ affiliateCode: 'code-a1' }), context({ codeAccount: account() })));
    expect(conversion.attribution).toEqual({ ...notAttributed, attributed: true, reason: 'attributed', method: 'code', affiliateId: 'a1' });
    expect(commission).toMatchObject({ affiliateId: 'a1', amountMinor: 1000 });
  });

  it('given neither click nor code, when the order arrives, then no_click and no commission', () => {
    const { conversion, commission } = recorded(decideConversion(order(), context()));
    expect(conversion.attribution).toEqual({ ...notAttributed, reason: 'no_click' });
    expect(commission).toBeNull();
  });

  it('given a click id whose signature does not verify, when the order arrives, then click_not_found and no commission', () => {
    const { conversion, commission } = recorded(
      decideConversion(order({ clickId: 'forged.token' }), context({ click: { valid: false, clickId: 'forged.token' } })),
    );
    expect(conversion.attribution).toEqual({ ...notAttributed, reason: 'click_not_found', method: 'click', clickId: 'forged.token' });
    expect(commission).toBeNull();
  });

  it("given a valid click issued for another program, when the order arrives, then click_not_found (another program's clicks earn nothing here)", () => {
    const { conversion, commission } = recorded(
      decideConversion(order({ clickId: 'ck1' }), context({ click: click({ programId: 'p2' }), clickAccount: account() })),
    );
    expect(conversion.attribution).toMatchObject({ attributed: false, reason: 'click_not_found', method: 'click', clickId: 'ck1', affiliateId: null });
    expect(commission).toBeNull();
  });

  it('given a valid click of an affiliate the store does not know, when the order arrives, then click_not_found', () => {
    const { conversion } = recorded(decideConversion(order({ clickId: 'ck1' }), context({ click: click(), clickAccount: null })));
    expect(conversion.attribution.reason).toBe('click_not_found');
  });

  it('given a click, when the order happens exactly at the end of the window, then it is attributed', () => {
    const { conversion, commission } = recorded(
      decideConversion(order({ clickId: 'ck1', occurredAt: at(31) }), context({ click: click(), clickAccount: account() })),
    );
    expect(conversion.attribution).toMatchObject({ attributed: true, reason: 'attributed', expiresAt: at(31) });
    expect(commission).not.toBeNull();
  });

  it('given a click, when the order happens 1 ms after the window ended, then click_expired with the window recorded and no commission', () => {
    const { conversion, commission } = recorded(
      decideConversion(order({ clickId: 'ck1', occurredAt: at(31, 1) }), context({ click: click(), clickAccount: account() })),
    );
    expect(conversion.attribution).toEqual({
      attributed: false,
      reason: 'click_expired',
      method: 'click',
      affiliateId: 'a1',
      clickId: 'ck1',
      clickAt: CLICK_AT,
      expiresAt: at(31),
      cookieWindowDays: 30,
    });
    expect(commission).toBeNull();
  });

  it('given the window was shortened after the click, when the order arrives inside the old window, then the window as it stood at the click applies', () => {
    const shortened = changeProgramSettings(program(created), { changes: { cookieWindowDays: 7 }, now: at(2) });
    const { conversion } = recorded(
      decideConversion(order({ clickId: 'ck1', occurredAt: at(11) }), context({ program: program(created, shortened), click: click(), clickAccount: account() })),
    );
    expect(conversion.attribution).toMatchObject({ attributed: true, reason: 'attributed', cookieWindowDays: 30, expiresAt: at(31) });
  });

  it('given the window was shortened before the click, when the order arrives after the new window, then click_expired under the new window', () => {
    const shortened = changeProgramSettings(program(created), { changes: { cookieWindowDays: 7 }, now: at(0.9) });
    const { conversion } = recorded(
      decideConversion(order({ clickId: 'ck1', occurredAt: at(11) }), context({ program: program(created, shortened), click: click(), clickAccount: account() })),
    );
    expect(conversion.attribution).toMatchObject({ attributed: false, reason: 'click_expired', cookieWindowDays: 7, expiresAt: at(8) });
  });

  it('given an affiliate code nobody has, when the order arrives, then unknown_code and no commission', () => {
    const { conversion, commission } = recorded(decideConversion(order({ affiliateCode: 'nobody' }), context({ codeAccount: null })));
    expect(conversion.attribution).toEqual({ ...notAttributed, reason: 'unknown_code', method: 'code' });
    expect(commission).toBeNull();
  });

  it("given the code of another program's affiliate, when the order arrives, then unknown_code", () => {
    const otherProgram = program(createProgram({ programId: 'p2', settings, now: T0 }));
    const other = account({ id: 'b1', programState: otherProgram });
    const { conversion } = recorded(decideConversion(order({ affiliateCode: 'code-b1' }), context({ codeAccount: other })));
    expect(conversion.attribution).toMatchObject({ attributed: false, reason: 'unknown_code', affiliateId: null });
  });

  it('given a suspended affiliate, when an order arrives through their click, then affiliate_suspended and no commission', () => {
    const { conversion, commission } = recorded(
      decideConversion(order({ clickId: 'ck1' }), context({ click: click(), clickAccount: account({}, suspended()) })),
    );
    expect(conversion.attribution).toMatchObject({ attributed: false, reason: 'affiliate_suspended', method: 'click', affiliateId: 'a1' });
    expect(commission).toBeNull();
  });

  it('given a suspended affiliate, when an order arrives with their code, then affiliate_suspended and no commission', () => {
    const { conversion, commission } = recorded(
      decideConversion(order({ affiliateCode: 'code-a1' }), context({ codeAccount: account({}, suspended()) })),
    );
    expect(conversion.attribution).toMatchObject({ attributed: false, reason: 'affiliate_suspended', method: 'code', affiliateId: 'a1' });
    expect(commission).toBeNull();
  });

  it("given the customer's email is the affiliate's own in another case, when the order arrives, then self_referral and no commission", () => {
    const { conversion, commission } = recorded(
      decideConversion(order({ clickId: 'ck1', customerEmail: 'ALICE@example.COM' }), context({ click: click(), clickAccount: account() })),
    );
    expect(conversion.attribution).toMatchObject({ attributed: false, reason: 'self_referral', affiliateId: 'a1' });
    expect(commission).toBeNull();
  });

  it('given an order recorded before, when the same order arrives with different content, then it is recorded as duplicate_order of the first, without commission', () => {
    const first = recorded(decideConversion(order({ clickId: 'ck1' }), context({ click: click(), clickAccount: account() }))).conversion;
    const { conversion, commission } = recorded(
      decideConversion(
        order({ conversionId: 'cv2', clickId: 'ck1', amountMinor: 99_999, payloadHash: 'hash-2' }),
        context({ earlier: [first], click: click(), clickAccount: account() }),
      ),
    );
    expect(conversion.duplicateOf).toBe('cv1');
    expect(conversion.conversionId).toBe('cv2');
    expect(conversion.attribution).toMatchObject({ attributed: false, reason: 'duplicate_order', clickId: 'ck1' });
    expect(commission).toBeNull();
  });

  it('given an order recorded before, when the identical payload arrives again, then it is a repeat and nothing is recorded', () => {
    const first = recorded(decideConversion(order({ clickId: 'ck1' }), context({ click: click(), clickAccount: account() }))).conversion;
    expect(decideConversion(order({ clickId: 'ck1' }), context({ earlier: [first], click: click(), clickAccount: account() }))).toEqual({ kind: 'repeat', counted: first });
  });

  it('given an order and a duplicate of it on record, when the duplicate is resent identically, then it is a repeat', () => {
    const first = recorded(decideConversion(order(), context())).conversion;
    const dup = recorded(decideConversion(order({ conversionId: 'cv2', payloadHash: 'hash-2' }), context({ earlier: [first] }))).conversion;
    expect(decideConversion(order({ conversionId: 'cv2', payloadHash: 'hash-2' }), context({ earlier: [first, dup] }))).toEqual({ kind: 'repeat', counted: first });
  });
});

describe('missingCommission: completing an order whose commission append was lost', () => {
  const first = () => recorded(decideConversion(order({ clickId: 'ck1' }), context({ click: click(), clickAccount: account() })));

  it('given an attributed order on record and a ledger without its commission, when the order is repeated, then the same commission is decided again', () => {
    const { conversion, commission } = first();
    expect(missingCommission(conversion, program(created), account())).toEqual(commission);
  });

  it('given the commission already in the ledger, when the order is repeated, then nothing is added', () => {
    const { conversion, commission } = first();
    expect(missingCommission(conversion, program(created), account({}, commission!))).toBeNull();
  });

  it('given an unattributed order on record, when it is repeated, then there is no commission to complete', () => {
    const { conversion } = recorded(decideConversion(order(), context()));
    expect(missingCommission(conversion, program(created), account())).toBeNull();
  });
});

describe('decideConversion: commission', () => {
  const attributedByCode = (input: Partial<ConversionInput>, ctx: Partial<ConversionContext> = {}) =>
    recorded(decideConversion(order({ affiliateCode: 'code-a1', ...input }), context({ codeAccount: account(), ...ctx }))).commission!;

  it("given the program's percent rule, when an attributed order arrives, then the commission is rounded half up and records the rule, version 1", () => {
    expect(attributedByCode({ amountMinor: 1999, occurredAt: at(3) }, { program: program(createProgram({ programId: 'p1', settings: { ...settings, commission: { type: 'percent', basisPoints: 1250 } }, now: T0 })) })).toEqual({
      type: 'CommissionEarned',
      programId: 'p1',
      affiliateId: 'a1',
      conversionId: 'cv1',
      storefrontId: 'sf1',
      orderId: 'o1',
      orderAmountMinor: 1999,
      amountMinor: 250,
      currency: 'EUR',
      rule: { type: 'percent', basisPoints: 1250 },
      ruleSource: 'program',
      ruleVersion: 1,
      occurredAt: at(3),
      availableAt: at(17),
    });
  });

  it("given the program's flat rule, when an attributed order arrives, then the commission is the flat amount", () => {
    const flat = program(createProgram({ programId: 'p1', settings: { ...settings, commission: { type: 'flat', amountMinor: 500 } }, now: T0 }));
    expect(attributedByCode({ amountMinor: 123_456 }, { program: flat })).toMatchObject({ amountMinor: 500, rule: { type: 'flat', amountMinor: 500 }, ruleSource: 'program' });
  });

  it("given an affiliate override, when an attributed order arrives, then the override decides, with ruleSource affiliate and the override's version", () => {
    const withOverride = account({ commission: { type: 'flat', amountMinor: 700 } });
    const commission = recorded(decideConversion(order({ affiliateCode: 'code-a1' }), context({ codeAccount: withOverride }))).commission!;
    expect(commission).toMatchObject({ amountMinor: 700, rule: { type: 'flat', amountMinor: 700 }, ruleSource: 'affiliate', ruleVersion: 1 });
  });

  it('given the override was changed once, when an attributed order arrives, then the new override decides and records version 2', () => {
    const changed = account(
      { commission: { type: 'flat', amountMinor: 700 } },
      { type: 'AffiliateCommissionChanged', programId: 'p1', affiliateId: 'a1', commission: { type: 'percent', basisPoints: 2500 }, occurredAt: at(0.7) },
    );
    const commission = recorded(decideConversion(order({ affiliateCode: 'code-a1' }), context({ codeAccount: changed }))).commission!;
    expect(commission).toMatchObject({ amountMinor: 2500, ruleSource: 'affiliate', ruleVersion: 2 });
  });

  it("given the override was removed, when an attributed order arrives, then the program's rule decides again", () => {
    const removed = account(
      { commission: { type: 'flat', amountMinor: 700 } },
      { type: 'AffiliateCommissionChanged', programId: 'p1', affiliateId: 'a1', commission: null, occurredAt: at(0.7) },
    );
    const commission = recorded(decideConversion(order({ affiliateCode: 'code-a1' }), context({ codeAccount: removed }))).commission!;
    expect(commission).toMatchObject({ amountMinor: 1000, ruleSource: 'program', ruleVersion: 1 });
  });

  it('given a rule change scheduled after the order, when the order is decided later, then the rule and version in effect at the order apply', () => {
    const raised = changeProgramSettings(program(created), { changes: { commission: { type: 'percent', basisPoints: 2000 }, holdDays: 0 }, effectiveAt: at(5), now: at(1) });
    const state = program(created, raised);
    expect(attributedByCode({ occurredAt: at(3) }, { program: state })).toMatchObject({ amountMinor: 1000, ruleVersion: 1, availableAt: at(17) });
    expect(attributedByCode({ occurredAt: at(6) }, { program: state })).toMatchObject({ amountMinor: 2000, ruleVersion: 2, availableAt: at(6) });
  });

  it('given an order decided under version 1, when the settings change afterwards, then the recorded commission keeps version 1', () => {
    const before = attributedByCode({ occurredAt: at(3) });
    const raised = changeProgramSettings(program(created), { changes: { commission: { type: 'percent', basisPoints: 2000 } }, now: at(4) });
    const again = attributedByCode({ occurredAt: at(3) }, { program: program(created, raised) });
    expect(again).toEqual(before);
    expect(again).toMatchObject({ ruleVersion: 1, amountMinor: 1000 });
  });

  it('given hold days of 14, when an attributed order arrives, then availableAt is 14 days after the order', () => {
    expect(attributedByCode({ occurredAt: at(3, 12_345) }).availableAt).toBe(at(17, 12_345));
  });
});
