/**
 * Which cell of an executed step notebook to reveal (pure, unit-tested).
 *
 * The runner records `failed_cell` as the index in the *source* notebook; the executed
 * notebook papermill wrote has extra cells: the `injected-parameters` cell after the
 * parameters cell and `papermill-error-cell-tag` markdown banners (one at the top, one
 * before the failing cell). So: map the source index over those extra cells, and prefer
 * the cell that holds an error output (TIMEOUT and KERNEL_DIED get one from the runner too).
 */

export interface ICellInfo {
  tags: ReadonlyArray<string>;
  /** The cell has an `error` output. */
  hasError: boolean;
}

export const INSERTED_TAGS = ['injected-parameters', 'papermill-error-cell-tag'];

function inserted(cell: ICellInfo): boolean {
  return cell.tags.some(tag => INSERTED_TAGS.includes(tag));
}

/** Index in the executed notebook of the cell at `sourceIndex` in the source notebook. */
export function executedIndex(cells: ReadonlyArray<ICellInfo>, sourceIndex: number): number | null {
  let seen = -1;
  for (let i = 0; i < cells.length; i++) {
    if (inserted(cells[i])) {
      continue;
    }
    seen += 1;
    if (seen === sourceIndex) {
      return i;
    }
  }
  return null;
}

/** The cell to make active: the mapped failing cell, else the (last) cell with an error. */
export function failingCellIndex(cells: ReadonlyArray<ICellInfo>, sourceIndex: number | null): number | null {
  const mapped = sourceIndex !== null && sourceIndex >= 0 ? executedIndex(cells, sourceIndex) : null;
  if (mapped !== null && cells[mapped].hasError) {
    return mapped;
  }
  for (let i = cells.length - 1; i >= 0; i--) {
    if (cells[i].hasError) {
      return i;
    }
  }
  if (mapped !== null) {
    return mapped;
  }
  return sourceIndex !== null && sourceIndex >= 0 && cells.length ? Math.min(sourceIndex, cells.length - 1) : null;
}
