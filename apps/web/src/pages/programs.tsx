import { FormEvent, useState } from 'react';
import { Link, useLocation } from 'wouter';
import { useApi } from '../app';
import type { CommissionRule } from '../api/types';
import { Empty, ErrorBox, Field, Loading, useLoad } from '../components/common';
import { describeRule, parseMoney, parsePercent } from '../lib/format';
import { describeError } from '../lib/messages';

export function ProgramsPage() {
  const api = useApi();
  const programs = useLoad(() => api.programs(), [api]);
  return (
    <>
      <h1>Programs</h1>
      {programs.loading && <Loading what="programs" />}
      {programs.error != null && <ErrorBox error={programs.error} retry={programs.reload} />}
      {programs.data &&
        (programs.data.items.length === 0 ? (
          <Empty>No programs yet: create the first one with the form below.</Empty>
        ) : (
          <ul className="cards">
            {programs.data.items.map((p) => (
              <li key={p.id}>
                <Link href={`/programs/${p.id}`}>{p.name}</Link>
                <span className="muted">
                  {' '}
                  {p.currency} · {describeRule(p.commission, p.currency)} · {p.cookieWindowDays}-day cookie window
                </span>
              </li>
            ))}
          </ul>
        ))}
      <CreateProgramForm />
    </>
  );
}

function CreateProgramForm() {
  const api = useApi();
  const [, navigate] = useLocation();
  const [f, setF] = useState({ name: '', currency: 'EUR', landing: '', hosts: '', cookie: '30', ruleType: 'percent', rule: '10', hold: '0', minimum: '0' });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const currency = f.currency.trim().toUpperCase();
    let commission: CommissionRule;
    let minimum: number | null;
    try {
      minimum = parseMoney(f.minimum, currency);
      if (f.ruleType === 'percent') {
        const bp = parsePercent(f.rule);
        if (bp === null) return setError('Enter the commission as a percentage, e.g. 10 or 12.5.');
        commission = { type: 'percent', basisPoints: bp };
      } else {
        const amount = parseMoney(f.rule, currency);
        if (amount === null) return setError(`Enter the flat commission as an amount in ${currency}, e.g. 5.00.`);
        commission = { type: 'flat', amountMinor: amount };
      }
    } catch {
      return setError(`"${f.currency}" is not an ISO-4217 currency code (e.g. EUR, USD, JPY).`);
    }
    if (minimum === null) return setError(`Enter the minimum payout as an amount in ${currency}, e.g. 50.00.`);
    setBusy(true);
    setError(null);
    try {
      const program = await api.createProgram({
        name: f.name.trim(),
        currency,
        defaultLandingUrl: f.landing.trim(),
        allowedLandingHosts: splitHosts(f.hosts),
        cookieWindowDays: Number(f.cookie),
        commission,
        holdDays: Number(f.hold),
        minimumPayoutMinor: minimum,
      });
      navigate(`/programs/${program.id}`);
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="create-program">
      <h2 id="create-program">Create a program</h2>
      <form onSubmit={submit} className="grid-form">
        <Field label="Program name">
          <input value={f.name} onChange={set('name')} required maxLength={200} />
        </Field>
        <Field label="Currency" hint="ISO-4217, one per program; it cannot change later">
          <input value={f.currency} onChange={set('currency')} required pattern="[A-Za-z]{3}" maxLength={3} />
        </Field>
        <Field label="Default landing page" hint="Where affiliate links send visitors">
          <input type="url" value={f.landing} onChange={set('landing')} required placeholder="https://shop.example.com/" />
        </Field>
        <Field label="Other allowed landing hosts" hint="Comma-separated, optional">
          <input value={f.hosts} onChange={set('hosts')} placeholder="blog.example.com" />
        </Field>
        <Field label="Cookie window (days)">
          <input type="number" min={1} max={365} value={f.cookie} onChange={set('cookie')} required />
        </Field>
        <Field label="Commission type">
          <select value={f.ruleType} onChange={set('ruleType')}>
            <option value="percent">Percent of each order</option>
            <option value="flat">Flat amount per conversion</option>
          </select>
        </Field>
        <Field label={f.ruleType === 'percent' ? 'Commission (%)' : 'Commission per conversion'}>
          <input value={f.rule} onChange={set('rule')} required inputMode="decimal" />
        </Field>
        <Field label="Hold (days)" hint="Days before a commission becomes payable">
          <input type="number" min={0} max={365} value={f.hold} onChange={set('hold')} required />
        </Field>
        <Field label="Minimum payout" hint="In the program's currency">
          <input value={f.minimum} onChange={set('minimum')} required inputMode="decimal" />
        </Field>
        <div className="form-actions">
          <button type="submit" disabled={busy}>
            {busy ? 'Creating…' : 'Create program'}
          </button>
        </div>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </section>
  );
}

export function splitHosts(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((h) => h.trim())
    .filter(Boolean);
}
