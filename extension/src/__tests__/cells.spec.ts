import { executedIndex, failingCellIndex } from '../core/cells';

const c = (tags: string[] = [], hasError = false) => ({ tags, hasError });

// what papermill wrote for a source notebook [params, a, b, c, raise, never]
const executed = [
  c(['papermill-error-cell-tag']), // 0 banner
  c(['parameters']), // 1  source 0
  c(['injected-parameters']), // 2
  c(), // 3  source 1
  c(), // 4  source 2
  c(), // 5  source 3
  c(['papermill-error-cell-tag']), // 6 banner
  c([], true), // 7  source 4: the failing cell
  c() // 8  source 5
];

describe('failing cell of an executed notebook', () => {
  it('maps source indices over injected and banner cells', () => {
    expect(executedIndex(executed, 0)).toBe(1);
    expect(executedIndex(executed, 1)).toBe(3);
    expect(executedIndex(executed, 4)).toBe(7);
    expect(executedIndex(executed, 5)).toBe(8);
    expect(executedIndex(executed, 6)).toBeNull();
  });

  it('lands on the cell with the error', () => {
    expect(failingCellIndex(executed, 4)).toBe(7);
    // a wrong or missing index still finds the error output
    expect(failingCellIndex(executed, 2)).toBe(7);
    expect(failingCellIndex(executed, null)).toBe(7);
  });

  it('falls back to the mapped index, then the raw one, when no cell has an error', () => {
    const plain = [c(['parameters']), c(['injected-parameters']), c(), c()];
    expect(failingCellIndex(plain, 2)).toBe(3);
    expect(failingCellIndex(plain, 9)).toBe(3);
    expect(failingCellIndex(plain, null)).toBeNull();
    expect(failingCellIndex([], 3)).toBeNull();
  });
});
