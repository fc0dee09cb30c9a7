import { ENDPOINTS, EndpointName } from './endpoints';
import type {
  Affiliate,
  AffiliateDetail,
  AffiliatePage,
  ApiErrorBody,
  AttributionAnswer,
  CommissionRule,
  Dashboard,
  Interval,
  Ledger,
  Metric,
  Payout,
  PayoutInput,
  Program,
  ProgramInput,
  SortKey,
  SortOrder,
  Storefront,
  Timeseries,
} from './types';

/** An answer other than 2xx, or no answer at all (status 0): carries the API's code and sentence. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: { field: string; message: string }[] = [],
  ) {
    super(message);
  }
}

type Params = Record<string, string>;
type Query = Record<string, string | number | undefined>;

/** A client bound to one operator token; every call names its endpoint from ENDPOINTS. */
export class ApiClient {
  constructor(private readonly token: string, private readonly base = '') {}

  private async call<T>(name: EndpointName, params: Params = {}, query: Query = {}, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const e = ENDPOINTS[name];
    const path = e.path.replace(/\{(\w+)\}/g, (_, p: string) => encodeURIComponent(params[p]));
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') search.set(k, String(v));
    const qs = search.toString();
    const url = this.base + path + (qs ? `?${qs}` : '');
    let res: Response;
    try {
      res = await fetch(url, {
        method: e.method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, 'network', 'The dashboard cannot reach the API server: it may be stopped or restarting. Check that it runs, then try again.');
    }
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: a proxy's error page, handled below
    }
    if (!res.ok) {
      const err = json as Partial<ApiErrorBody> | null;
      if (err && typeof err.error === 'string') throw new ApiError(res.status, err.error, err.message ?? '', err.details ?? []);
      throw new ApiError(res.status, 'http_' + res.status, `The API answered ${res.status} ${res.statusText} without an explanation.`);
    }
    return json as T;
  }

  programs = () => this.call<{ items: Program[] }>('listPrograms');
  createProgram = (input: ProgramInput) => this.call<Program>('createProgram', {}, {}, input);
  program = (programId: string) => this.call<Program>('getProgram', { programId });
  updateProgram = (programId: string, changes: Partial<ProgramInput>) => this.call<Program>('updateProgram', { programId }, {}, changes);
  createStorefront = (programId: string, name: string) => this.call<Storefront>('createStorefront', { programId }, {}, { name });
  enroll = (programId: string, input: { name: string; email: string; code?: string; landingUrl?: string }) =>
    this.call<Affiliate>('enroll', { programId }, {}, input);
  updateAffiliate = (programId: string, affiliateId: string, changes: { status?: 'active' | 'suspended'; commission?: CommissionRule | null }) =>
    this.call<Affiliate>('updateAffiliate', { programId, affiliateId }, {}, changes);
  dashboard = (programId: string) => this.call<Dashboard>('dashboard', { programId });
  affiliates = (programId: string, q: { sort: SortKey; order: SortOrder; limit: number; cursor?: string; q?: string }) =>
    this.call<AffiliatePage>('listAffiliates', { programId }, q);
  affiliate = (programId: string, affiliateId: string) => this.call<AffiliateDetail>('affiliateStats', { programId, affiliateId });
  timeseries = (programId: string, q: { metric: Metric; interval: Interval; from?: string; to?: string }) =>
    this.call<Timeseries>('timeseries', { programId }, q);
  ledger = (programId: string, affiliateId: string) => this.call<Ledger>('ledger', { programId, affiliateId });
  pay = (programId: string, affiliateId: string, input: PayoutInput, idempotencyKey: string) =>
    this.call<Payout>('pay', { programId, affiliateId }, {}, input, { 'idempotency-key': idempotencyKey });
  voidPayout = (programId: string, payoutId: string, reason: string) => this.call<Payout>('voidPayout', { programId, payoutId }, {}, { reason });
  attribution = (programId: string, lookup: { orderId?: string; clickId?: string }) => this.call<AttributionAnswer>('attribution', { programId }, lookup);
  unattributed = (programId: string) => this.call<{ items: AttributionAnswer[] }>('unattributed', { programId }, { limit: 200 });
}
