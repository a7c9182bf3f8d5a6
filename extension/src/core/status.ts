/** Classification of run / step / job / stage states for display (pure, unit-tested). */

export type StepStatus =
  | 'CACHED'
  | 'SUCCEEDED'
  | 'FAILED'
  | 'TIMEOUT'
  | 'KERNEL_DIED'
  | 'STOPPED_EARLY'
  | 'RUNNING'
  | 'PENDING';

/** Broad kind used for colour and icon. */
export type StatusKind = 'cached' | 'succeeded' | 'failed' | 'running' | 'pending' | 'unknown';

export interface IStatusInfo {
  kind: StatusKind;
  /** Short text for the badge. */
  label: string;
  /** Failure class (TIMEOUT, KERNEL_DIED, STOPPED_EARLY, CELL_ERROR) when failed. */
  failure: string | null;
  /** Sentence for the tooltip. */
  title: string;
}

const FAILURE_TITLES: Record<string, string> = {
  TIMEOUT: 'the step ran past its time limit',
  KERNEL_DIED: 'the kernel died (out of memory or a crash)',
  STOPPED_EARLY: 'the step stopped early (the notebook asked to stop)',
  CELL_ERROR: 'a cell raised an error'
};

export function classifyStep(status: string | null | undefined): IStatusInfo {
  const s = String(status || '').toUpperCase();
  switch (s) {
    case 'CACHED':
      return { kind: 'cached', label: 'cached', failure: null, title: 'inputs unchanged: the cached output was reused' };
    case 'SUCCEEDED':
      return { kind: 'succeeded', label: 'succeeded', failure: null, title: 'ran and succeeded' };
    case 'RUNNING':
      return { kind: 'running', label: 'running', failure: null, title: 'running now' };
    case 'PENDING':
      return { kind: 'pending', label: 'pending', failure: null, title: 'waiting for earlier steps' };
    case 'FAILED':
      return { kind: 'failed', label: 'cell error', failure: 'CELL_ERROR', title: FAILURE_TITLES.CELL_ERROR };
    case 'TIMEOUT':
    case 'KERNEL_DIED':
    case 'STOPPED_EARLY':
      return {
        kind: 'failed',
        label: s.toLowerCase().replace('_', ' '),
        failure: s,
        title: FAILURE_TITLES[s]
      };
    default:
      return { kind: 'unknown', label: s ? s.toLowerCase() : 'unknown', failure: null, title: `status ${s || 'unknown'}` };
  }
}

export function classifyRun(status: string | null | undefined): StatusKind {
  const s = String(status || '').toLowerCase();
  if (s === 'running' || s === 'queued') {
    return 'running';
  }
  if (s === 'succeeded' || s === 'success' || s === 'done') {
    return 'succeeded';
  }
  if (s === 'failed' || s === 'error') {
    return 'failed';
  }
  return 'unknown';
}

/** Should the view keep polling this run? */
export function runIsLive(run: {
  status?: string | null;
  steps?: ReadonlyArray<{ status: string }>;
}): boolean {
  const kind = classifyRun(run.status);
  if (kind === 'running') {
    return true;
  }
  if (kind === 'succeeded' || kind === 'failed') {
    return false;
  }
  return (run.steps || []).some(step => {
    const stepKind = classifyStep(step.status).kind;
    return stepKind === 'running' || stepKind === 'pending';
  });
}

/** A step can be opened when it left an executed notebook. */
export function stepOpenTarget(step: {
  notebook?: string | null;
  status: string;
  failed_cell?: number | null;
}): { path: string; cell: number | null } | null {
  if (!step.notebook) {
    return null;
  }
  const failed = classifyStep(step.status).kind === 'failed';
  const cell =
    failed && typeof step.failed_cell === 'number' && step.failed_cell >= 0 ? step.failed_cell : null;
  return { path: step.notebook, cell };
}

export type Stage = 'production' | 'staging' | 'archived';
export const STAGES: Stage[] = ['production', 'staging', 'archived'];

export function stageLabel(stage: string | null | undefined): string {
  return stage ? String(stage).toLowerCase() : 'none';
}

export function isStage(value: string): value is Stage {
  return (STAGES as string[]).includes(value);
}

/** Validate the promote dialog; returns an error sentence or null. */
export function validatePromotion(stage: string, reason: string): string | null {
  if (!isStage(stage)) {
    return `stage must be one of ${STAGES.join(', ')}, got ${JSON.stringify(stage)}`;
  }
  if (!reason || !reason.trim()) {
    return 'a reason is required: it is recorded in the stage history';
  }
  return null;
}

export type JobState = 'queued' | 'running' | 'done' | 'error';

export function jobIsFinished(job: { state: string }): boolean {
  return job.state === 'done' || job.state === 'error';
}

/** `42%` when progress is known, else the state; plus the job's message. */
export function jobLabel(job: { state: string; progress?: number | null; message?: string | null; error?: string | null }): string {
  if (job.state === 'error') {
    return `failed: ${job.error || job.message || 'unknown error'}`;
  }
  if (job.state === 'done') {
    return job.message ? `done: ${job.message}` : 'done';
  }
  const pct =
    typeof job.progress === 'number' && isFinite(job.progress)
      ? `${Math.round(Math.min(1, Math.max(0, job.progress)) * 100)}%`
      : job.state;
  return job.message ? `${pct} · ${job.message}` : pct;
}

/** Jobs whose HTML report can be opened (`GET jobs/<id>/report`). */
export function jobHasReport(job: { kind: string; state: string; has_report?: boolean }): boolean {
  if (typeof job.has_report === 'boolean') {
    return job.has_report;
  }
  return job.state === 'done' && (job.kind === 'profile' || job.kind === 'validate' || job.kind === 'drift');
}

/** A label for a job the server knows but this page did not start: `Profile (profile-1-ab12)`. */
export function jobTitle(job: { id: string; kind: string }): string {
  const kind = job.kind ? job.kind.charAt(0).toUpperCase() + job.kind.slice(1) : 'Job';
  return `${kind} (${job.id})`;
}

/** Sweep trial counters as one line: `12 done · 2 running · 3 pruned · 1 failed`. */
export function sweepCounts(s: { trials?: number; complete?: number; running?: number; pruned?: number; failed?: number }): string {
  const parts = [`${s.complete ?? 0} done`];
  if (s.running) {
    parts.push(`${s.running} running`);
  }
  if (s.pruned) {
    parts.push(`${s.pruned} pruned`);
  }
  if (s.failed) {
    parts.push(`${s.failed} failed`);
  }
  return parts.join(' · ');
}
