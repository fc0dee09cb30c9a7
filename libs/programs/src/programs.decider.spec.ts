import { BusinessRuleViolation, ValidationFailed } from '@lib/platform/errors';
import { changeProgramSettings, createProgram, enrollAffiliate } from './programs.decider';
import { evolveProgram, ProgramState, settingsAt } from './program.state';
import { CommissionRule, ProgramEvent, ProgramSettings } from './programs.events';

const DAY = 86_400_000;
const T0 = '2025-03-01T00:00:00.000Z';
const at = (days: number, ms = 0) => new Date(Date.parse(T0) + days * DAY + ms).toISOString();

const settings: ProgramSettings = {
  name: 'Trail Shoes',
  currency: 'EUR',
  defaultLandingUrl: 'https://shop.example.com/welcome',
  allowedLandingHosts: ['Partner.Example.org'],
  cookieWindowDays: 30,
  commission: { type: 'percent', basisPoints: 1000 },
  holdDays: 14,
  minimumPayoutMinor: 5000,
};

const created = createProgram({ programId: 'p1', settings, now: T0 });

function given(...events: ProgramEvent[]): ProgramState {
  const state = events.reduce<ProgramState | null>(evolveProgram, null);
  if (!state) throw new Error('no program in the given events');
  return state;
}

/** Runs `fn` and returns what it threw, so the test can say which error and why. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected the command to be refused, but it was accepted');
}

describe('createProgram', () => {
  it('given valid settings, when the program is created, then ProgramCreated carries them and they are version 1', () => {
    expect(created).toEqual({
      type: 'ProgramCreated',
      programId: 'p1',
      occurredAt: T0,
      settings: { ...settings, allowedLandingHosts: ['partner.example.org'] },
    });
    expect(settingsAt(given(created), T0)).toEqual({ settings: created.settings, version: 1 });
  });

  it.each<[string, CommissionRule, string]>([
    ['0 basis points', { type: 'percent', basisPoints: 0 }, 'commission.basisPoints'],
    ['more than 100 %', { type: 'percent', basisPoints: 10_001 }, 'commission.basisPoints'],
    ['a fraction of a basis point', { type: 'percent', basisPoints: 12.5 }, 'commission.basisPoints'],
    ['a negative flat amount', { type: 'flat', amountMinor: -1 }, 'commission.amountMinor'],
    ['a fractional flat amount', { type: 'flat', amountMinor: 1.5 }, 'commission.amountMinor'],
    ['an unknown rule type', { type: 'tiered' } as unknown as CommissionRule, 'commission.type'],
  ])('given a commission rule with %s, when the program is created, then ValidationFailed names the rule field', (_what, commission, field) => {
    const error = thrownBy(() => createProgram({ programId: 'p1', settings: { ...settings, commission }, now: T0 }));
    expect(error).toBeInstanceOf(ValidationFailed);
    expect((error as ValidationFailed).details.map((d) => d.field)).toEqual([field]);
  });
});

describe('changeProgramSettings', () => {
  it('given a new program, when settings change, then the change is version 2, and the next one version 3', () => {
    const v2 = changeProgramSettings(given(created), { changes: { cookieWindowDays: 7 }, now: at(1) });
    expect(v2).toEqual({
      type: 'ProgramSettingsChanged',
      programId: 'p1',
      occurredAt: at(1),
      effectiveAt: at(1),
      version: 2,
      changes: { cookieWindowDays: 7 },
    });
    const v3 = changeProgramSettings(given(created, v2), { changes: { holdDays: 0 }, now: at(2) });
    expect(v3.version).toBe(3);
  });

  it('given a change without effectiveAt, when it is made, then it applies from now on', () => {
    const v2 = changeProgramSettings(given(created), { changes: { cookieWindowDays: 7 }, now: at(1) });
    const state = given(created, v2);
    expect(settingsAt(state, at(1, -1))).toEqual({ settings: created.settings, version: 1 });
    expect(settingsAt(state, at(1))).toEqual({ settings: { ...created.settings, cookieWindowDays: 7 }, version: 2 });
  });

  it('given a change with a future effectiveAt, when read before it, then the old settings apply; from effectiveAt on, the new ones', () => {
    const v2 = changeProgramSettings(given(created), {
      changes: { commission: { type: 'percent', basisPoints: 1500 } },
      effectiveAt: at(10),
      now: at(1),
    });
    const state = given(created, v2);
    expect(settingsAt(state, at(5))).toEqual({ settings: created.settings, version: 1 });
    expect(settingsAt(state, at(10, -1)).version).toBe(1);
    expect(settingsAt(state, at(10))).toEqual({ settings: { ...created.settings, commission: { type: 'percent', basisPoints: 1500 } }, version: 2 });
    expect(settingsAt(state, at(400)).settings.commission).toEqual({ type: 'percent', basisPoints: 1500 });
  });

  it('given three versions, when settingsAt is asked for several times, then each time gets the version in effect then', () => {
    const v2 = changeProgramSettings(given(created), { changes: { cookieWindowDays: 7 }, effectiveAt: at(10), now: at(1) });
    const v3 = changeProgramSettings(given(created, v2), { changes: { holdDays: 0 }, effectiveAt: at(20), now: at(2) });
    const state = given(created, v2, v3);
    const view = (t: string) => {
      const { settings: s, version } = settingsAt(state, t);
      return { version, cookieWindowDays: s.cookieWindowDays, holdDays: s.holdDays };
    };
    expect(view(T0)).toEqual({ version: 1, cookieWindowDays: 30, holdDays: 14 });
    expect(view(at(15))).toEqual({ version: 2, cookieWindowDays: 7, holdDays: 14 });
    expect(view(at(25))).toEqual({ version: 3, cookieWindowDays: 7, holdDays: 0 });
  });

  it('given a change scheduled for later, when a newer change asks to take effect before it, then BusinessRuleViolation settings_change_scheduled (one version number names one set of settings)', () => {
    const v2 = changeProgramSettings(given(created), {
      changes: { commission: { type: 'percent', basisPoints: 2000 } },
      effectiveAt: at(30),
      now: at(1),
    });
    const error = thrownBy(() =>
      changeProgramSettings(given(created, v2), { changes: { commission: { type: 'percent', basisPoints: 500 } }, now: at(2) }),
    );
    expect(error).toBeInstanceOf(BusinessRuleViolation);
    expect(error).toMatchObject({ status: 422, code: 'settings_change_scheduled' });
    expect((error as BusinessRuleViolation).details.map((d) => d.field)).toEqual(['effectiveAt']);
  });

  it('given a change scheduled for later, when a newer change takes effect after it, then versions in effect rise with time and each names one set of settings', () => {
    const v2 = changeProgramSettings(given(created), { changes: { commission: { type: 'percent', basisPoints: 2000 } }, effectiveAt: at(30), now: at(1) });
    const v3 = changeProgramSettings(given(created, v2), { changes: { commission: { type: 'percent', basisPoints: 500 } }, effectiveAt: at(35), now: at(2) });
    const state = given(created, v2, v3);
    const seen = [at(10), at(31), at(40)].map((t) => settingsAt(state, t));
    expect(seen.map((s) => s.version)).toEqual([1, 2, 3]);
    expect(seen.map((s) => s.settings.commission)).toEqual([
      { type: 'percent', basisPoints: 1000 },
      { type: 'percent', basisPoints: 2000 },
      { type: 'percent', basisPoints: 500 },
    ]);
  });

  it('given a program in EUR, when the currency is changed, then BusinessRuleViolation currency_locked', () => {
    const error = thrownBy(() =>
      changeProgramSettings(given(created), { changes: { currency: 'USD', cookieWindowDays: 7 }, now: at(1) }),
    );
    expect(error).toBeInstanceOf(BusinessRuleViolation);
    expect(error).toMatchObject({ status: 422, code: 'currency_locked' });
    expect((error as BusinessRuleViolation).details.map((d) => d.field)).toEqual(['currency']);
  });

  it('given a program in EUR, when the same currency is sent with another change, then only the other change is recorded', () => {
    const event = changeProgramSettings(given(created), { changes: { currency: 'EUR', cookieWindowDays: 7 }, now: at(1) });
    expect(event.changes).toEqual({ cookieWindowDays: 7 });
  });

  it.each<[string, Record<string, unknown>]>([
    ['no field at all', {}],
    ['only undefined fields', { cookieWindowDays: undefined, holdDays: undefined }],
    ['only the unchanged currency', { currency: 'EUR' }],
  ])('given %s, when settings change, then ValidationFailed (the request changes nothing)', (_what, changes) => {
    const error = thrownBy(() => changeProgramSettings(given(created), { changes, now: at(1) }));
    expect(error).toBeInstanceOf(ValidationFailed);
  });

  it('given an effectiveAt an hour ago, when settings change, then ValidationFailed names effectiveAt', () => {
    const error = thrownBy(() =>
      changeProgramSettings(given(created), { changes: { cookieWindowDays: 7 }, effectiveAt: at(1, -3_600_000), now: at(1) }),
    );
    expect(error).toBeInstanceOf(ValidationFailed);
    expect((error as ValidationFailed).details.map((d) => d.field)).toEqual(['effectiveAt']);
  });

  it.each<[string, CommissionRule]>([
    ['0 basis points', { type: 'percent', basisPoints: 0 }],
    ['a negative flat amount', { type: 'flat', amountMinor: -100 }],
  ])('given a new commission rule with %s, when settings change, then ValidationFailed', (_what, commission) => {
    expect(thrownBy(() => changeProgramSettings(given(created), { changes: { commission }, now: at(1) }))).toBeInstanceOf(ValidationFailed);
  });

  it('given new allowed hosts in mixed case, when settings change, then they are recorded in lower case', () => {
    const event = changeProgramSettings(given(created), { changes: { allowedLandingHosts: ['Blog.Example.NET', 'blog.example.net'] }, now: at(1) });
    expect(event.changes).toEqual({ allowedLandingHosts: ['blog.example.net'] });
  });
});

describe('enrollAffiliate', () => {
  const enrol = (state: ProgramState, landingUrl?: string, commission?: CommissionRule) =>
    enrollAffiliate(state, { affiliateId: 'a1', name: 'Alice', email: 'Alice@Example.com', code: 'alice', landingUrl, commission, now: at(1) });

  it('given a program, when an affiliate enrols, then the code is claimed and the affiliate enrolled with a lower-case email', () => {
    expect(enrol(given(created))).toEqual([
      { type: 'AffiliateCodeClaimed', programId: 'p1', affiliateId: 'a1', code: 'alice', occurredAt: at(1) },
      {
        type: 'AffiliateEnrolled',
        programId: 'p1',
        affiliateId: 'a1',
        name: 'Alice',
        email: 'alice@example.com',
        code: 'alice',
        landingUrl: null,
        commission: null,
        occurredAt: at(1),
      },
    ]);
  });

  it.each([
    ['another site', 'https://evil.example.net/shoes'],
    ['a subdomain of the landing host', 'https://evil.shop.example.com/'],
    ['a host that only starts with the landing host', 'https://shop.example.com.evil.net/'],
    ['something that is not a URL', 'not a url'],
  ])('given a landing URL on %s, when the affiliate enrols, then BusinessRuleViolation landing_host_not_allowed', (_what, landingUrl) => {
    const error = thrownBy(() => enrol(given(created), landingUrl));
    expect(error).toBeInstanceOf(BusinessRuleViolation);
    expect(error).toMatchObject({ code: 'landing_host_not_allowed' });
    expect((error as BusinessRuleViolation).details.map((d) => d.field)).toEqual(['landingUrl']);
  });

  it.each([
    ['the default landing host', 'https://shop.example.com/trail'],
    ['the default landing host in upper case', 'https://SHOP.EXAMPLE.COM/trail'],
    ['an allowed host (listed in mixed case)', 'https://partner.example.org/review'],
    ['an allowed host in upper case', 'https://PARTNER.EXAMPLE.ORG/review'],
  ])('given a landing URL on %s, when the affiliate enrols, then it is accepted and recorded', (_what, landingUrl) => {
    const [, enrolled] = enrol(given(created), landingUrl);
    expect(enrolled.landingUrl).toBe(landingUrl);
  });

  it('given an allowed host added by a settings change, when an affiliate enrols after it, then the host is accepted', () => {
    const v2 = changeProgramSettings(given(created), { changes: { allowedLandingHosts: ['blog.example.net'] }, effectiveAt: at(1), now: at(0.5) });
    const [, enrolled] = enrol(given(created, v2), 'https://blog.example.net/post');
    expect(enrolled.landingUrl).toBe('https://blog.example.net/post');
  });

  it('given an allowed host added by a change that is not yet in effect, when an affiliate enrols, then the host is refused', () => {
    const v2 = changeProgramSettings(given(created), { changes: { allowedLandingHosts: ['blog.example.net'] }, effectiveAt: at(5), now: at(0.5) });
    expect(thrownBy(() => enrol(given(created, v2), 'https://blog.example.net/post'))).toMatchObject({ code: 'landing_host_not_allowed' });
  });

  it('given a valid commission override, when the affiliate enrols, then it is recorded', () => {
    const [, enrolled] = enrol(given(created), undefined, { type: 'flat', amountMinor: 700 });
    expect(enrolled.commission).toEqual({ type: 'flat', amountMinor: 700 });
  });

  it.each<[string, CommissionRule]>([
    ['more than 100 %', { type: 'percent', basisPoints: 20_000 }],
    ['a fractional flat amount', { type: 'flat', amountMinor: 0.5 }],
  ])('given a commission override with %s, when the affiliate enrols, then ValidationFailed', (_what, commission) => {
    expect(thrownBy(() => enrol(given(created), undefined, commission))).toBeInstanceOf(ValidationFailed);
  });
});
