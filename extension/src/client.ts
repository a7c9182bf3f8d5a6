/**
 * HTTP client of the mlbench server extension. Every request goes through
 * `ServerConnection.makeRequest` (token + XSRF) to `<baseUrl>/mlbench/api/...`.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { IConfigBody } from './core/config';
import {
  IConfig,
  IJob,
  IModelDetail,
  IModelItem,
  IMonitor,
  IPage,
  IRunDetail,
  IRunItem,
  IServing,
  IStageChange,
  IStatus,
  ISweepDetail,
  ISweepItem
} from './core/types';
import { API_NAMESPACE, QueryValue, encodeSegments, buildQuery, errorMessage, pageQuery } from './core/url';

/** A failed request, carrying the server's `error` sentence. */
export class MlbenchError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
    this.name = 'MlbenchError';
  }
}

/** Text of any thrown value, for the panel's error boxes. */
export function describeError(error: unknown): string {
  if (error instanceof MlbenchError) {
    return error.message;
  }
  if (error instanceof Error) {
    return error.message || String(error);
  }
  return String(error);
}

export class MlbenchClient {
  constructor(readonly serverSettings: ServerConnection.ISettings = ServerConnection.makeSettings()) {}

  /** Full URL of an endpoint. */
  url(parts: ReadonlyArray<string | number>, query?: Record<string, QueryValue>): string {
    return URLExt.join(this.serverSettings.baseUrl, API_NAMESPACE, ...encodeSegments(parts)) + buildQuery(query);
  }

  async request(
    method: string,
    parts: ReadonlyArray<string | number>,
    query?: Record<string, QueryValue>,
    body?: unknown
  ): Promise<Response> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'Content-Type': 'application/json' };
    }
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(this.url(parts, query), init, this.serverSettings);
    } catch (error) {
      throw new MlbenchError(`cannot reach the Jupyter server: ${describeError(error)}`, 0);
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      throw new MlbenchError(errorMessage(response.status, text, response.statusText), response.status);
    }
    return response;
  }

  async json<T>(
    method: string,
    parts: ReadonlyArray<string | number>,
    query?: Record<string, QueryValue>,
    body?: unknown
  ): Promise<T> {
    const response = await this.request(method, parts, query, body);
    const text = await response.text();
    try {
      return (text ? JSON.parse(text) : {}) as T;
    } catch {
      throw new MlbenchError(`the server answered ${parts.join('/')} with something that is not JSON`, response.status);
    }
  }

  /** An HTML report as text (to be shown in a sandboxed iframe). */
  async html(parts: ReadonlyArray<string | number>, query?: Record<string, QueryValue>): Promise<string> {
    const response = await this.request('GET', parts, query);
    return response.text();
  }

  // status and configuration
  status(): Promise<IStatus> {
    return this.json('GET', ['status']);
  }
  config(): Promise<IConfig> {
    return this.json('GET', ['config']);
  }
  setConfig(body: Partial<IConfigBody>): Promise<IConfig> {
    return this.json('POST', ['config'], undefined, body);
  }

  // models
  models(offset: number, limit: number, name?: string): Promise<IPage<IModelItem>> {
    return this.json('GET', ['models'], { ...pageQuery(offset, limit), name });
  }
  model(name: string, version: string): Promise<IModelDetail> {
    return this.json('GET', ['models', name, version]);
  }
  promote(name: string, version: string, stage: string, reason: string): Promise<{ tag: string; stage: string; history: IStageChange[] }> {
    return this.json('POST', ['models', name, version, 'promote'], undefined, { stage, reason });
  }
  serve(name: string, version: string, port?: number): Promise<IServing> {
    return this.json('POST', ['models', name, version, 'serve'], undefined, port ? { port } : {});
  }
  serving(name: string, version: string): Promise<IServing | { serving: null }> {
    return this.json('GET', ['models', name, version, 'serve']);
  }
  stopServing(name: string, version: string): Promise<{ stopped: boolean }> {
    return this.json('DELETE', ['models', name, version, 'serve']);
  }
  verify(name: string, version: string): Promise<IJob> {
    return this.json('POST', ['models', name, version, 'verify'], undefined, {});
  }

  // runs
  runs(offset: number, limit: number): Promise<IPage<IRunItem>> {
    return this.json('GET', ['runs'], pageQuery(offset, limit));
  }
  run(runId: string): Promise<IRunDetail> {
    return this.json('GET', ['runs', runId]);
  }
  startRun(pipeline: string, options: { force?: boolean; resume?: string | null; params?: Record<string, unknown> } = {}): Promise<IJob> {
    return this.json('POST', ['runs'], undefined, {
      pipeline,
      force: !!options.force,
      resume: options.resume ?? null,
      params: options.params ?? {}
    });
  }

  // sweeps
  sweeps(offset: number, limit: number): Promise<IPage<ISweepItem>> {
    return this.json('GET', ['sweeps'], pageQuery(offset, limit));
  }
  sweep(name: string): Promise<ISweepDetail> {
    return this.json('GET', ['sweeps', name]);
  }

  // monitor
  monitor(): Promise<IMonitor> {
    return this.json('GET', ['monitor']);
  }
  ackAlerts(body: { ids: Array<string | number> } | { all: true; model?: string }): Promise<{ acknowledged: number }> {
    return this.json('POST', ['monitor', 'alerts', 'ack'], undefined, body);
  }
  dashboard(model: string): Promise<string> {
    return this.html(['monitor', 'dashboard'], { model });
  }

  // data actions
  profile(path: string): Promise<IJob> {
    return this.json('POST', ['profile'], undefined, { path });
  }
  validate(path: string, suite: string): Promise<IJob> {
    return this.json('POST', ['validate'], undefined, { path, suite });
  }
  drift(reference: string, current: string): Promise<IJob> {
    return this.json('POST', ['drift'], undefined, { reference, current });
  }
  newPipeline(dir: string): Promise<{ pipeline: string }> {
    return this.json('POST', ['pipeline', 'new'], undefined, { dir });
  }
  report(path: string): Promise<string> {
    return this.html(['report'], { path });
  }

  // jobs
  jobs(): Promise<IJob[] | IPage<IJob>> {
    return this.json('GET', ['jobs']);
  }
  job(id: string): Promise<IJob> {
    return this.json('GET', ['jobs', id]);
  }
  jobReport(id: string): Promise<string> {
    return this.html(['jobs', id, 'report']);
  }
}
