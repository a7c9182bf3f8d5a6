/** Small React hooks shared by the sidebar sections. */
import { ISignal } from '@lumino/signaling';
import { useCallback, useEffect, useRef, useState } from 'react';

import { describeError } from '../client';
import { IRange, PagedCache } from '../core/paging';
import { IPage } from '../core/types';

/** Re-render whenever `signal` fires. */
export function useSignal<T>(signal: ISignal<T, any> | null | undefined): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!signal) {
      return;
    }
    const bump = (): void => setTick(t => t + 1);
    signal.connect(bump);
    return () => {
      signal.disconnect(bump);
    };
  }, [signal]);
  return tick;
}

/** Call `callback` every `ms` while `enabled` (skipped while the browser tab is hidden). */
export function useInterval(callback: () => void, ms: number, enabled = true): void {
  const saved = useRef(callback);
  saved.current = callback;
  useEffect(() => {
    if (!enabled || ms <= 0) {
      return;
    }
    const id = setInterval(() => {
      if (typeof document !== 'undefined' && document.hidden) {
        return;
      }
      saved.current();
    }, ms);
    return () => clearInterval(id);
  }, [ms, enabled]);
}

/** Call `refresh` each time the section's refresh button bumps `refreshCount` (not on the first render). */
export function useRefreshButton(refreshCount: number, refresh: () => void): void {
  useEffect(() => {
    if (refreshCount > 0) {
      refresh();
    }
  }, [refreshCount, refresh]);
}

/** Run `load` when `deps` change; returns data, error and a reload function. */
export function useLoad<T>(
  load: () => Promise<T>,
  deps: ReadonlyArray<unknown>
): { data: T | null; error: string | null; loading: boolean; reload: () => Promise<void> } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const loadRef = useRef(load);
  loadRef.current = load;
  const seq = useRef(0);
  const reload = useCallback(async () => {
    const mine = ++seq.current;
    setLoading(true);
    try {
      const value = await loadRef.current();
      if (mine === seq.current) {
        setData(value);
        setError(null);
      }
    } catch (err) {
      if (mine === seq.current) {
        setError(describeError(err));
      }
    } finally {
      if (mine === seq.current) {
        setLoading(false);
      }
    }
  }, []);
  useEffect(() => {
    setData(null);
    void reload();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return { data, error, loading, reload };
}

export interface IPagedList<T> {
  cache: PagedCache<T>;
  /** Total rows (null until the first page). */
  total: number | null;
  /** The request failed (4xx/5xx, network): shown as an error. */
  error: string | null;
  /** The server answered but flagged the section (`"error"` in a 200 page: no store yet, corrupt store). */
  note: string | null;
  /** The view reports the rows it shows; missing pages are fetched. */
  setRange: (range: IRange) => void;
  /** Soft refresh (keep rows on screen, refetch the pages in view). */
  refresh: () => void;
  version: number;
}

/** A paginated endpoint behind a virtual list; `key` change (e.g. a filter) resets it. */
export function usePagedList<T>(
  fetchPage: (offset: number, limit: number) => Promise<IPage<T>>,
  key: string,
  pageSize = 100
): IPagedList<T> {
  const cacheRef = useRef<PagedCache<T>>(new PagedCache<T>(pageSize));
  const fetchRef = useRef(fetchPage);
  fetchRef.current = fetchPage;
  const rangeRef = useRef<IRange>({ start: 0, end: pageSize });
  const [version, setVersion] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  const fetchMissing = useCallback(() => {
    const cache = cacheRef.current;
    for (const offset of cache.missing(rangeRef.current)) {
      const generation = cache.markPending(offset);
      fetchRef.current(offset, cache.pageSize).then(
        page => {
          const items = Array.isArray(page && page.items) ? page.items : [];
          const total = typeof page.total === 'number' ? page.total : items.length;
          if (cache.setPage(offset, items, total, generation) && mounted.current) {
            setError(null);
            setNote(page.error ? String(page.error) : null);
            setVersion(v => v + 1);
          }
        },
        err => {
          cache.failPage(offset, generation);
          if (mounted.current) {
            setError(describeError(err));
            setVersion(v => v + 1);
          }
        }
      );
    }
  }, []);

  useEffect(() => {
    cacheRef.current.reset();
    setError(null);
    setNote(null);
    setVersion(v => v + 1);
    fetchMissing();
  }, [key, fetchMissing]);

  const setRange = useCallback(
    (range: IRange) => {
      rangeRef.current = range;
      fetchMissing();
    },
    [fetchMissing]
  );

  const refresh = useCallback(() => {
    cacheRef.current.invalidate();
    fetchMissing();
  }, [fetchMissing]);

  return { cache: cacheRef.current, total: cacheRef.current.total, error, note, setRange, refresh, version };
}
