import { describeRule, formatBasisPoints, formatLag, formatMoney, formatRate, formatTime, fractionDigits, minorToDecimalString, parseMoney, parsePercent } from './format';

describe('money: integer minor units, divided only for display with the currency’s own fraction digits', () => {
  it('given a currency, when its fraction digits are asked, then Intl’s ISO-4217 data answers (JPY 0, EUR 2, KWD and BHD 3)', () => {
    expect([fractionDigits('JPY'), fractionDigits('EUR'), fractionDigits('USD'), fractionDigits('KWD'), fractionDigits('BHD')]).toEqual([0, 2, 2, 3, 3]);
  });

  it('given minor units, when formatted in en-US, then each currency shows its own number of decimals', () => {
    expect(formatMoney(1999, 'EUR', 'en-US')).toBe('€19.99');
    expect(formatMoney(1999, 'USD', 'en-US')).toBe('$19.99');
    expect(formatMoney(1999, 'JPY', 'en-US')).toBe('¥1,999');
    expect(formatMoney(1999, 'KWD', 'en-US')).toBe('KWD\u00a01.999');
    expect(formatMoney(5, 'BHD', 'en-US')).toBe('BHD\u00a00.005');
    expect(formatMoney(0, 'EUR', 'en-US')).toBe('€0.00');
    expect(formatMoney(-250, 'EUR', 'en-US')).toBe('-€2.50');
  });

  it('given another locale, when formatted, then its separators and symbol position apply', () => {
    expect(formatMoney(123456, 'EUR', 'de-DE')).toBe('1.234,56\u00a0€');
    expect(formatMoney(123456, 'JPY', 'ja-JP')).toBe('￥123,456');
  });

  it('given amounts where floats lose cents, when formatted, then every digit is exact', () => {
    // 0.1 + 0.2 style errors and amounts past 2^53 / 100 would show as wrong cents through float division.
    expect(formatMoney(Number.MAX_SAFE_INTEGER, 'EUR', 'en-US')).toBe('€90,071,992,547,409.91');
    expect(formatMoney(30, 'EUR', 'en-US')).toBe('€0.30');
    expect(minorToDecimalString(7, 3)).toBe('0.007');
    expect(minorToDecimalString(-5, 2)).toBe('-0.05');
    expect(minorToDecimalString(42, 0)).toBe('42');
    expect(() => minorToDecimalString(1.5, 2)).toThrow('not a whole number');
  });

  it('given typed amounts, when parsed, then they become minor units of the currency, or null when they are not an amount of it', () => {
    expect(parseMoney('12.5', 'EUR')).toBe(1250);
    expect(parseMoney(' 1,000.25 ', 'EUR')).toBe(100025);
    expect(parseMoney('12', 'EUR')).toBe(1200);
    expect(parseMoney('0.07', 'EUR')).toBe(7);
    expect(parseMoney('1999', 'JPY')).toBe(1999);
    expect(parseMoney('1.5', 'JPY')).toBeNull();
    expect(parseMoney('1.234', 'KWD')).toBe(1234);
    expect(parseMoney('1.234', 'EUR')).toBeNull();
    expect(parseMoney('-5', 'EUR')).toBeNull();
    expect(parseMoney('abc', 'EUR')).toBeNull();
    expect(parseMoney('', 'EUR')).toBeNull();
  });
});

describe('rates and rules', () => {
  it('given conversion rates, when formatted, then they are percentages with at most two decimals', () => {
    expect(formatRate(0, 'en-US')).toBe('0%');
    expect(formatRate(0.25, 'en-US')).toBe('25%');
    expect(formatRate(2 / 3, 'en-US')).toBe('66.67%');
    expect(formatRate(3 / 7, 'en-US')).toBe('42.86%');
    expect(formatRate(1, 'en-US')).toBe('100%');
    expect(formatRate(1 / 3, 'de-DE')).toBe('33,33\u00a0%');
  });

  it('given basis points, when shown or typed, then 1250 is 12.5%', () => {
    expect(formatBasisPoints(1250)).toBe('12.5%');
    expect(formatBasisPoints(1000)).toBe('10%');
    expect(formatBasisPoints(1)).toBe('0.01%');
    expect(parsePercent('12.5')).toBe(1250);
    expect(parsePercent('10 %')).toBe(1000);
    expect(parsePercent('0.01')).toBe(1);
    expect(parsePercent('1.234')).toBeNull();
    expect(describeRule({ type: 'percent', basisPoints: 1000 }, 'EUR')).toBe('10% of each order');
    expect(describeRule({ type: 'flat', amountMinor: 500 }, 'JPY')).toMatch(/500 per conversion$/);
  });
});

describe('times: the viewer’s zone on the page, UTC on hover', () => {
  const iso = '2026-03-01T23:30:00.000Z';

  it('given a UTC time, when shown in Berlin, Tokyo and New York, then the local date and hour are those of the zone, with its name', () => {
    expect(formatTime(iso, { timeZone: 'Europe/Berlin', locale: 'en-US' }).text).toBe('Mar 2, 2026, 12:30 AM GMT+1');
    expect(formatTime(iso, { timeZone: 'Asia/Tokyo', locale: 'en-US' }).text).toBe('Mar 2, 2026, 08:30 AM GMT+9');
    expect(formatTime(iso, { timeZone: 'America/New_York', locale: 'en-US' }).text).toBe('Mar 1, 2026, 06:30 PM EST');
  });

  it('given any zone, when hovered, then the title is the exact UTC time', () => {
    expect(formatTime(iso, { timeZone: 'Asia/Tokyo' }).title).toBe('2026-03-01T23:30:00Z (UTC)');
    expect(formatTime('2026-03-01T23:30:00.123Z').title).toBe('2026-03-01T23:30:00.123Z (UTC)');
  });

  it('given text that is not a time, when formatted, then it is shown as it came', () => {
    expect(formatTime('yesterday')).toEqual({ text: 'yesterday', title: 'yesterday' });
  });

  it('given a lag, when described, then it reads as words', () => {
    expect(formatLag(0)).toBe('up to date');
    expect(formatLag(400)).toBe('less than a second behind');
    expect(formatLag(5_000)).toBe('5 seconds behind');
    expect(formatLag(600_000)).toBe('10 minutes behind');
  });
});
