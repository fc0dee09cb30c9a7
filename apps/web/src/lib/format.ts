/**
 * Display formatting. Money stays an integer of minor units everywhere; it is divided by the currency's
 * minor-unit factor only here, to build the text a person reads.
 */

/** Digits after the decimal point of a currency (JPY 0, EUR 2, KWD 3), from Intl's own data. */
export function fractionDigits(currency: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

/** 1999 EUR → "€19.99"; 1999 JPY → "¥1,999"; 1999 KWD → "KWD 1.999". */
export function formatMoney(minor: number, currency: string, locale?: string): string {
  const digits = fractionDigits(currency);
  const format = new Intl.NumberFormat(locale, { style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits });
  // Whole units and the remainder as a decimal string: no float arithmetic on the amount itself.
  return format.format(minorToDecimalString(minor, digits) as unknown as number);
}

/** 1999, 2 → "19.99"; -5, 2 → "-0.05"; 7, 0 → "7". Intl accepts such strings exactly. */
export function minorToDecimalString(minor: number, digits: number): string {
  if (!Number.isSafeInteger(minor)) throw new Error(`not a whole number of minor units: ${minor}`);
  const negative = minor < 0;
  const text = String(Math.abs(minor)).padStart(digits + 1, '0');
  const whole = text.slice(0, text.length - digits);
  const fraction = digits > 0 ? '.' + text.slice(text.length - digits) : '';
  return (negative ? '-' : '') + whole + fraction;
}

/**
 * What a person typed ("12.5", "1,000.25", "12") → minor units of the currency, or null when it is not an
 * amount or has more decimals than the currency has. Parsed as text, never through a float.
 */
export function parseMoney(text: string, currency: string): number | null {
  const digits = fractionDigits(currency);
  const cleaned = text.trim().replace(/[\s,_]/g, '');
  const match = /^(\d+)(?:\.(\d*))?$/.exec(cleaned);
  if (!match) return null;
  const fraction = match[2] ?? '';
  if (fraction.length > digits) return null;
  const minor = Number(match[1] + fraction.padEnd(digits, '0'));
  return Number.isSafeInteger(minor) ? minor : null;
}

/** conversions / clicks as a percentage with up to two decimals: 0.0333… → "3.33%". */
export function formatRate(rate: number, locale?: string): string {
  return new Intl.NumberFormat(locale, { style: 'percent', minimumFractionDigits: 0, maximumFractionDigits: 2 }).format(rate);
}

export function formatCount(n: number, locale?: string): string {
  return new Intl.NumberFormat(locale).format(n);
}

/** A time in the viewer's zone (or the given one) for the page, and the exact UTC time for its title (hover). */
export function formatTime(iso: string, options: { timeZone?: string; locale?: string } = {}): { text: string; title: string } {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return { text: iso, title: iso };
  const text = new Intl.DateTimeFormat(options.locale, {
    timeZone: options.timeZone,
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'short',
  }).format(date);
  return { text, title: date.toISOString().replace('.000Z', 'Z') + ' (UTC)' };
}

/** How far behind the figures are, in words. */
export function formatLag(lagMs: number): string {
  if (lagMs <= 0) return 'up to date';
  if (lagMs < 1000) return 'less than a second behind';
  const s = Math.round(lagMs / 1000);
  if (s < 120) return `${s} seconds behind`;
  return `${Math.round(s / 60)} minutes behind`;
}

/** A commission rule in words: "10% of each order" or "€5.00 per conversion". */
export function describeRule(rule: { type: 'percent'; basisPoints: number } | { type: 'flat'; amountMinor: number }, currency: string): string {
  if (rule.type === 'percent') return `${formatBasisPoints(rule.basisPoints)} of each order`;
  return `${formatMoney(rule.amountMinor, currency)} per conversion`;
}

/** 1250 basis points → "12.5%" (integer arithmetic on the text, as with money). */
export function formatBasisPoints(bp: number): string {
  return minorToDecimalString(bp, 2).replace(/\.?0+$/, '') + '%';
}

/** "12.5" (percent) → 1250 basis points, or null. */
export function parsePercent(text: string): number | null {
  const match = /^(\d+)(?:\.(\d{0,2}))?$/.exec(text.trim().replace(/%$/, '').trim());
  if (!match) return null;
  return Number(match[1] + (match[2] ?? '').padEnd(2, '0'));
}
