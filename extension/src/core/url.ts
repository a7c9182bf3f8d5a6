/**
 * URL building for the mlbench REST API (pure: no JupyterLab imports, unit-tested).
 *
 * The client joins the result under `<baseUrl>/mlbench/api/` with `URLExt.join`; here we
 * only encode path segments and the query string.
 */

/** Where the server extension's handlers live, under the Jupyter server's base URL. */
export const API_NAMESPACE = 'mlbench/api';

/** Hard upper bound on `limit` accepted by the server for list endpoints. */
export const MAX_LIMIT = 500;

export type QueryValue = string | number | boolean | null | undefined;

/** Encode each path segment (a model name may hold characters like `/` or `?`). */
export function encodeSegments(parts: ReadonlyArray<string | number>): string[] {
  return parts.map(part => {
    const text = String(part);
    if (text === '' || text === '.' || text === '..') {
      throw new Error(`invalid URL segment ${JSON.stringify(text)}`);
    }
    return encodeURIComponent(text);
  });
}

/** `?a=1&b=x` from an object, skipping null/undefined/'' values; '' when nothing is left. */
export function buildQuery(query: Record<string, QueryValue> = {}): string {
  const pairs = Object.keys(query)
    .filter(key => {
      const value = query[key];
      return value !== undefined && value !== null && value !== '';
    })
    .map(
      key =>
        `${encodeURIComponent(key)}=${encodeURIComponent(String(query[key]))}`
    );
  return pairs.length ? `?${pairs.join('&')}` : '';
}

/** Clamp a page request to what the server accepts. */
export function pageQuery(
  offset: number,
  limit: number
): { offset: number; limit: number } {
  const off = Math.max(0, Math.floor(offset) || 0);
  const lim = Math.min(MAX_LIMIT, Math.max(1, Math.floor(limit) || 1));
  return { offset: off, limit: lim };
}

/** Relative endpoint, e.g. `models/iris/v1?offset=0` (no leading slash). */
export function endpoint(
  parts: ReadonlyArray<string | number>,
  query?: Record<string, QueryValue>
): string {
  return encodeSegments(parts).join('/') + buildQuery(query);
}

/** Join base URL, namespace and endpoint without URLExt (used by tests and fallbacks). */
export function joinUrl(baseUrl: string, ...parts: string[]): string {
  const [first, ...rest] = [baseUrl, ...parts];
  let out = first.replace(/\/+$/, '');
  for (const part of rest) {
    const trimmed = part.replace(/^\/+/, '').replace(/\/+$/, '');
    if (trimmed) {
      out = `${out}/${trimmed}`;
    }
  }
  return out;
}

/** Parse `name:version`; the version is what follows the last colon. */
export function parseTag(tag: string): { name: string; version: string } | null {
  const text = tag.trim();
  const at = text.lastIndexOf(':');
  if (at <= 0 || at === text.length - 1) {
    return null;
  }
  return { name: text.slice(0, at), version: text.slice(at + 1) };
}

/**
 * The message to show for a failed request: the server's `error` field when the body is
 * the API's JSON error, else Jupyter's `message`, else the status line and a text excerpt.
 */
export function errorMessage(
  status: number,
  body: string,
  statusText = ''
): string {
  const text = (body || '').trim();
  if (text) {
    try {
      const data = JSON.parse(text);
      if (data && typeof data === 'object') {
        for (const key of ['error', 'message', 'reason']) {
          const value = (data as Record<string, unknown>)[key];
          if (typeof value === 'string' && value.trim()) {
            return value.trim();
          }
        }
      }
    } catch {
      // not JSON: fall through
    }
  }
  const head = `HTTP ${status}${statusText ? ` ${statusText}` : ''}`;
  if (status === 404 && !text.startsWith('{')) {
    return `${head}: the mlbench server extension did not answer (is mlbench installed and enabled in this Jupyter server?)`;
  }
  const plain = text
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return plain ? `${head}: ${plain.slice(0, 200)}` : head;
}
