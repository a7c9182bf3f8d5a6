/** Runs section: pipeline runs (virtual list), a run's steps, polled live while running. */
import React, { useCallback, useState } from 'react';

import { formatAgo, formatDuration, formatTimestamp } from '../core/format';
import { classifyRun, classifyStep, runIsLive, stepOpenTarget } from '../core/status';
import { IRunDetail, IRunItem } from '../core/types';
import { BackBar, Empty, ErrorBox, Warning, Loading, StatusBadge, StepBadge, VirtualList } from './common';
import { CommandIDs, IMlbenchApp } from './context';
import { useInterval, useLoad, usePagedList, useRefreshButton, useSignal } from './hooks';

const ROW_HEIGHT = 44;
const LIVE_MS = 2000;

export function RunsView(props: { app: IMlbenchApp; refreshCount: number; visible: () => boolean }): JSX.Element {
  const { app } = props;
  const [selected, setSelected] = useState<IRunItem | null>(null);
  useSignal(app.settings.changed);
  useSignal(app.jobs.changed);

  const fetchPage = useCallback((offset: number, limit: number) => app.client.runs(offset, limit), [app]);
  const list = usePagedList<IRunItem>(fetchPage, `runs:${JSON.stringify(app.settings.value)}`, 100);
  const { refresh } = list;
  useRefreshButton(props.refreshCount, refresh);
  // poll fast while a run in the list (or a run job) is running
  const live = list.cache.some(r => classifyRun(r.status) === 'running') || app.jobs.jobs.some(j => j.job.kind === 'run' && (j.job.state === 'running' || j.job.state === 'queued'));
  useInterval(() => props.visible() && !selected && refresh(), live ? LIVE_MS : app.settings.pollMs);

  if (selected) {
    return (
      <RunDetailView
        app={app}
        item={selected}
        refreshCount={props.refreshCount}
        onBack={() => {
          setSelected(null);
          refresh();
        }}
      />
    );
  }
  const total = list.total;
  return (
    <div className="mlbench-body">
      <div className="mlbench-filter">
        <button className="jp-mod-styled mlbench-button" data-testid="mlbench-run-pipeline" onClick={() => void app.commands.execute(CommandIDs.runPipeline, { ask: true })}>
          Run pipeline…
        </button>
        {total !== null && <span className="mlbench-count">{total} runs</span>}
      </div>
      <ErrorBox message={list.error} onRetry={refresh} />
      {total === null && !list.error && <Loading what="runs" />}
      {!!total && <Warning message={list.note} />}
      {total === 0 && !list.error && (
        <Empty note={list.note}>
          No pipeline runs yet. Create one with the Launcher’s <strong>New mlbench pipeline</strong>, then right-click its{' '}
          <code>pipeline.yaml</code> → <strong>Run pipeline</strong> (or <code>mlbench run pipeline.yaml</code> in a
          terminal). Runs are read from Settings → mlbench → runsRoot.
        </Empty>
      )}
      {!!total && (
        <VirtualList
          total={total}
          rowHeight={ROW_HEIGHT}
          onRange={list.setRange}
          testId="mlbench-run-list"
          renderRow={index => {
            const run = list.cache.get(index);
            if (!run) {
              return <div className="mlbench-row mlbench-row-placeholder">…</div>;
            }
            const kind = classifyRun(run.status);
            return (
              <div
                className="mlbench-row mlbench-row-2 mlbench-run-row"
                data-testid="mlbench-run-row"
                data-run-id={run.run_id}
                data-status={run.status}
                role="button"
                tabIndex={0}
                onClick={() => setSelected(run)}
                onKeyDown={e => (e.key === 'Enter' ? setSelected(run) : undefined)}
                title={`${run.run_id}\nstarted ${formatTimestamp(run.started)}\n${run.folder || ''}`}
              >
                <div className="mlbench-line">
                  <span className="mlbench-run-pipeline">{run.pipeline}</span>
                  <StatusBadge kind={kind} label={String(run.status || 'unknown')} />
                </div>
                <div className="mlbench-line mlbench-muted">
                  <span>{formatAgo(run.started)}</span>
                  {run.trigger && <span>· {run.trigger}</span>}
                  {run.failed_step && <span className="mlbench-bad">· failed at {run.failed_step}</span>}
                  <span className="mlbench-run-id">{run.run_id}</span>
                </div>
              </div>
            );
          }}
        />
      )}
    </div>
  );
}

function RunDetailView(props: { app: IMlbenchApp; item: IRunItem; refreshCount: number; onBack: () => void }): JSX.Element {
  const { app, item } = props;
  const detail = useLoad<IRunDetail>(() => app.client.run(item.run_id), [item.run_id, props.refreshCount]);
  const [openError, setOpenError] = useState<string | null>(null);
  const d = detail.data;
  const live = d ? runIsLive(d) : classifyRun(item.status) === 'running';
  useInterval(() => void detail.reload(), LIVE_MS, live);

  const status = d ? d.status : item.status;
  const failed = classifyRun(status) === 'failed';
  const pipeline = (d && d.pipeline) || item.pipeline;
  const totalSeconds = d ? d.steps.reduce((sum, s) => sum + (typeof s.duration_s === 'number' ? s.duration_s : 0), 0) : null;

  return (
    <div className="mlbench-body mlbench-detail" data-testid="mlbench-run-detail" data-run-id={item.run_id} data-status={status}>
      <BackBar onBack={props.onBack}>
        <span className="mlbench-detail-title">{pipeline}</span>{' '}
        <StatusBadge kind={classifyRun(status)} label={String(status)} />
        {live && <span className="mlbench-muted"> live</span>}
      </BackBar>
      <div className="mlbench-scroll">
        <div className="mlbench-muted mlbench-run-meta">
          {item.run_id} · started {formatAgo(item.started)}
          {totalSeconds !== null && ` · ${formatDuration(totalSeconds)} of steps`}
        </div>
        <div className="mlbench-actions">
          {failed && (
            <button
              className="jp-mod-styled jp-mod-accept mlbench-button"
              data-testid="mlbench-resume"
              onClick={() => void app.commands.execute(CommandIDs.resumeRun, { runId: item.run_id, pipeline, folder: item.folder || '' })}
            >
              Resume
            </button>
          )}
          <button
            className="jp-mod-styled mlbench-button"
            data-testid="mlbench-force"
            disabled={live}
            onClick={() => void app.commands.execute(CommandIDs.forceRun, { pipeline, folder: item.folder || '' })}
            title="Run every step again, ignoring the cache"
          >
            Re-run (force)
          </button>
        </div>
        <ErrorBox message={detail.error} onRetry={detail.reload} />
        <ErrorBox message={openError} />
        {!d && !detail.error && <Loading what="steps" />}
        {d && d.steps.length === 0 && <Empty>This run has no steps recorded yet.</Empty>}
        {d && d.steps.length > 0 && (
          <ol className="mlbench-steps">
            {d.steps.map(step => {
              const info = classifyStep(step.status);
              const target = stepOpenTarget(step);
              const open = (): void => {
                if (!target) {
                  return;
                }
                setOpenError(null);
                app.openNotebook(target.path, target.cell).catch(error => setOpenError(String(error)));
              };
              return (
                <li
                  key={step.step}
                  className={`mlbench-step-row mlbench-step-${info.kind}${target ? ' mlbench-clickable' : ''}`}
                  data-testid="mlbench-step-row"
                  data-step={step.step}
                  data-status={step.status}
                  data-failure={info.failure || undefined}
                  role={target ? 'button' : undefined}
                  tabIndex={target ? 0 : undefined}
                  onClick={open}
                  onKeyDown={e => (e.key === 'Enter' ? open() : undefined)}
                  title={
                    target
                      ? `Open ${target.path}${target.cell !== null ? ` at cell ${target.cell}` : ''}`
                      : 'no executed notebook for this step'
                  }
                >
                  <div className="mlbench-line">
                    <span className="mlbench-step-name">{step.step}</span>
                    <StepBadge status={step.status} />
                    {step.cache_hit && info.kind !== 'cached' && <span className="mlbench-badge mlbench-status-cached">cache hit</span>}
                    <span className="mlbench-muted mlbench-step-duration">{formatDuration(step.duration_s)}</span>
                  </div>
                  {step.error && <div className="mlbench-step-error">{step.error}</div>}
                  {info.kind === 'failed' && target && target.cell !== null && (
                    <div className="mlbench-muted">failing cell {target.cell} — click to open there</div>
                  )}
                </li>
              );
            })}
          </ol>
        )}
      </div>
    </div>
  );
}
