import { FormEvent, useState } from 'react';
import { ApiClient, ApiError } from '../api/client';
import { describeError } from '../lib/messages';
import { Field } from '../components/common';

/** Checks the pasted token against the API before keeping it for this browser session. */
export function SignIn({ onSignedIn }: { onSignedIn: (token: string) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const t = token.trim();
    if (!t) return setError('Paste the operator token first.');
    setBusy(true);
    setError(null);
    try {
      await new ApiClient(t).programs();
      onSignedIn(t);
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? 'That token was not accepted. Paste the operator token the server printed when it started (kept in DATA_DIR/admin-token, or ADMIN_TOKEN).'
          : describeError(err),
      );
      setBusy(false);
    }
  };
  return (
    <main className="sign-in">
      <h1>Affiliate dashboard</h1>
      <form onSubmit={submit} aria-describedby={error ? 'sign-in-error' : undefined}>
        <Field label="Operator token" hint="Kept in this browser tab only, until you close it or sign out.">
          <input type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} autoFocus required />
        </Field>
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {error && (
          <p id="sign-in-error" className="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}
