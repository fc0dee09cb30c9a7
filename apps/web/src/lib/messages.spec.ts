import { ApiError } from '../api/client';
import { describeError, describePayoutError, sentence } from './messages';

describe('API errors in words', () => {
  const ctx = { currency: 'EUR', minimumPayoutMinor: 1000, payableMinor: 1500 };

  it('given a 422 below_minimum_payout, when described, then it names the minimum in the currency and what to do', () => {
    const e = new ApiError(422, 'below_minimum_payout', "the payout of 500 is below the program's minimum payout of 1000 EUR");
    expect(describePayoutError(e, ctx)).toBe(
      "Nothing was paid: this amount is below the program's minimum payout of €10.00. Pay at least €10.00, or wait until more commission is payable.",
    );
  });

  it('given a 409 above the payable balance, when described, then it says how much can be paid', () => {
    const e = new ApiError(409, 'conflict', 'the payout of 2000 exceeds the payable balance of 1500 EUR');
    expect(describePayoutError(e, ctx)).toBe('Nothing was paid: only €15.00 is payable now (commission still on hold cannot be paid yet). Pay at most that amount.');
  });

  it('given a 409 for a reused idempotency key, when described, then it says to start a new payout', () => {
    const e = new ApiError(409, 'conflict', 'this Idempotency-Key was already used for a different payout request');
    expect(describePayoutError(e, ctx)).toMatch(/^Nothing was paid: this form was already used/);
  });

  it('given other errors, when described, then the API sentence is shown as a sentence, with field details; 401, 503 and no answer have their own words', () => {
    expect(describeError(new ApiError(400, 'validation_failed', 'the body is not valid', [{ field: 'name', message: 'is required' }]))).toBe('The body is not valid. (name: is required)');
    expect(describeError(new ApiError(401, 'unauthorized', 'the operator token is not valid'))).toMatch(/^The operator token was not accepted/);
    expect(describeError(new ApiError(503, 'unavailable', 'the view store does not answer'))).toBe('The API cannot answer right now: The view store does not answer. Try again in a moment.');
    expect(describeError(new ApiError(0, 'network', 'The dashboard cannot reach the API server.'))).toBe('The dashboard cannot reach the API server.');
    expect(sentence('done.')).toBe('Done.');
  });
});
