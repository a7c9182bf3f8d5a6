/** Display formatting for numbers, durations and times (pure, unit-tested). */

const DASH = '–';

/** `0.42 s`, `12 s`, `3 min 04 s`, `1 h 02 min`; a dash for null/NaN/negative. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !isFinite(seconds) || seconds < 0) {
    return DASH;
  }
  if (seconds < 10) {
    return `${seconds.toFixed(seconds < 1 ? 2 : 1)} s`;
  }
  if (seconds < 60) {
    return `${Math.round(seconds)} s`;
  }
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) {
    return `${h} h ${String(m).padStart(2, '0')} min`;
  }
  return `${m} min ${String(s).padStart(2, '0')} s`;
}

/** A metric value with 4 significant digits (integers as they are). */
export function formatNumber(value: number | null | undefined, digits = 4): string {
  if (value === null || value === undefined || typeof value !== 'number' || !isFinite(value)) {
    return DASH;
  }
  if (Number.isInteger(value) && Math.abs(value) < 1e9) {
    return String(value);
  }
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e9)) {
    return value.toExponential(digits - 1);
  }
  return String(Number(value.toPrecision(digits)));
}

/** `1,234`, `12.3k`, `4.5M` for traffic counts. */
export function formatCount(value: number | null | undefined): string {
  if (value === null || value === undefined || !isFinite(value)) {
    return DASH;
  }
  const abs = Math.abs(value);
  if (abs >= 1e6) {
    return `${Number((value / 1e6).toPrecision(3))}M`;
  }
  if (abs >= 1e4) {
    return `${Number((value / 1e3).toPrecision(3))}k`;
  }
  return String(Math.round(value));
}

/** A share in [0, 1] as a percentage, `12.5%`. */
export function formatPercent(share: number | null | undefined): string {
  if (share === null || share === undefined || !isFinite(share)) {
    return DASH;
  }
  const pct = share * 100;
  return `${pct === 0 || pct >= 10 ? Math.round(pct) : Number(pct.toPrecision(2))}%`;
}

/** Milliseconds as `85 ms` or `1.2 s`. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !isFinite(ms)) {
    return DASH;
  }
  return ms < 1000 ? `${Number(ms.toPrecision(3))} ms` : `${Number((ms / 1000).toPrecision(3))} s`;
}

/** Parse an ISO-8601 time; a time without zone is UTC (the API's convention). */
export function parseTime(iso: string | null | undefined): Date | null {
  if (!iso) {
    return null;
  }
  const hasZone = /(Z|[+-]\d\d:?\d\d)$/i.test(iso.trim());
  const date = new Date(hasZone ? iso : `${iso.trim()}Z`);
  return isNaN(date.getTime()) ? null : date;
}

/** `just now`, `5 min ago`, `3 h ago`, `2 d ago`, else the date (YYYY-MM-DD). */
export function formatAgo(iso: string | null | undefined, now: Date = new Date()): string {
  const date = parseTime(iso);
  if (!date) {
    return DASH;
  }
  const secs = (now.getTime() - date.getTime()) / 1000;
  if (secs < -60) {
    return date.toISOString().slice(0, 10);
  }
  if (secs < 45) {
    return 'just now';
  }
  if (secs < 3600) {
    return `${Math.max(1, Math.round(secs / 60))} min ago`;
  }
  if (secs < 86400) {
    return `${Math.round(secs / 3600)} h ago`;
  }
  if (secs < 30 * 86400) {
    return `${Math.round(secs / 86400)} d ago`;
  }
  return date.toISOString().slice(0, 10);
}

/** Full UTC timestamp for tooltips: `2024-05-01 12:03:04 UTC`. */
export function formatTimestamp(iso: string | null | undefined): string {
  const date = parseTime(iso);
  return date ? `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC` : DASH;
}

/** `name=value` headline metric or a dash. */
export function formatMetric(
  metric: { name: string; value: number | null } | null | undefined
): string {
  if (!metric || !metric.name) {
    return DASH;
  }
  return `${metric.name} ${formatNumber(metric.value)}`;
}

/** A short, stable text for any JSON-ish value (params, lineage fields). */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined || value === '') {
    return DASH;
  }
  if (typeof value === 'number') {
    return formatNumber(value);
  }
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'boolean') {
    return value ? 'yes' : 'no';
  }
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** Shorten a long id/hash: first 8 and last 4 characters. */
export function shortId(text: string | null | undefined, keep = 12): string {
  if (!text) {
    return DASH;
  }
  return text.length > keep + 1 ? `${text.slice(0, keep - 4)}…${text.slice(-4)}` : text;
}
