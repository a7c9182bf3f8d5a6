import { PagedCache, pagesFor, visibleRange } from '../core/paging';

describe('visibleRange', () => {
  it('returns the rows in view plus overscan', () => {
    expect(visibleRange(0, 300, 30, 1000, 5)).toEqual({ start: 0, end: 16 });
    expect(visibleRange(3000, 300, 30, 1000, 5)).toEqual({ start: 95, end: 116 });
    expect(visibleRange(29970, 300, 30, 1000, 5)).toEqual({ start: 994, end: 1000 });
  });

  it('keeps the DOM small for 1,000 rows', () => {
    const r = visibleRange(12345, 600, 30, 1000);
    expect(r.end - r.start).toBeLessThan(40);
  });

  it('handles empty and degenerate lists', () => {
    expect(visibleRange(0, 300, 30, 0)).toEqual({ start: 0, end: 0 });
    expect(visibleRange(-50, 0, 30, 3)).toEqual({ start: 0, end: 3 });
    expect(visibleRange(99999, 300, 30, 10)).toEqual({ start: 5, end: 10 });
  });
});

describe('pagesFor', () => {
  it('lists the page offsets a range touches', () => {
    expect(pagesFor({ start: 95, end: 116 }, 100)).toEqual([0, 100]);
    expect(pagesFor({ start: 0, end: 100 }, 100)).toEqual([0]);
    expect(pagesFor({ start: 5, end: 5 }, 100)).toEqual([]);
  });
});

describe('PagedCache', () => {
  const page = (offset: number, n: number) => Array.from({ length: n }, (_, i) => `row${offset + i}`);

  it('asks for the first page before the total is known', () => {
    const cache = new PagedCache<string>(100);
    expect(cache.total).toBeNull();
    expect(cache.missing({ start: 0, end: 0 })).toEqual([0]);
    expect(cache.missing({ start: 0, end: 20 })).toEqual([0]);
  });

  it('fetches only missing, not-pending pages and serves rows', () => {
    const cache = new PagedCache<string>(100);
    const gen = cache.markPending(0);
    expect(cache.missing({ start: 0, end: 20 })).toEqual([]);
    expect(cache.setPage(0, page(0, 100), 1000, gen)).toBe(true);
    expect(cache.total).toBe(1000);
    expect(cache.get(42)).toBe('row42');
    expect(cache.get(142)).toBeUndefined();
    expect(cache.missing({ start: 95, end: 205 })).toEqual([100, 200]);
    expect(cache.missing({ start: 990, end: 1200 })).toEqual([900]);
  });

  it('drops pages that arrive after a reset', () => {
    const cache = new PagedCache<string>(10);
    const gen = cache.markPending(0);
    cache.reset();
    expect(cache.setPage(0, page(0, 10), 10, gen)).toBe(false);
    expect(cache.get(0)).toBeUndefined();
    expect(cache.missing({ start: 0, end: 5 })).toEqual([0]);
  });

  it('lets a failed page be requested again', () => {
    const cache = new PagedCache<string>(10);
    const gen = cache.markPending(10);
    cache.failPage(10, gen);
    cache.setPage(0, page(0, 10), 30);
    expect(cache.missing({ start: 0, end: 20 })).toEqual([10]);
  });

  it('soft refresh keeps rows visible but refetches them', () => {
    const cache = new PagedCache<string>(10);
    cache.setPage(0, page(0, 10), 25);
    cache.setPage(10, page(10, 10), 25);
    cache.invalidate();
    expect(cache.get(3)).toBe('row3');
    expect(cache.missing({ start: 0, end: 15 })).toEqual([0, 10]);
    cache.setPage(0, ['new0'], 1);
    expect(cache.total).toBe(1);
    expect(cache.get(0)).toBe('new0');
    expect(cache.get(10)).toBeUndefined();
    expect(cache.some(s => s === 'new0')).toBe(true);
  });

  it('refetches an empty list on refresh (a first run appears)', () => {
    const cache = new PagedCache<string>(100);
    cache.setPage(0, [], 0);
    expect(cache.missing({ start: 0, end: 100 })).toEqual([]);
    cache.invalidate();
    expect(cache.missing({ start: 0, end: 100 })).toEqual([0]);
    cache.setPage(0, ['run1'], 1);
    expect(cache.get(0)).toBe('run1');
  });

  it('handles 1,000 versions in 10 pages', () => {
    const cache = new PagedCache<string>(100);
    for (let offset = 0; offset < 1000; offset += 100) {
      cache.setPage(offset, page(offset, 100), 1000);
    }
    expect(cache.loadedCount).toBe(1000);
    expect(cache.get(999)).toBe('row999');
    expect(cache.missing({ start: 0, end: 1000 })).toEqual([]);
  });
});
