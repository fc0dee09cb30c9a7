import { ApiError } from '../api/client';
import { formatMoney } from './format';

/** The API's sentence starts lower case (it is meant to be embedded); on the page it is a sentence. */
export function sentence(text: string): string {
  const t = text.trim();
  if (!t) return t;
  return t[0].toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? '' : '.');
}

/** What a person should read for an error of any call. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401) return 'The operator token was not accepted. Sign in again with the token the server printed at start (or ADMIN_TOKEN).';
    if (error.status === 503) return `The API cannot answer right now: ${sentence(error.message)} Try again in a moment.`;
    if (error.status === 0) return error.message;
    const fields = error.details.map((d) => `${d.field}: ${d.message}`).join('; ');
    return sentence(error.message) + (fields ? ` (${fields})` : '');
  }
  return error instanceof Error ? sentence(error.message) : 'Something went wrong.';
}

/** A payout's 409 or 422, in the words a person needs to act on it. */
export function describePayoutError(error: unknown, ctx: { currency: string; minimumPayoutMinor: number; payableMinor: number }): string {
  if (error instanceof ApiError) {
    if (error.status === 422 && error.code === 'below_minimum_payout') {
      const min = formatMoney(Math.max(1, ctx.minimumPayoutMinor), ctx.currency);
      return `Nothing was paid: this amount is below the program's minimum payout of ${min}. Pay at least ${min}, or wait until more commission is payable.`;
    }
    if (error.status === 409 && /idempotency/i.test(error.message)) {
      return 'Nothing was paid: this form was already used for a different payout. Reload the page to start a new payout.';
    }
    if (error.status === 409) {
      return `Nothing was paid: only ${formatMoney(ctx.payableMinor, ctx.currency)} is payable now (commission still on hold cannot be paid yet). Pay at most that amount.`;
    }
  }
  return 'Nothing was paid: ' + describeError(error);
}
