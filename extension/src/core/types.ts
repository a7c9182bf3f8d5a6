/** Shapes of the mlbench REST API responses (see extension/API.md). */

export interface IPage<T> {
  items: T[];
  total: number;
  offset: number;
  limit: number;
  error?: string | null;
}

export interface IStatus {
  version: string;
  root_dir: string;
  config: Record<string, unknown>;
  jobs_running: number;
}

export interface IConfig {
  model_store: string;
  monitor_store: string | null;
  runs_root: string;
  ledger: string | null;
  sweep_storage: string | null;
}

export interface IMetric {
  name: string;
  value: number | null;
}

export interface IModelItem {
  tag: string;
  name: string;
  version: string;
  stage: string | null;
  metric: IMetric | null;
  created: string;
}

export interface IStageChange {
  from: string | null;
  to: string | null;
  who?: string | null;
  at?: string | null;
  reason?: string | null;
}

export interface IGateCondition {
  name: string;
  status: string;
  reason?: string | null;
}

export interface IServing {
  url: string;
  pid?: number | null;
  healthy: boolean;
}

export interface IModelDetail {
  tag: string;
  name: string;
  version: string;
  stage: string | null;
  created: string;
  metrics: Record<string, unknown>;
  lineage: Record<string, unknown>;
  history: IStageChange[];
  gate: { passed: boolean; conditions: IGateCondition[] } | null;
  serving: IServing | null;
}

export interface IRunItem {
  run_id: string;
  pipeline: string;
  started: string;
  status: string;
  failed_step: string | null;
  trigger: string | null;
  folder: string;
}

export interface IStep {
  step: string;
  status: string;
  cache_hit: boolean;
  duration_s: number | null;
  notebook: string | null;
  failed_cell: number | null;
  error: string | null;
}

export interface IRunDetail {
  run_id: string;
  pipeline: string;
  status: string;
  started?: string;
  steps: IStep[];
}

export interface ISweepItem {
  name: string;
  storage: string;
  trials: number;
  complete: number;
  running: number;
  pruned: number;
  failed: number;
  best_score: number | null;
  direction: string;
}

export interface ITrialPoint {
  number: number;
  state: string;
  value: number | null;
  best_so_far: number | null;
  datetime_complete: string | null;
}

export interface ISweepDetail extends ISweepItem {
  best_params: Record<string, unknown>;
  history: ITrialPoint[];
}

export interface IMonitorWindow {
  window: string;
  requests: number;
  p99_ms: number | null;
  drifted_share: number | null;
  errors: number;
}

export interface IMonitorModel {
  model: string;
  latest: IMonitorWindow | null;
  alerts: number;
}

export interface IMonitor {
  models: IMonitorModel[];
  alerts_total: number;
  error: string | null;
}

export interface IJob {
  id: string;
  kind: string;
  state: 'queued' | 'running' | 'done' | 'error' | string;
  progress: number | null;
  message: string;
  result: Record<string, unknown> | null;
  error: string | null;
  started: string;
  finished: string | null;
  /** Set by the server when `GET jobs/<id>/report` has HTML. */
  has_report?: boolean;
}
