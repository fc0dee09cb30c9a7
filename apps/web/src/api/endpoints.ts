/**
 * Every API operation the dashboard calls: method, OpenAPI path and the query parameters it sends.
 * test/web-api-contract.e2e-spec.ts checks each one against the server's OpenAPI document.
 */
export const ENDPOINTS = {
  listPrograms: { method: 'GET', path: '/api/programs', query: [] },
  createProgram: { method: 'POST', path: '/api/programs', query: [] },
  getProgram: { method: 'GET', path: '/api/programs/{programId}', query: [] },
  updateProgram: { method: 'PATCH', path: '/api/programs/{programId}', query: [] },
  createStorefront: { method: 'POST', path: '/api/programs/{programId}/storefronts', query: [] },
  enroll: { method: 'POST', path: '/api/programs/{programId}/affiliates', query: [] },
  updateAffiliate: { method: 'PATCH', path: '/api/programs/{programId}/affiliates/{affiliateId}', query: [] },
  dashboard: { method: 'GET', path: '/api/programs/{programId}/dashboard', query: [] },
  listAffiliates: { method: 'GET', path: '/api/programs/{programId}/affiliates', query: ['sort', 'order', 'limit', 'cursor', 'q'] },
  affiliateStats: { method: 'GET', path: '/api/programs/{programId}/affiliates/{affiliateId}', query: [] },
  timeseries: { method: 'GET', path: '/api/programs/{programId}/timeseries', query: ['metric', 'interval', 'from', 'to'] },
  ledger: { method: 'GET', path: '/api/programs/{programId}/affiliates/{affiliateId}/ledger', query: [] },
  pay: { method: 'POST', path: '/api/programs/{programId}/affiliates/{affiliateId}/payouts', query: [] },
  voidPayout: { method: 'POST', path: '/api/programs/{programId}/payouts/{payoutId}/void', query: [] },
  attribution: { method: 'GET', path: '/api/programs/{programId}/attribution', query: ['orderId', 'clickId'] },
  unattributed: { method: 'GET', path: '/api/programs/{programId}/unattributed', query: ['from', 'to', 'limit'] },
} as const;

export type EndpointName = keyof typeof ENDPOINTS;
