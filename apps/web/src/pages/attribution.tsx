import { FormEvent, useState } from 'react';
import { useApi } from '../app';
import type { AttributionAnswer, Program } from '../api/types';
import { Empty, ErrorBox, Field, Loading, Money, Time, useLoad } from '../components/common';
import { describeError } from '../lib/messages';

const REASONS: Record<string, string> = {
  attributed: 'Attributed',
  no_click: 'No click or code',
  click_not_found: 'Unknown click',
  click_expired: 'Click expired',
  unknown_code: 'Unknown affiliate code',
  affiliate_suspended: 'Affiliate suspended',
  self_referral: 'Self-referral',
  duplicate_order: 'Duplicate order',
  not_received: 'Not received',
};

export function AttributionPage({ program }: { program: Program }) {
  return (
    <>
      <h1>Attribution gaps</h1>
      <Lookup program={program} />
      <Unattributed program={program} />
    </>
  );
}

function Lookup({ program }: { program: Program }) {
  const api = useApi();
  const [kind, setKind] = useState<'orderId' | 'clickId'>('orderId');
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [answer, setAnswer] = useState<AttributionAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setAnswer(null);
    try {
      setAnswer(await api.attribution(program.id, { [kind]: value.trim() }));
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="lookup">
      <h2 id="lookup">Why was (or wasn't) a sale attributed?</h2>
      <form onSubmit={submit} className="inline-form">
        <Field label="Look up by">
          <select value={kind} onChange={(e) => setKind(e.target.value as typeof kind)}>
            <option value="orderId">Order id</option>
            <option value="clickId">Click id (aff_click)</option>
          </select>
        </Field>
        <Field label={kind === 'orderId' ? 'Order id' : 'Click id'}>
          <input value={value} onChange={(e) => setValue(e.target.value)} required />
        </Field>
        <button type="submit" disabled={busy}>
          {busy ? 'Looking up…' : 'Look up'}
        </button>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {answer && (
        <div className={`answer ${answer.attributed ? 'ok' : 'gap'}`} role="status" data-testid="attribution-answer">
          <p>
            <strong>{answer.attributed ? 'Attributed' : 'Not attributed'}</strong> · reason: <span className="badge">{REASONS[answer.reason] ?? answer.reason}</span>
          </p>
          <p data-testid="attribution-explanation">{answer.explanation}</p>
          {answer.conversion && (
            <p className="muted">
              Order {answer.conversion.orderId}, <Money minor={answer.conversion.amountMinor} currency={answer.conversion.currency} />, at <Time iso={answer.conversion.occurredAt} />
            </p>
          )}
          {answer.click && (
            <p className="muted">
              Click at <Time iso={answer.click.occurredAt} />, window until <Time iso={answer.click.expiresAt} />
            </p>
          )}
        </div>
      )}
    </section>
  );
}

function Unattributed({ program }: { program: Program }) {
  const api = useApi();
  const list = useLoad(() => api.unattributed(program.id), [api, program.id]);
  return (
    <section aria-labelledby="unattributed">
      <h2 id="unattributed">Unattributed conversions</h2>
      {list.loading && <Loading what="unattributed conversions" />}
      {list.error != null && <ErrorBox error={list.error} retry={list.reload} />}
      {list.data && list.data.items.length === 0 && <Empty>Every conversion so far was attributed to an affiliate: nothing to investigate.</Empty>}
      {list.data && list.data.items.length > 0 && (
        <div className="table-wrap">
          <table aria-label="Unattributed conversions">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Order</th>
                <th scope="col" className="num">Amount</th>
                <th scope="col">Reason</th>
                <th scope="col">Explanation</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((a) => (
                <tr key={a.conversion?.conversionId ?? a.explanation}>
                  <td>
                    <Time iso={a.conversion?.occurredAt} />
                  </td>
                  <td>{a.conversion?.orderId}</td>
                  <td className="num">{a.conversion && <Money minor={a.conversion.amountMinor} currency={a.conversion.currency} />}</td>
                  <td>
                    <span className="badge">{REASONS[a.reason] ?? a.reason}</span>
                  </td>
                  <td>{a.explanation}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
