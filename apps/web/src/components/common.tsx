import { cloneElement, ReactElement, ReactNode, useCallback, useEffect, useId, useRef, useState } from 'react';
import { describeError } from '../lib/messages';
import { formatMoney, formatTime } from '../lib/format';

/** Loads with `load` whenever `deps` change; a newer load wins over an older one still in flight. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data: T | null; error: unknown; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data: T | null; error: unknown; loading: boolean }>({ data: null, error: null, loading: true });
  const [tick, setTick] = useState(0);
  const latest = useRef(0);
  useEffect(() => {
    const id = ++latest.current;
    setState((s) => ({ ...s, loading: true, error: null }));
    load().then(
      (data) => id === latest.current && setState({ data, error: null, loading: false }),
      (error) => id === latest.current && setState({ data: null, error, loading: false }),
    );
    // `deps` are the caller's: the load runs again when they change, as with useEffect's own list.
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function ErrorBox({ error, retry }: { error: unknown; retry?: () => void }) {
  return (
    <div className="error" role="alert">
      <p>{describeError(error)}</p>
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

export function Money({ minor, currency }: { minor: number; currency: string }) {
  return <span className="num">{formatMoney(minor, currency)}</span>;
}

/** A time in the viewer's zone; the exact UTC time on hover. */
export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span className="muted">never</span>;
  const { text, title } = formatTime(iso);
  return (
    <time dateTime={iso} title={title}>
      {text}
    </time>
  );
}

/** Copies text to the clipboard; says so, or says it could not. */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setState('copied');
    } catch {
      setState('failed');
    }
    setTimeout(() => setState('idle'), 2000);
  };
  return (
    <button type="button" className="small" onClick={copy} aria-label={label}>
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed: select the link' : 'Copy'}
    </button>
  );
}

/** A labelled control; the hint sits outside the label (so it is not part of the field's name) and describes it. */
export function Field({ label, hint, children }: { label: string; hint?: string; children: ReactElement<{ 'aria-describedby'?: string }> }) {
  const hintId = useId();
  return (
    <div className="field">
      <label>
        <span>{label}</span>
        {hint ? cloneElement(children, { 'aria-describedby': hintId }) : children}
      </label>
      {hint && <small id={hintId}>{hint}</small>}
    </div>
  );
}
