import { AttributionOutcome } from './attribution.events';

export interface ExplainContext {
  orderId?: string;
  occurredAt?: string;
  affiliate?: { name: string; code: string } | null;
  affiliateCode?: string | null;
  duplicateOf?: string | null;
}

/** One sentence an operator can act on, for each attribution reason. */
export function explain(outcome: Pick<AttributionOutcome, 'reason' | 'method' | 'clickId' | 'clickAt' | 'expiresAt' | 'cookieWindowDays'>, ctx: ExplainContext): string {
  const order = ctx.orderId ? `Order ${ctx.orderId}` : 'The conversion';
  const who = ctx.affiliate ? `${ctx.affiliate.name} (${ctx.affiliate.code})` : 'the affiliate';
  switch (outcome.reason) {
    case 'attributed':
      return outcome.method === 'code'
        ? `${order} was attributed to ${who} by the affiliate code sent with the order.`
        : `${order} was attributed to ${who} through the click of ${outcome.clickAt}; the ${outcome.cookieWindowDays}-day cookie window ran until ${outcome.expiresAt}.`;
    case 'no_click':
      return `${order} arrived without a click id or an affiliate code, so no affiliate could be credited. Make sure checkout sends aff_click (t.js keeps it) or the coupon's affiliate code.`;
    case 'click_not_found':
      return `${order} carried a click id this program never issued (mistyped, truncated, or from another program), so it could not be traced to an affiliate.`;
    case 'click_expired':
      return `${order} happened at ${ctx.occurredAt}, after the cookie window of the click of ${outcome.clickAt} closed at ${outcome.expiresAt} (the program's window was ${outcome.cookieWindowDays} days when the click happened).`;
    case 'unknown_code':
      return `${order} carried the affiliate code "${ctx.affiliateCode}", which no affiliate in this program has.`;
    case 'affiliate_suspended':
      return `${order} pointed to ${who}, who was suspended when it was processed; suspended affiliates earn nothing.`;
    case 'self_referral':
      return `${order} was placed with ${who}'s own email address, so it is a self-referral and earns nothing.`;
    case 'duplicate_order':
      return `${order} had already been received from this storefront (conversion ${ctx.duplicateOf}); this copy differs from it and was recorded but not counted.`;
  }
}
