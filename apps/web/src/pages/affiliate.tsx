import { FormEvent, useMemo, useState } from 'react';
import { Link } from 'wouter';
import { useApi } from '../app';
import type { AffiliateDetail, CommissionRule, Ledger, LedgerEntry, Payout, Program } from '../api/types';
import { TimeChart } from '../components/lazy-chart';
import { CopyButton, Empty, ErrorBox, Field, Loading, Money, Time, useLoad } from '../components/common';
import { describeRule, formatCount, formatMoney, formatRate, minorToDecimalString, fractionDigits, parseMoney, parsePercent } from '../lib/format';
import { newIdempotencyKey } from '../lib/ids';
import { balanceSteps } from '../lib/balance';
import { describeError, describePayoutError } from '../lib/messages';
import { InsightBadges } from '../components/insights';

export function AffiliatePage({ program, affiliateId }: { program: Program; affiliateId: string }) {
  const api = useApi();
  const data = useLoad(
    () => Promise.all([api.affiliate(program.id, affiliateId), api.ledger(program.id, affiliateId)]).then(([stats, ledger]) => ({ stats, ledger })),
    [api, program.id, affiliateId],
  );
  const [lastPayout, setLastPayout] = useState<Payout | null>(null);
  if (data.loading && !data.data) return <Loading what="the affiliate" />;
  if (data.error != null || !data.data) return <ErrorBox error={data.error} retry={data.reload} />;
  const { stats: a, ledger } = data.data;
  const currency = program.currency;
  return (
    <>
      <p className="crumbs">
        <Link href="/affiliates">Affiliates</Link> / {a.name}
      </p>
      <h1>
        {a.name} <span className={`status ${a.status}`}>{a.status}</span>
      </h1>
      <p>
        Code <code>{a.code}</code> · link <a href={a.link}>{a.link}</a> <CopyButton text={a.link} label="Copy the link" />
      </p>
      <dl className="metrics">
        <Metric id="clicks" label="Clicks">{formatCount(a.clicks)}</Metric>
        <Metric id="unique-clicks" label="Unique clicks">{formatCount(a.uniqueClicks)}</Metric>
        <Metric id="conversions" label="Conversions">{formatCount(a.conversions)}</Metric>
        <Metric id="conversion-rate" label="Conversion rate">{formatRate(a.conversionRate)}</Metric>
        <Metric id="earned" label="Earned"><Money minor={a.commissionEarnedMinor} currency={currency} /></Metric>
        <Metric id="paid" label="Paid"><Money minor={a.commissionPaidMinor} currency={currency} /></Metric>
        <Metric id="owed" label="Owed"><Money minor={a.commissionOwedMinor} currency={currency} /></Metric>
        <Metric id="payable" label="Payable now"><Money minor={a.commissionPayableMinor} currency={currency} /></Metric>
      </dl>
      <p className="muted">
        Last click: <TimeOrNever iso={a.lastClickAt} /> · last conversion: <TimeOrNever iso={a.lastConversionAt} />
      </p>
      {a.insights.length > 0 && (
        <section aria-labelledby="insights">
          <h2 id="insights">Insights</h2>
          <ul>
            {a.insights.map((i) => (
              <li key={i.code}>
                <InsightBadges insights={[i]} /> {i.message}
              </li>
            ))}
          </ul>
        </section>
      )}
      {a.clicks === 0 && <Empty>No clicks yet: share this link with {a.name}: {a.link}</Empty>}
      <div className="columns">
        <MarkPaid
          key={`${a.commissionPaidMinor}:${a.commissionPayableMinor}`}
          program={program}
          stats={a}
          lastPayout={lastPayout}
          onPaid={(payout) => {
            setLastPayout(payout);
            data.reload();
          }}
        />
        <AffiliateSettings program={program} stats={a} onChanged={data.reload} />
      </div>
      <BalanceChart ledger={ledger} currency={currency} />
      <LedgerTable program={program} ledger={ledger} onChanged={data.reload} />
    </>
  );
}

function Metric({ id, label, children }: { id: string; label: string; children: React.ReactNode }) {
  return (
    <div data-testid={`metric-${id}`}>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function TimeOrNever({ iso }: { iso: string | null }) {
  return <Time iso={iso} />;
}

/**
 * One Idempotency-Key per form instance: a double click, or a retry after a lost answer, repeats the same
 * request and the API pays once. The form is remounted (a new key) after the balance changed.
 */
function MarkPaid({ program, stats, lastPayout, onPaid }: { program: Program; stats: AffiliateDetail; lastPayout: Payout | null; onPaid: (payout: Payout) => void }) {
  const api = useApi();
  const currency = program.currency;
  const [key] = useState(newIdempotencyKey);
  const [amount, setAmount] = useState(() => minorToDecimalString(stats.commissionPayableMinor, fractionDigits(currency)));
  const [reference, setReference] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const minor = parseMoney(amount, currency);
    if (minor === null || minor <= 0) return setError(`Enter an amount in ${currency}, e.g. ${minorToDecimalString(1050, fractionDigits(currency))}.`);
    setBusy(true);
    setError(null);
    try {
      onPaid(await api.pay(program.id, stats.id, { amountMinor: minor, ...(reference.trim() ? { reference: reference.trim() } : {}) }, key));
    } catch (err) {
      setError(describePayoutError(err, { currency, minimumPayoutMinor: program.minimumPayoutMinor, payableMinor: stats.commissionPayableMinor }));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="mark-paid" className="panel">
      <h2 id="mark-paid">Mark paid</h2>
      <p className="muted">
        Payable now: {formatMoney(stats.commissionPayableMinor, currency)} · minimum payout {formatMoney(program.minimumPayoutMinor, currency)}
      </p>
      <form onSubmit={submit} aria-labelledby="mark-paid">
        <Field label={`Amount (${currency})`} hint="Defaults to everything payable now">
          <input value={amount} onChange={(e) => setAmount(e.target.value)} inputMode="decimal" required />
        </Field>
        <Field label="Reference (optional)" hint="e.g. the bank transfer reference">
          <input value={reference} onChange={(e) => setReference(e.target.value)} maxLength={200} />
        </Field>
        <button type="submit" disabled={busy}>
          {busy ? 'Recording…' : 'Mark paid'}
        </button>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {lastPayout && !error && (
        <p className="notice" role="status">
          Recorded a payout of {formatMoney(lastPayout.amountMinor, currency)} (payout {lastPayout.payoutId}
          {lastPayout.reference ? `, ${lastPayout.reference}` : ''}).
        </p>
      )}
    </section>
  );
}

function AffiliateSettings({ program, stats, onChanged }: { program: Program; stats: AffiliateDetail; onChanged: () => void }) {
  const api = useApi();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [ruleType, setRuleType] = useState<'program' | 'percent' | 'flat'>('program');
  const [ruleValue, setRuleValue] = useState('');
  const run = async (change: { status?: 'active' | 'suspended'; commission?: CommissionRule | null }) => {
    setBusy(true);
    setError(null);
    try {
      await api.updateAffiliate(program.id, stats.id, change);
      onChanged();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  const saveRule = (e: FormEvent) => {
    e.preventDefault();
    if (ruleType === 'program') return run({ commission: null });
    if (ruleType === 'percent') {
      const bp = parsePercent(ruleValue);
      if (bp === null || bp < 1 || bp > 10000) return setError('Enter a percentage between 0.01 and 100, e.g. 12.5.');
      return run({ commission: { type: 'percent', basisPoints: bp } });
    }
    const minor = parseMoney(ruleValue, program.currency);
    if (minor === null) return setError(`Enter an amount in ${program.currency}, e.g. 5.00.`);
    return run({ commission: { type: 'flat', amountMinor: minor } });
  };
  const override = stats.commission;
  return (
    <section aria-labelledby="affiliate-settings" className="panel">
      <h2 id="affiliate-settings">Status and commission</h2>
      <p>
        {stats.status === 'active' ? 'Active: clicks and sales count.' : 'Suspended: the link answers 404 and sales earn nothing.'}{' '}
        <button type="button" disabled={busy} onClick={() => run({ status: stats.status === 'active' ? 'suspended' : 'active' })}>
          {stats.status === 'active' ? 'Suspend' : 'Reactivate'}
        </button>
      </p>
      <p>
        Commission:{' '}
        {override ? `${describeRule(override, program.currency)} (override)` : `${describeRule(program.commission, program.currency)} (the program's rule)`}
      </p>
      <form onSubmit={saveRule} className="inline-form">
        <Field label="Commission override">
          <select value={ruleType} onChange={(e) => setRuleType(e.target.value as typeof ruleType)}>
            <option value="program">None: use the program's rule</option>
            <option value="percent">Percent of each order</option>
            <option value="flat">Flat amount per conversion</option>
          </select>
        </Field>
        {ruleType !== 'program' && (
          <Field label={ruleType === 'percent' ? 'Percent' : `Amount (${program.currency})`}>
            <input value={ruleValue} onChange={(e) => setRuleValue(e.target.value)} inputMode="decimal" required />
          </Field>
        )}
        <button type="submit" disabled={busy}>
          Save commission
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

function BalanceChart({ ledger, currency }: { ledger: Ledger; currency: string }) {
  const chart = useMemo(() => {
    if (ledger.entries.length === 0) return null;
    const steps = balanceSteps(ledger.entries);
    return {
      times: steps.times,
      series: [
        { label: 'Earned', color: '#2563eb', values: steps.earned, money: true },
        { label: 'Paid', color: '#16a34a', values: steps.paid, money: true },
        { label: 'Owed', color: '#b45309', values: steps.owed, money: true },
      ],
    };
  }, [ledger]);
  return (
    <section aria-labelledby="balance-chart">
      <h2 id="balance-chart">Balance over time</h2>
      {chart ? (
        <TimeChart times={chart.times} series={chart.series} currency={currency} title="Earned, paid and owed over time, from the ledger" stepped />
      ) : (
        <Empty>No commission yet: the chart starts with the first attributed sale.</Empty>
      )}
    </section>
  );
}

const TYPE_LABELS: Record<string, string> = { CommissionEarned: 'Commission earned', PayoutRecorded: 'Payout', PayoutVoided: 'Payout voided' };

function LedgerTable({ program, ledger, onChanged }: { program: Program; ledger: Ledger; onChanged: () => void }) {
  const voided = new Set(ledger.entries.filter((e) => e.type === 'PayoutVoided').map((e) => e.payoutId));
  const currency = program.currency;
  return (
    <section aria-labelledby="ledger">
      <h2 id="ledger">Ledger</h2>
      {ledger.entries.length === 0 ? (
        <Empty>The ledger is empty: commissions appear here as attributed sales arrive, and payouts once you mark them paid.</Empty>
      ) : (
        <div className="table-wrap">
          <table aria-label="Ledger">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Entry</th>
                <th scope="col">Order / payout</th>
                <th scope="col" className="num">Amount</th>
                <th scope="col" className="num">Earned</th>
                <th scope="col" className="num">Paid</th>
                <th scope="col" className="num">Owed</th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {ledger.entries.map((e) => (
                <tr key={e.eventId}>
                  <td>
                    <Time iso={e.occurredAt} />
                  </td>
                  <td>{TYPE_LABELS[e.type] ?? e.type}</td>
                  <td>{describeEntry(e)}</td>
                  <td className="num">
                    <Money minor={e.amountMinor} currency={currency} />
                  </td>
                  <td className="num">
                    <Money minor={e.balance.earnedMinor} currency={currency} />
                  </td>
                  <td className="num">
                    <Money minor={e.balance.paidMinor} currency={currency} />
                  </td>
                  <td className="num">
                    <Money minor={e.balance.owedMinor} currency={currency} />
                  </td>
                  <td>{e.type === 'PayoutRecorded' && e.payoutId && !voided.has(e.payoutId) && <VoidPayout programId={program.id} payoutId={e.payoutId} onVoided={onChanged} />}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function describeEntry(e: LedgerEntry): string {
  if (e.type === 'CommissionEarned') return `order ${e.orderId ?? '?'}${e.ruleVersion ? ` (rule v${e.ruleVersion})` : ''}`;
  if (e.type === 'PayoutRecorded') return `payout ${e.payoutId}${e.reference ? ` · ${e.reference}` : ''}`;
  if (e.type === 'PayoutVoided') return `payout ${e.payoutId} · ${e.reason ?? ''}`;
  return '';
}

function VoidPayout({ programId, payoutId, onVoided }: { programId: string; payoutId: string; onVoided: () => void }) {
  const api = useApi();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!open)
    return (
      <button type="button" className="small" onClick={() => setOpen(true)}>
        Void…
      </button>
    );
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.voidPayout(programId, payoutId, reason.trim());
      onVoided();
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} className="inline-form">
      <Field label="Reason for voiding">
        <input value={reason} onChange={(e) => setReason(e.target.value)} required maxLength={500} autoFocus />
      </Field>
      <button type="submit" disabled={busy}>
        Void payout
      </button>
      <button type="button" onClick={() => setOpen(false)}>
        Cancel
      </button>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
