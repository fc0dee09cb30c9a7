import fc from 'fast-check';
import { AccountEvent, AffiliateAccount, evolveAccount, owedMinor, payableMinor } from '@lib/commissions/affiliate-account';
import { decideConversion } from '@lib/attribution/attribution.decider';
import { RecordedEvent } from '@lib/event-store/event-store.port';
import { BusinessRuleViolation, Conflict, NotFound } from '@lib/platform/errors';
import { evolveProgram, ProgramState } from '@lib/programs/program.state';
import { createProgram, enrollAffiliate } from '@lib/programs/programs.decider';
import { CommissionRule } from '@lib/programs/programs.events';
import { ledgerOf } from './ledger';
import { recordPayout, voidPayout } from './payouts.decider';

/**
 * Invariant 4 of DESIGN.md: owed = earned − paid (voids give back), at every step, whatever the operators
 * and storefronts do, and a payout never takes the balance below zero.
 */
const HOUR = 3_600_000;
const T0 = Date.parse('2025-03-01T00:00:00.000Z');

type Command =
  | { kind: 'convert'; amountMinor: number; afterHours: number }
  | { kind: 'pay'; amountMinor: number | undefined; afterHours: number }
  | { kind: 'repeatPay'; pick: number }
  | { kind: 'void'; pick: number; afterHours: number };

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('convert' as const), amountMinor: fc.integer({ min: 0, max: 1_000_000 }), afterHours: fc.integer({ min: 0, max: 48 }) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('pay' as const),
      amountMinor: fc.option(fc.integer({ min: 0, max: 200_000 }), { nil: undefined }),
      afterHours: fc.integer({ min: 0, max: 48 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('repeatPay' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('void' as const), pick: fc.nat(), afterHours: fc.integer({ min: 0, max: 48 }) }) },
);

const ruleArb: fc.Arbitrary<CommissionRule> = fc.oneof(
  fc.record({ type: fc.constant('percent' as const), basisPoints: fc.integer({ min: 1, max: 10_000 }) }),
  fc.record({ type: fc.constant('flat' as const), amountMinor: fc.integer({ min: 0, max: 100_000 }) }),
);

const setupArb = fc.record({
  rule: ruleArb,
  holdDays: fc.integer({ min: 0, max: 2 }),
  minimumPayoutMinor: fc.integer({ min: 0, max: 5000 }),
});

function asRecorded(events: AccountEvent[]): RecordedEvent<AccountEvent>[] {
  return events.map((data, i) => ({
    id: `ev-${i}`,
    streamId: 'affiliate-a1',
    revision: i,
    position: i + 1,
    type: data.type,
    schemaVersion: 1,
    data,
    metadata: {},
    recordedAt: data.occurredAt,
  }));
}

/** Only the domain's refusals are expected; anything else is a bug the property must report. */
function refused(e: unknown): boolean {
  return e instanceof Conflict || e instanceof BusinessRuleViolation || e instanceof NotFound;
}

describe('owed = earned − paid', () => {
  it('property: for any sequence of conversions, payouts, repeats and voids, the balances agree at every step and owed never goes negative', () => {
    fc.assert(
      fc.property(setupArb, fc.array(commandArb, { minLength: 1, maxLength: 80, size: 'medium' }), (setup, commands) => {
        let now = T0;
        const iso = () => new Date(now).toISOString();
        const program: ProgramState = evolveProgram(
          null,
          createProgram({
            programId: 'p1',
            now: iso(),
            settings: {
              name: 'Trail Shoes',
              currency: 'EUR',
              defaultLandingUrl: 'https://shop.example.com/',
              allowedLandingHosts: [],
              cookieWindowDays: 30,
              commission: setup.rule,
              holdDays: setup.holdDays,
              minimumPayoutMinor: setup.minimumPayoutMinor,
            },
          }),
        )!;
        const [, enrolled] = enrollAffiliate(program, { affiliateId: 'a1', name: 'Alice', email: 'alice@example.com', code: 'alice', now: iso() });
        const events: AccountEvent[] = [enrolled];
        let account: AffiliateAccount = evolveAccount(null, enrolled)!;
        const append = (e: AccountEvent) => {
          events.push(e);
          account = evolveAccount(account, e)!;
        };
        const requests: { key: string; hash: string }[] = [];

        commands.forEach((cmd, i) => {
          if ('afterHours' in cmd) now += cmd.afterHours * HOUR;
          const eventsBefore = events.length;
          try {
            if (cmd.kind === 'convert') {
              const decision = decideConversion(
                {
                  programId: 'p1',
                  storefrontId: 'sf1',
                  conversionId: `cv${i}`,
                  orderId: `o${i}`,
                  amountMinor: cmd.amountMinor,
                  currency: 'EUR',
                  customerId: null,
                  customerEmail: null,
                  occurredAt: iso(),
                  clickId: null,
                  affiliateCode: 'alice',
                  payloadHash: `h${i}`,
                },
                { program, earlier: [], click: null, clickAccount: null, codeAccount: account },
              );
              if (decision.kind !== 'record' || !decision.commission) throw new Error('an attributed conversion must earn a commission');
              append(decision.commission);
            } else if (cmd.kind === 'pay' || cmd.kind === 'repeatPay') {
              const request =
                cmd.kind === 'repeatPay' && requests.length > 0 ? requests[cmd.pick % requests.length] : { key: `key-${i}`, hash: `req-${i}` };
              const decision = recordPayout(account, {
                payoutId: `po${i}`,
                amountMinor: cmd.kind === 'pay' ? cmd.amountMinor : undefined,
                idempotencyKey: request.key,
                requestHash: request.hash,
                minimumPayoutMinor: setup.minimumPayoutMinor,
                currency: 'EUR',
                now: iso(),
              });
              if (decision.kind === 'new') {
                requests.push(request);
                append(decision.event);
              }
            } else {
              const ids = Object.keys(account.payouts);
              const payoutId = ids.length > 0 ? ids[cmd.pick % ids.length] : 'po-none';
              append(voidPayout(account, { payoutId, reason: 'bounced', now: iso() }));
            }
          } catch (e) {
            if (!refused(e)) throw e;
            // A refused command changes nothing.
            expect(events.length).toBe(eventsBefore);
          }

          // Independent sums over the events themselves.
          let earned = 0;
          let paid = 0;
          for (const e of events) {
            if (e.type === 'CommissionEarned') earned += e.amountMinor;
            if (e.type === 'PayoutRecorded') paid += e.amountMinor;
            if (e.type === 'PayoutVoided') paid -= e.amountMinor;
          }
          expect(account.earnedMinor).toBe(earned);
          expect(account.paidMinor).toBe(paid);
          expect(owedMinor(account)).toBe(earned - paid);

          const ledger = ledgerOf(asRecorded(events));
          expect(ledger.balance).toEqual({ earnedMinor: earned, paidMinor: paid, owedMinor: earned - paid });
          if (ledger.entries.length > 0) expect(ledger.entries[ledger.entries.length - 1].balance).toEqual(ledger.balance);

          expect(owedMinor(account)).toBeGreaterThanOrEqual(0);
          expect(paid).toBeGreaterThanOrEqual(0);
          expect(paid).toBeLessThanOrEqual(earned);
          const payable = payableMinor(account, iso());
          expect(payable).toBeGreaterThanOrEqual(0);
          expect(payable).toBeLessThanOrEqual(owedMinor(account));
        });
      }),
      { numRuns: 100 },
    );
  });
});
