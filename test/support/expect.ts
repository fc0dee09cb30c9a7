import { HttpResult } from './app';

/** The one error shape API.md defines: {error, message, details: [{field, message}]}. */
export function expectError(res: HttpResult, status: number, code?: string): void {
  if (res.status !== status) throw new Error(`expected ${status}${code ? ` ${code}` : ''}, got ${res.status} ${res.text}`);
  expect(res.body).toEqual({ error: code ?? expect.any(String), message: expect.any(String), details: expect.any(Array) });
  expect(res.body.message.length).toBeGreaterThan(0);
  for (const d of res.body.details) expect(d).toEqual({ field: expect.any(String), message: expect.any(String) });
}

export function expectStatus(res: HttpResult, status: number): void {
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status} ${res.text}`);
}
