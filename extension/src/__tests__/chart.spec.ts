import { bestSoFar, linePath, sweepSeries } from '../core/chart';

describe('linePath', () => {
  it('scales values into the box, larger values higher', () => {
    const chart = linePath([0, 1, 2], 100, 20, 0);
    expect(chart.path).toBe('M0,20 L50,10 L100,0');
    expect(chart.min).toBe(0);
    expect(chart.max).toBe(2);
  });

  it('honours padding', () => {
    expect(linePath([1, 3], 24, 14, 2).path).toBe('M2,12 L22,2');
  });

  it('skips missing values but keeps their x position', () => {
    const chart = linePath([1, null, NaN, 4], 30, 10, 0);
    expect(chart.points.map(p => p.x)).toEqual([0, 30]);
    expect(chart.path).toBe('M0,10 L30,0');
  });

  it('draws flat and single-point series in the middle', () => {
    expect(linePath([5, 5], 10, 10, 0).path).toBe('M0,5 L10,5');
    expect(linePath([5], 10, 10, 0).path).toBe('M5,5');
  });

  it('returns nothing to draw for empty input', () => {
    expect(linePath([], 10, 10)).toEqual({ path: '', points: [], min: null, max: null });
    expect(linePath([null, undefined], 10, 10).path).toBe('');
    expect(linePath([1, 2], 0, 10).path).toBe('');
  });
});

describe('best so far', () => {
  it('keeps the running best in the sweep direction', () => {
    expect(bestSoFar([0.5, 0.4, null, 0.7, 0.6], 'maximize')).toEqual([0.5, 0.5, 0.5, 0.7, 0.7]);
    expect(bestSoFar([3, 4, 1, 2], 'minimize')).toEqual([3, 3, 1, 1]);
    expect(bestSoFar([null, 2])).toEqual([null, 2]);
  });

  it("prefers the server's best_so_far, in trial order", () => {
    const history = [
      { number: 1, state: 'COMPLETE', value: 0.6, best_so_far: 0.6 },
      { number: 0, state: 'COMPLETE', value: 0.5, best_so_far: 0.5 },
      { number: 2, state: 'PRUNED', value: null, best_so_far: null }
    ];
    expect(sweepSeries(history)).toEqual([0.5, 0.6, 0.6]);
  });

  it('computes the series from values when best_so_far is absent', () => {
    const history = [
      { number: 0, state: 'COMPLETE', value: 3 },
      { number: 1, state: 'FAIL', value: 0 },
      { number: 2, state: 'COMPLETE', value: 2 }
    ];
    expect(sweepSeries(history, 'minimize')).toEqual([3, 3, 2]);
  });
});
