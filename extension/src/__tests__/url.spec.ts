import { API_NAMESPACE, MAX_LIMIT, buildQuery, encodeSegments, endpoint, errorMessage, joinUrl, pageQuery, parseTag } from '../core/url';

describe('url building', () => {
  it('encodes path segments, so names cannot add segments or queries', () => {
    expect(encodeSegments(['models', 'iris/clf', 'v 1?x'])).toEqual(['models', 'iris%2Fclf', 'v%201%3Fx']);
    expect(endpoint(['runs', 'r-1'])).toBe('runs/r-1');
  });

  it('refuses empty and dot segments', () => {
    expect(() => encodeSegments(['models', '..'])).toThrow(/invalid URL segment/);
    expect(() => encodeSegments(['models', ''])).toThrow();
    expect(() => encodeSegments(['.'])).toThrow();
  });

  it('builds query strings, skipping empty values', () => {
    expect(buildQuery({ offset: 0, limit: 50, name: undefined, x: null, y: '' })).toBe('?offset=0&limit=50');
    expect(buildQuery({ path: 'data/a b&c.mbp' })).toBe('?path=data%2Fa%20b%26c.mbp');
    expect(buildQuery({})).toBe('');
    expect(endpoint(['monitor', 'dashboard'], { model: 'flights' })).toBe('monitor/dashboard?model=flights');
  });

  it('clamps pages to what the server accepts', () => {
    expect(pageQuery(-5, 10000)).toEqual({ offset: 0, limit: MAX_LIMIT });
    expect(pageQuery(100.7, 0)).toEqual({ offset: 100, limit: 1 });
    expect(pageQuery(NaN, NaN)).toEqual({ offset: 0, limit: 1 });
  });

  it('joins base URL and namespace', () => {
    expect(joinUrl('http://h:8888/lab-base/', API_NAMESPACE, 'models?offset=0')).toBe('http://h:8888/lab-base/mlbench/api/models?offset=0');
    expect(joinUrl('/', API_NAMESPACE, 'status')).toBe('/mlbench/api/status');
  });

  it('parses model tags', () => {
    expect(parseTag('iris:v1')).toEqual({ name: 'iris', version: 'v1' });
    expect(parseTag(' a:b:c ')).toEqual({ name: 'a:b', version: 'c' });
    expect(parseTag('iris')).toBeNull();
    expect(parseTag(':v1')).toBeNull();
    expect(parseTag('iris:')).toBeNull();
  });
});

describe('errorMessage', () => {
  it("uses the server's error sentence", () => {
    expect(errorMessage(404, '{"error": "no model iris:v9", "status": 404}')).toBe('no model iris:v9');
    expect(errorMessage(403, '{"message": "Forbidden", "reason": null}')).toBe('Forbidden');
  });

  it('explains a 404 HTML page as a missing server extension', () => {
    const msg = errorMessage(404, '<html><title>404: Not Found</title></html>', 'Not Found');
    expect(msg).toMatch(/^HTTP 404 Not Found/);
    expect(msg).toMatch(/server extension/);
  });

  it('strips markup from other error bodies and keeps them short', () => {
    const msg = errorMessage(500, `<html><body><h1>boom</h1>${'x'.repeat(500)}</body></html>`);
    expect(msg.startsWith('HTTP 500: boom')).toBe(true);
    expect(msg).not.toMatch(/</);
    expect(msg.length).toBeLessThan(220);
  });

  it('never returns an empty message', () => {
    expect(errorMessage(502, '')).toBe('HTTP 502');
    expect(errorMessage(400, '{"error": ""}')).toBe('HTTP 400: {"error": ""}');
  });
});
