/**
 * Windowed (virtual) lists over paginated endpoints (pure, unit-tested).
 *
 * A list shows `total` rows of a fixed height; only the rows in view (plus overscan) are
 * rendered, and only the pages under them are fetched (`?offset&limit`). 1,000 model
 * versions therefore cost a handful of DOM rows and a page or two of JSON.
 */

export interface IRange {
  /** First row index (inclusive). */
  start: number;
  /** Last row index (exclusive). */
  end: number;
}

/** Rows in view for a scroll position, widened by `overscan` rows on each side. */
export function visibleRange(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  total: number,
  overscan = 5
): IRange {
  if (total <= 0 || rowHeight <= 0) {
    return { start: 0, end: 0 };
  }
  const top = Math.max(0, scrollTop);
  const first = Math.floor(top / rowHeight);
  const count = Math.ceil(Math.max(viewportHeight, rowHeight) / rowHeight) + 1;
  const start = Math.max(0, Math.min(total, first) - overscan);
  const end = Math.min(total, first + count + overscan);
  return { start: Math.min(start, end), end };
}

/** Offsets of the pages (of `pageSize` rows) that a range touches. */
export function pagesFor(range: IRange, pageSize: number): number[] {
  if (range.end <= range.start || pageSize <= 0) {
    return [];
  }
  const first = Math.floor(range.start / pageSize);
  const last = Math.floor((range.end - 1) / pageSize);
  const out: number[] = [];
  for (let page = first; page <= last; page++) {
    out.push(page * pageSize);
  }
  return out;
}

/** A paginated list as loaded so far: pages by offset, the total, a generation counter. */
export class PagedCache<T> {
  constructor(readonly pageSize = 100) {}

  /** Total rows reported by the server (null until the first page arrives). */
  get total(): number | null {
    return this._total;
  }

  /** Bumped by `reset`; a page fetched under an older generation is dropped. */
  get generation(): number {
    return this._generation;
  }

  get loadedCount(): number {
    let n = 0;
    this._pages.forEach(items => (n += items.length));
    return n;
  }

  /** Row `index`, or undefined when its page isn't loaded. */
  get(index: number): T | undefined {
    const offset = Math.floor(index / this.pageSize) * this.pageSize;
    const page = this._pages.get(offset);
    return page ? page[index - offset] : undefined;
  }

  /** Page offsets under `range` that are neither loaded nor being loaded. */
  missing(range: IRange): number[] {
    const total = this._total;
    const limited = total === null ? range : { start: range.start, end: Math.min(range.end, total) };
    // an empty range (or an empty list) still needs page 0: it tells the total
    const wanted = limited.end <= limited.start ? [0] : pagesFor(limited, this.pageSize);
    return wanted.filter(
      offset => (!this._pages.has(offset) || this._stale.has(offset)) && !this._pending.has(offset)
    );
  }

  /** Mark a page as requested (so a scroll doesn't request it twice). */
  markPending(offset: number): number {
    this._pending.add(offset);
    return this._generation;
  }

  /** Store a page; ignored when the cache was reset since it was requested. */
  setPage(offset: number, items: T[], total: number, generation = this._generation): boolean {
    if (generation !== this._generation) {
      return false;
    }
    this._pending.delete(offset);
    this._stale.delete(offset);
    this._pages.set(offset, items);
    if (this._total !== total) {
      this._total = total;
      // rows beyond the new total are gone
      this._pages.forEach((_, key) => {
        if (key >= total && key !== 0) {
          this._pages.delete(key);
        }
      });
    }
    return true;
  }

  /** A page failed: allow it to be requested again. */
  failPage(offset: number, generation = this._generation): void {
    if (generation === this._generation) {
      this._pending.delete(offset);
    }
  }

  /** Forget everything (new filter, refresh). */
  reset(): void {
    this._pages.clear();
    this._pending.clear();
    this._stale.clear();
    this._total = null;
    this._generation += 1;
  }

  /**
   * Soft refresh: keep showing the rows, but treat every loaded page as stale so that the
   * pages in view are fetched again (and the others when they scroll into view).
   */
  invalidate(): void {
    this._pages.forEach((_, offset) => this._stale.add(offset));
    this._pending.clear();
    this._generation += 1;
  }

  /** Is any loaded row matching `predicate` (e.g. a run still running)? */
  some(predicate: (item: T) => boolean): boolean {
    for (const items of this._pages.values()) {
      if (items.some(predicate)) {
        return true;
      }
    }
    return false;
  }

  private _pages = new Map<number, T[]>();
  private _pending = new Set<number>();
  private _stale = new Set<number>();
  private _total: number | null = null;
  private _generation = 0;
}
