/** Geometry for small inline SVG line charts (pure, unit-tested; no chart library). */

export interface IChart {
  /** SVG path `d` attribute ('' when there is nothing to draw). */
  path: string;
  /** The plotted points in SVG coordinates. */
  points: Array<{ x: number; y: number; value: number; index: number }>;
  min: number | null;
  max: number | null;
}

/**
 * A polyline through the finite values of `values` (null/NaN are skipped, keeping their
 * x position), scaled into `width` × `height` with `pad` pixels of margin. The y axis
 * points up: larger values are drawn higher. Equal values draw a flat line in the middle.
 */
export function linePath(
  values: ReadonlyArray<number | null | undefined>,
  width: number,
  height: number,
  pad = 2
): IChart {
  const finite = values
    .map((value, index) => ({ value, index }))
    .filter((p): p is { value: number; index: number } => typeof p.value === 'number' && isFinite(p.value));
  if (!finite.length || width <= 0 || height <= 0) {
    return { path: '', points: [], min: null, max: null };
  }
  const min = Math.min(...finite.map(p => p.value));
  const max = Math.max(...finite.map(p => p.value));
  const innerW = Math.max(0, width - 2 * pad);
  const innerH = Math.max(0, height - 2 * pad);
  const n = values.length;
  const xOf = (index: number): number => (n <= 1 ? pad + innerW / 2 : pad + (innerW * index) / (n - 1));
  const yOf = (value: number): number =>
    max === min ? pad + innerH / 2 : pad + innerH * (1 - (value - min) / (max - min));
  const round = (v: number): number => Math.round(v * 100) / 100;
  const points = finite.map(p => ({ x: round(xOf(p.index)), y: round(yOf(p.value)), value: p.value, index: p.index }));
  const path = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x},${p.y}`).join(' ');
  return { path, points, min, max };
}

/**
 * Best-so-far series from trial values: for 'maximize' the running max, for 'minimize'
 * the running min; failed/pruned trials (null) carry the previous best.
 */
export function bestSoFar(
  values: ReadonlyArray<number | null | undefined>,
  direction: string = 'maximize'
): Array<number | null> {
  const minimize = String(direction).toLowerCase().startsWith('min');
  let best: number | null = null;
  return values.map(value => {
    if (typeof value === 'number' && isFinite(value)) {
      if (best === null || (minimize ? value < best : value > best)) {
        best = value;
      }
    }
    return best;
  });
}

/**
 * The series to chart for a sweep history: the server's `best_so_far` where given,
 * else computed from `value`, in trial-number order.
 */
export function sweepSeries(
  history: ReadonlyArray<{ number?: number; value?: number | null; best_so_far?: number | null; state?: string }>,
  direction = 'maximize'
): Array<number | null> {
  const sorted = [...history].sort((a, b) => (a.number ?? 0) - (b.number ?? 0));
  if (sorted.some(h => typeof h.best_so_far === 'number')) {
    let last: number | null = null;
    return sorted.map(h => {
      if (typeof h.best_so_far === 'number' && isFinite(h.best_so_far)) {
        last = h.best_so_far;
      }
      return last;
    });
  }
  return bestSoFar(
    sorted.map(h => (h.state && h.state.toUpperCase() !== 'COMPLETE' ? null : h.value ?? null)),
    direction
  );
}
