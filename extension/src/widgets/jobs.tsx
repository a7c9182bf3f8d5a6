/** Jobs section: long server jobs (profile, validate, drift, verify, runs) with progress. */
import React, { useEffect } from 'react';

import { formatAgo } from '../core/format';
import { jobHasReport, jobIsFinished, jobLabel } from '../core/status';
import { Empty, Progress } from './common';
import { CommandIDs, IMlbenchApp } from './context';
import { useSignal } from './hooks';
import { ResultSummary } from './models';

export function JobsView(props: { app: IMlbenchApp; refreshCount: number }): JSX.Element {
  const { app } = props;
  useSignal(app.jobs.changed);
  useEffect(() => {
    void app.jobs.loadRecent().catch(() => undefined);
  }, [props.refreshCount, app]);
  const jobs = app.jobs.jobs;
  return (
    <div className="mlbench-body">
      {jobs.length === 0 && (
        <Empty>
          No jobs yet. Right-click a CSV/Parquet file or a folder in the file browser → <strong>Profile</strong>,{' '}
          <strong>Validate against suite…</strong> or <strong>Drift against…</strong>; their progress shows here.
        </Empty>
      )}
      {jobs.length > 0 && (
        <div className="mlbench-scroll">
          <div className="mlbench-filter">
            <span className="mlbench-count">{app.jobs.running} running</span>
            <button className="mlbench-link-button" onClick={() => app.jobs.clearFinished()}>
              Clear finished
            </button>
          </div>
          <ul className="mlbench-jobs">
            {jobs.map(entry => {
              const job = entry.job;
              const finished = jobIsFinished(job);
              return (
                <li
                  key={entry.key}
                  className={`mlbench-job-row mlbench-job-${job.state}`}
                  data-testid="mlbench-job-row"
                  data-job-id={job.id}
                  data-kind={job.kind}
                  data-state={job.state}
                >
                  <div className="mlbench-line">
                    <span className="mlbench-job-label">{entry.label}</span>
                    <span className="mlbench-muted">{formatAgo(job.started)}</span>
                    {finished && (
                      <button className="mlbench-link-button" title="Dismiss" onClick={() => app.jobs.dismiss(entry.key)}>
                        ✕
                      </button>
                    )}
                  </div>
                  {!finished && <Progress value={job.progress} />}
                  <div className={`mlbench-job-message ${job.state === 'error' ? 'mlbench-bad' : 'mlbench-muted'}`}>{jobLabel(job)}</div>
                  {jobHasReport(job) && (
                    <button
                      className="jp-mod-styled mlbench-button mlbench-small"
                      data-testid="mlbench-open-job-report"
                      onClick={() => void app.commands.execute(CommandIDs.openJobReport, { id: job.id, label: entry.label })}
                    >
                      Open report
                    </button>
                  )}
                  {job.state === 'done' && job.result && !jobHasReport(job) && <ResultSummary result={job.result} />}
                </li>
              );
            })}
          </ul>
        </div>
      )}
    </div>
  );
}
