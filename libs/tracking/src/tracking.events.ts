/** One stream per click (`click-<clickId>`), so a click can be looked up by its id in the store. */
export interface ClickRecorded {
  type: 'ClickRecorded';
  programId: string;
  affiliateId: string;
  clickId: string;
  occurredAt: string;
  /** HMAC of IP + user agent with a per-program secret; raw IPs are never stored. */
  visitorHash: string | null;
  userAgent: string | null;
  referrer: string | null;
  subId: string | null;
  bot: boolean;
  source: 'redirect' | 'api';
  storefrontId: string | null;
  /** The program's cookie window when the click happened: the window a conversion is judged against. */
  cookieWindowDays: number;
}

export const clickStream = (clickId: string) => `click-${clickId}`;
