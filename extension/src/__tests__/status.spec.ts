import {
  classifyRun,
  classifyStep,
  jobHasReport,
  jobIsFinished,
  jobLabel,
  jobTitle,
  runIsLive,
  stepOpenTarget,
  sweepCounts,
  validatePromotion
} from '../core/status';

describe('step status', () => {
  it.each([
    ['CACHED', 'cached', null],
    ['SUCCEEDED', 'succeeded', null],
    ['RUNNING', 'running', null],
    ['PENDING', 'pending', null],
    ['FAILED', 'failed', 'CELL_ERROR'],
    ['TIMEOUT', 'failed', 'TIMEOUT'],
    ['KERNEL_DIED', 'failed', 'KERNEL_DIED'],
    ['STOPPED_EARLY', 'failed', 'STOPPED_EARLY'],
    ['weird', 'unknown', null]
  ])('%s is %s', (status, kind, failure) => {
    const info = classifyStep(status);
    expect(info.kind).toBe(kind);
    expect(info.failure).toBe(failure);
    expect(info.label.length).toBeGreaterThan(0);
  });

  it('labels failure classes readably', () => {
    expect(classifyStep('KERNEL_DIED').label).toBe('kernel died');
    expect(classifyStep('FAILED').label).toBe('cell error');
    expect(classifyStep('timeout').kind).toBe('failed');
  });

  it('opens failed steps at the failing cell only', () => {
    expect(stepOpenTarget({ notebook: 'runs/r1/train.ipynb', status: 'FAILED', failed_cell: 7 })).toEqual({
      path: 'runs/r1/train.ipynb',
      cell: 7
    });
    expect(stepOpenTarget({ notebook: 'a.ipynb', status: 'SUCCEEDED', failed_cell: 7 })).toEqual({ path: 'a.ipynb', cell: null });
    expect(stepOpenTarget({ notebook: 'a.ipynb', status: 'TIMEOUT', failed_cell: null })).toEqual({ path: 'a.ipynb', cell: null });
    expect(stepOpenTarget({ notebook: null, status: 'FAILED', failed_cell: 1 })).toBeNull();
  });
});

describe('run status', () => {
  it('classifies runs', () => {
    expect(classifyRun('running')).toBe('running');
    expect(classifyRun('succeeded')).toBe('succeeded');
    expect(classifyRun('failed')).toBe('failed');
    expect(classifyRun(undefined)).toBe('unknown');
  });

  it('polls while running', () => {
    expect(runIsLive({ status: 'running', steps: [] })).toBe(true);
    expect(runIsLive({ status: 'failed', steps: [{ status: 'PENDING' }] })).toBe(false);
    expect(runIsLive({ status: 'succeeded', steps: [{ status: 'CACHED' }] })).toBe(false);
    expect(runIsLive({ status: null, steps: [{ status: 'SUCCEEDED' }, { status: 'RUNNING' }] })).toBe(true);
    expect(runIsLive({ status: null, steps: [{ status: 'SUCCEEDED' }] })).toBe(false);
  });
});

describe('promotion', () => {
  it('requires a known stage and a reason', () => {
    expect(validatePromotion('production', 'beats v3 on AUC')).toBeNull();
    expect(validatePromotion('production', '   ')).toMatch(/reason is required/);
    expect(validatePromotion('prod', 'x')).toMatch(/stage must be one of production, staging, archived/);
  });
});

describe('jobs', () => {
  it('knows when a job is over and what to show', () => {
    expect(jobIsFinished({ state: 'done' })).toBe(true);
    expect(jobIsFinished({ state: 'error' })).toBe(true);
    expect(jobIsFinished({ state: 'running' })).toBe(false);
    expect(jobLabel({ state: 'running', progress: 0.421, message: 'chunk 3/7' })).toBe('42% · chunk 3/7');
    expect(jobLabel({ state: 'queued', progress: null, message: '' })).toBe('queued');
    expect(jobLabel({ state: 'running', progress: 7 })).toBe('100%');
    expect(jobLabel({ state: 'error', error: 'file not found: a.csv' })).toBe('failed: file not found: a.csv');
    expect(jobLabel({ state: 'done', message: '' })).toBe('done');
    expect(jobHasReport({ kind: 'profile', state: 'done' })).toBe(true);
    expect(jobHasReport({ kind: 'verify', state: 'done' })).toBe(false);
    expect(jobHasReport({ kind: 'drift', state: 'running' })).toBe(false);
    expect(jobHasReport({ kind: 'verify', state: 'done', has_report: true })).toBe(true);
    expect(jobHasReport({ kind: 'profile', state: 'done', has_report: false })).toBe(false);
    expect(jobTitle({ id: 'profile-1-ab12', kind: 'profile' })).toBe('Profile (profile-1-ab12)');
  });

  it('summarises sweep counters', () => {
    expect(sweepCounts({ complete: 12, running: 2, pruned: 3, failed: 0 })).toBe('12 done · 2 running · 3 pruned');
    expect(sweepCounts({})).toBe('0 done');
  });
});
