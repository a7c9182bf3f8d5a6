/**
 * Shared state of the extension: settings, tracked jobs and the monitor summary (used by
 * both the sidebar and the status bar). Plain classes with Lumino signals.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { MlbenchClient, describeError } from './client';
import { DEFAULT_SETTINGS, IMlbenchSettings, refreshMs } from './core/config';
import { jobIsFinished, jobTitle } from './core/status';
import { IJob, IMonitor } from './core/types';

export class SettingsModel {
  get changed(): ISignal<this, IMlbenchSettings> {
    return this._changed;
  }
  get value(): IMlbenchSettings {
    return this._value;
  }
  /** Poll period in ms derived from `refreshInterval`. */
  get pollMs(): number {
    return refreshMs(this._value);
  }
  set(value: IMlbenchSettings): void {
    this._value = value;
    this._changed.emit(value);
  }
  private _value: IMlbenchSettings = { ...DEFAULT_SETTINGS };
  private _changed = new Signal<this, IMlbenchSettings>(this);
}

/** A job this front end started (or saw in `GET jobs`), with what to do when it ends. */
export interface ITrackedJob {
  key: string;
  label: string;
  job: IJob;
  /** Set when the request that should have started the job failed. */
  requestError?: string;
  onDone?: (job: IJob) => void;
}

const JOB_POLL_MS = 1000;

export class JobsModel {
  constructor(private readonly _client: MlbenchClient) {}

  get changed(): ISignal<this, void> {
    return this._changed;
  }
  /** A job was started (or failed to start) from this page. */
  get started(): ISignal<this, ITrackedJob> {
    return this._started;
  }
  /** Newest first. */
  get jobs(): ReadonlyArray<ITrackedJob> {
    return this._jobs;
  }
  get running(): number {
    return this._jobs.filter(j => !j.requestError && !jobIsFinished(j.job)).length;
  }

  /** Follow a job returned by a POST until it is done or failed. */
  track(job: IJob, label: string, onDone?: (job: IJob) => void): ITrackedJob {
    const existing = this._jobs.find(j => j.job.id === job.id);
    const entry: ITrackedJob = existing || { key: `job-${job.id}`, label, job, onDone };
    entry.job = job;
    entry.label = label;
    entry.onDone = onDone;
    if (!existing) {
      this._jobs.unshift(entry);
    }
    this._trim();
    this._changed.emit();
    this._started.emit(entry);
    this._finishIfDone(entry);
    this._schedule();
    return entry;
  }

  /** Record an action whose request failed before any job existed. */
  fail(label: string, error: unknown): ITrackedJob {
    const message = describeError(error);
    const entry: ITrackedJob = {
      key: `failed-${++this._seq}`,
      label,
      requestError: message,
      job: {
        id: '',
        kind: 'request',
        state: 'error',
        progress: null,
        message: '',
        result: null,
        error: message,
        started: new Date().toISOString(),
        finished: new Date().toISOString()
      }
    };
    this._jobs.unshift(entry);
    this._trim();
    this._changed.emit();
    this._started.emit(entry);
    return entry;
  }

  /** Merge the server's recent jobs (started from other tabs or before a reload). */
  async loadRecent(): Promise<void> {
    const answer = await this._client.jobs();
    const list = Array.isArray(answer) ? answer : answer.items || [];
    let added = false;
    for (const job of list) {
      if (!job || !job.id || this._jobs.some(j => j.job.id === job.id)) {
        continue;
      }
      this._jobs.push({ key: `job-${job.id}`, label: jobTitle(job), job });
      added = true;
    }
    if (added) {
      this._jobs.sort((a, b) => String(b.job.started).localeCompare(String(a.job.started)));
      this._trim();
      this._changed.emit();
      this._schedule();
    }
  }

  dismiss(key: string): void {
    this._jobs = this._jobs.filter(j => j.key !== key);
    this._changed.emit();
  }

  clearFinished(): void {
    this._jobs = this._jobs.filter(j => !j.requestError && !jobIsFinished(j.job));
    this._changed.emit();
  }

  dispose(): void {
    this._disposed = true;
    if (this._timer !== null) {
      clearTimeout(this._timer);
    }
    Signal.clearData(this);
  }

  private _trim(): void {
    if (this._jobs.length > 50) {
      this._jobs = this._jobs.slice(0, 50);
    }
  }

  private _finishIfDone(entry: ITrackedJob): void {
    if (jobIsFinished(entry.job) && entry.onDone) {
      const callback = entry.onDone;
      entry.onDone = undefined;
      try {
        callback(entry.job);
      } catch (error) {
        console.error('mlbench: job callback failed', error);
      }
    }
  }

  private _schedule(): void {
    if (this._timer !== null || this._disposed) {
      return;
    }
    if (!this._jobs.some(j => !j.requestError && !jobIsFinished(j.job))) {
      return;
    }
    this._timer = setTimeout(() => {
      this._timer = null;
      void this._pollOnce().then(() => this._schedule());
    }, JOB_POLL_MS);
  }

  private async _pollOnce(): Promise<void> {
    const live = this._jobs.filter(j => !j.requestError && !jobIsFinished(j.job));
    await Promise.all(
      live.map(async entry => {
        try {
          entry.job = await this._client.job(entry.job.id);
        } catch (error) {
          entry.job = {
            ...entry.job,
            state: 'error',
            error: `lost track of the job: ${describeError(error)}`
          };
        }
        this._finishIfDone(entry);
      })
    );
    if (live.length) {
      this._changed.emit();
    }
  }

  private _jobs: ITrackedJob[] = [];
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _seq = 0;
  private _disposed = false;
  private _changed = new Signal<this, void>(this);
  private _started = new Signal<this, ITrackedJob>(this);
}

/** `GET monitor`, polled at the refresh interval: feeds the Monitor section and status bar. */
export class MonitorModel {
  constructor(
    private readonly _client: MlbenchClient,
    private readonly _settings: SettingsModel
  ) {
    _settings.changed.connect(() => this._restart());
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }
  get data(): IMonitor | null {
    return this._data;
  }
  /** The request failed, or the server flagged the monitor store (`error` in the answer). */
  get error(): string | null {
    return this._error;
  }
  /** Only request failures (network, 4xx): no data to show at all. */
  get requestError(): string | null {
    return this._requestError;
  }
  get loading(): boolean {
    return this._loading;
  }
  /** Unacknowledged alerts (0 while unknown). */
  get alerts(): number {
    return this._data ? Number(this._data.alerts_total) || 0 : 0;
  }

  start(): void {
    this._started = true;
    void this.refresh();
  }

  async refresh(): Promise<void> {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    this._loading = true;
    try {
      this._data = await this._client.monitor();
      this._error = this._data && this._data.error ? this._data.error : null;
      this._requestError = null;
    } catch (error) {
      this._error = this._requestError = describeError(error);
    } finally {
      this._loading = false;
      this._changed.emit();
      this._schedule();
    }
  }

  dispose(): void {
    this._disposed = true;
    if (this._timer !== null) {
      clearTimeout(this._timer);
    }
    Signal.clearData(this);
  }

  private _restart(): void {
    if (this._started) {
      void this.refresh();
    }
  }

  private _schedule(): void {
    if (this._disposed || !this._started || this._timer !== null) {
      return;
    }
    this._timer = setTimeout(() => {
      this._timer = null;
      if (typeof document !== 'undefined' && document.hidden) {
        this._schedule();
        return;
      }
      void this.refresh();
    }, this._settings.pollMs);
  }

  private _data: IMonitor | null = null;
  private _error: string | null = null;
  private _requestError: string | null = null;
  private _loading = false;
  private _started = false;
  private _disposed = false;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _changed = new Signal<this, void>(this);
}
