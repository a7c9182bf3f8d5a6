import {
  formatAgo,
  formatCount,
  formatDuration,
  formatMetric,
  formatMs,
  formatNumber,
  formatPercent,
  formatTimestamp,
  formatValue,
  parseTime,
  shortId
} from '../core/format';

describe('format', () => {
  it('formats durations', () => {
    expect(formatDuration(0.42)).toBe('0.42 s');
    expect(formatDuration(3.21)).toBe('3.2 s');
    expect(formatDuration(42.4)).toBe('42 s');
    expect(formatDuration(184)).toBe('3 min 04 s');
    expect(formatDuration(3720)).toBe('1 h 02 min');
    expect(formatDuration(null)).toBe('–');
    expect(formatDuration(-1)).toBe('–');
    expect(formatDuration(NaN)).toBe('–');
  });

  it('formats numbers with 4 significant digits', () => {
    expect(formatNumber(0.912345)).toBe('0.9123');
    expect(formatNumber(12)).toBe('12');
    expect(formatNumber(1234.5678)).toBe('1235');
    expect(formatNumber(0.00001234)).toBe('1.234e-5');
    expect(formatNumber(null)).toBe('–');
    expect(formatNumber(Infinity)).toBe('–');
  });

  it('formats counts, shares and latencies', () => {
    expect(formatCount(950)).toBe('950');
    expect(formatCount(12345)).toBe('12.3k');
    expect(formatCount(4_560_000)).toBe('4.56M');
    expect(formatPercent(0.125)).toBe('13%');
    expect(formatPercent(0.034)).toBe('3.4%');
    expect(formatPercent(0)).toBe('0%');
    expect(formatPercent(null)).toBe('–');
    expect(formatMs(85.23)).toBe('85.2 ms');
    expect(formatMs(1234)).toBe('1.23 s');
  });

  it('reads times without a zone as UTC', () => {
    expect(parseTime('2024-05-01T12:00:00')!.toISOString()).toBe('2024-05-01T12:00:00.000Z');
    expect(parseTime('2024-05-01T12:00:00+02:00')!.toISOString()).toBe('2024-05-01T10:00:00.000Z');
    expect(parseTime('nope')).toBeNull();
    expect(parseTime(null)).toBeNull();
    expect(formatTimestamp('2024-05-01T12:03:04Z')).toBe('2024-05-01 12:03:04 UTC');
  });

  it('formats relative times', () => {
    const now = new Date('2024-05-01T12:00:00Z');
    expect(formatAgo('2024-05-01T11:59:50Z', now)).toBe('just now');
    expect(formatAgo('2024-05-01T11:55:00Z', now)).toBe('5 min ago');
    expect(formatAgo('2024-05-01T09:00:00Z', now)).toBe('3 h ago');
    expect(formatAgo('2024-04-29T12:00:00Z', now)).toBe('2 d ago');
    expect(formatAgo('2023-01-01T00:00:00Z', now)).toBe('2023-01-01');
    expect(formatAgo(undefined, now)).toBe('–');
  });

  it('formats metrics, values and ids', () => {
    expect(formatMetric({ name: 'auc', value: 0.87654 })).toBe('auc 0.8765');
    expect(formatMetric(null)).toBe('–');
    expect(formatValue({ a: 1 })).toBe('{"a":1}');
    expect(formatValue(true)).toBe('yes');
    expect(formatValue('')).toBe('–');
    expect(shortId('0123456789abcdef0123')).toBe('01234567…0123');
    expect(shortId('short')).toBe('short');
  });
});
