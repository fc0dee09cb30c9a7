import { FormEvent, useState } from 'react';
import { useApi } from '../app';
import type { CommissionRule, Program, ProgramInput, Storefront } from '../api/types';
import { Empty, Field, Time } from '../components/common';
import { formatBasisPoints, fractionDigits, minorToDecimalString, parseMoney, parsePercent } from '../lib/format';
import { describeError } from '../lib/messages';
import { splitHosts } from './programs';

export function SettingsPage({ program, onChanged }: { program: Program; onChanged: () => void }) {
  return (
    <>
      <h1>Settings</h1>
      <SettingsForm key={program.settingsVersion} program={program} onChanged={onChanged} />
      <Storefronts program={program} onChanged={onChanged} />
    </>
  );
}

function SettingsForm({ program, onChanged }: { program: Program; onChanged: () => void }) {
  const api = useApi();
  const digits = fractionDigits(program.currency);
  const [f, setF] = useState({
    cookie: String(program.cookieWindowDays),
    ruleType: program.commission.type as string,
    rule: program.commission.type === 'percent' ? formatBasisPoints(program.commission.basisPoints).replace('%', '') : minorToDecimalString(program.commission.amountMinor, digits),
    hold: String(program.holdDays),
    minimum: minorToDecimalString(program.minimumPayoutMinor, digits),
    hosts: program.allowedLandingHosts.join(', '),
  });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    let commission: CommissionRule;
    if (f.ruleType === 'percent') {
      const bp = parsePercent(f.rule);
      if (bp === null) return setError('Enter the commission as a percentage, e.g. 10 or 12.5.');
      commission = { type: 'percent', basisPoints: bp };
    } else {
      const amount = parseMoney(f.rule, program.currency);
      if (amount === null) return setError(`Enter the flat commission as an amount in ${program.currency}.`);
      commission = { type: 'flat', amountMinor: amount };
    }
    const minimum = parseMoney(f.minimum, program.currency);
    if (minimum === null) return setError(`Enter the minimum payout as an amount in ${program.currency}.`);
    const next: Partial<ProgramInput> = {
      cookieWindowDays: Number(f.cookie),
      commission,
      holdDays: Number(f.hold),
      minimumPayoutMinor: minimum,
      allowedLandingHosts: splitHosts(f.hosts),
    };
    // Only what changed: each change is a new settings version in the program's history.
    const changes = Object.fromEntries(
      Object.entries(next).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify((program as unknown as Record<string, unknown>)[k])),
    ) as Partial<ProgramInput>;
    if (Object.keys(changes).length === 0) return setError('Nothing changed.');
    setBusy(true);
    setError(null);
    try {
      await api.updateProgram(program.id, changes);
      setSaved(true);
      onChanged();
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="program-settings">
      <h2 id="program-settings">Program settings</h2>
      <p className="muted">
        Version {program.settingsVersion}. A change applies from now on; commissions already earned never change. Currency: {program.currency} (fixed).
      </p>
      <form onSubmit={submit} className="grid-form">
        <Field label="Cookie window (days)">
          <input type="number" min={1} max={365} value={f.cookie} onChange={set('cookie')} required />
        </Field>
        <Field label="Commission type">
          <select value={f.ruleType} onChange={set('ruleType')}>
            <option value="percent">Percent of each order</option>
            <option value="flat">Flat amount per conversion</option>
          </select>
        </Field>
        <Field label={f.ruleType === 'percent' ? 'Commission (%)' : `Commission per conversion (${program.currency})`}>
          <input value={f.rule} onChange={set('rule')} required inputMode="decimal" />
        </Field>
        <Field label="Hold (days)">
          <input type="number" min={0} max={365} value={f.hold} onChange={set('hold')} required />
        </Field>
        <Field label={`Minimum payout (${program.currency})`}>
          <input value={f.minimum} onChange={set('minimum')} required inputMode="decimal" />
        </Field>
        <Field label="Allowed landing hosts" hint="Comma-separated; besides the default landing page's host">
          <input value={f.hosts} onChange={set('hosts')} />
        </Field>
        <div className="form-actions">
          <button type="submit" disabled={busy}>
            {busy ? 'Saving…' : 'Save settings'}
          </button>
        </div>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        {saved && !error && (
          <p className="notice" role="status">
            Saved as a new settings version.
          </p>
        )}
      </form>
    </section>
  );
}

function Storefronts({ program, onChanged }: { program: Program; onChanged: () => void }) {
  const api = useApi();
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<Storefront | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setCreated(await api.createStorefront(program.id, name.trim()));
      setName('');
      onChanged();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="storefronts">
      <h2 id="storefronts">Storefronts</h2>
      {created && (
        <div className="notice warning" role="alert">
          <p>
            API key of <strong>{created.name}</strong>: <code data-testid="storefront-key">{created.apiKey}</code>
          </p>
          <p>Copy it now: it will not be shown again (only its hash is stored). The storefront sends it as the X-Api-Key header.</p>
        </div>
      )}
      {program.storefronts.length === 0 ? (
        <Empty>No storefronts yet: register one to get the API key its server sends conversions with.</Empty>
      ) : (
        <ul>
          {program.storefronts.map((s) => (
            <li key={s.id}>
              {s.name} <span className="muted">(registered <Time iso={s.createdAt} />)</span>
            </li>
          ))}
        </ul>
      )}
      <form onSubmit={submit} className="inline-form">
        <Field label="Storefront name">
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />
        </Field>
        <button type="submit" disabled={busy}>
          Register storefront
        </button>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
