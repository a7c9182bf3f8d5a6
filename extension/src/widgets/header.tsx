/** Sidebar header: is the mlbench server extension there, and with which configuration. */
import React from 'react';

import { IStatus } from '../core/types';
import { ErrorBox } from './common';
import { IMlbenchApp } from './context';
import { useInterval, useLoad, useSignal } from './hooks';

export function ServerStatus(props: { app: IMlbenchApp; refreshCount: number }): JSX.Element {
  const { app } = props;
  useSignal(app.settings.changed);
  const status = useLoad<IStatus>(() => app.client.status(), [props.refreshCount, app.settings.value]);
  useInterval(() => void status.reload(), Math.max(30000, app.settings.pollMs), true);
  const s = status.data;
  return (
    <div className="mlbench-server" data-testid="mlbench-server-status" data-ok={String(!!s && !status.error)}>
      {status.error ? (
        <ErrorBox
          message={`mlbench server extension unavailable — ${status.error}`}
          onRetry={() => void status.reload()}
        />
      ) : s ? (
        <span className="mlbench-muted" title={`root: ${s.root_dir}`}>
          mlbench {s.version}
          {s.jobs_running ? ` · ${s.jobs_running} job${s.jobs_running === 1 ? '' : 's'} running` : ''}
        </span>
      ) : (
        <span className="mlbench-muted">Connecting to the mlbench server extension…</span>
      )}
    </div>
  );
}
