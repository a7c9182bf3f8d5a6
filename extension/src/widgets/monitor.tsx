/** Monitor section: served models, their latest window and unacknowledged alerts. */
import React, { useCallback, useState } from 'react';

import { describeError } from '../client';
import { formatCount, formatMs, formatPercent, formatTimestamp } from '../core/format';
import { Empty, ErrorBox, Loading, Warning } from './common';
import { CommandIDs, IMlbenchApp } from './context';
import { useRefreshButton, useSignal } from './hooks';

export function MonitorView(props: { app: IMlbenchApp; refreshCount: number }): JSX.Element {
  const { app } = props;
  const monitor = app.monitor;
  useSignal(monitor.changed);
  const [actionError, setActionError] = useState<string | null>(null);
  const refresh = useCallback(() => void monitor.refresh(), [monitor]);
  useRefreshButton(props.refreshCount, refresh);

  const ack = async (model?: string): Promise<void> => {
    setActionError(null);
    try {
      await app.commands.execute(CommandIDs.ackAlerts, model ? { model } : {});
    } catch (error) {
      setActionError(describeError(error));
    }
  };
  const data = monitor.data;
  const models = data && Array.isArray(data.models) ? data.models : [];
  return (
    <div className="mlbench-body">
      <div className="mlbench-filter">
        <span className="mlbench-count" data-testid="mlbench-alerts-total">
          {data ? `${monitor.alerts} unacknowledged alert${monitor.alerts === 1 ? '' : 's'}` : ''}
        </span>
        {monitor.alerts > 0 && (
          <button className="jp-mod-styled mlbench-button" onClick={() => void ack()} data-testid="mlbench-ack-all">
            Acknowledge all
          </button>
        )}
      </div>
      <ErrorBox message={monitor.requestError} onRetry={() => void monitor.refresh()} />
      {models.length > 0 && <Warning message={data && data.error} />}
      <ErrorBox message={actionError} />
      {!data && !monitor.requestError && <Loading what="monitor" />}
      {data && models.length === 0 && (
        <Empty note={data.error}>
          No served model has logged predictions yet. Serve one (<code>mlbench serve name:version</code>, or Models →
          Serve locally) and send it traffic: each time window’s profile lands in the monitor store (Settings → mlbench →
          monitorStore).
        </Empty>
      )}
      {models.length > 0 && (
        <ul className="mlbench-scroll mlbench-monitor-list" data-testid="mlbench-monitor-table">
          {models.map(m => {
            const w = m.latest;
            return (
              <li
                key={m.model}
                className="mlbench-monitor-row"
                data-testid="mlbench-monitor-row"
                data-model={m.model}
                data-alerts={m.alerts}
                title={w ? `latest window ${formatTimestamp(w.window)}` : 'no window yet'}
              >
                <div className="mlbench-line">
                  <span className="mlbench-monitor-model">{m.model}</span>
                  {m.alerts > 0 ? (
                    <button
                      className="mlbench-badge mlbench-alert-count"
                      title="Acknowledge this model's alerts"
                      data-testid="mlbench-ack-model"
                      onClick={() => void ack(m.model)}
                    >
                      {m.alerts} alert{m.alerts === 1 ? '' : 's'}
                    </button>
                  ) : (
                    <span className="mlbench-badge">0 alerts</span>
                  )}
                </div>
                {w ? (
                  <div className="mlbench-monitor-stats">
                    <span title="requests in the latest window">{formatCount(w.requests)} req</span>
                    <span title="99th percentile latency">p99 {formatMs(w.p99_ms)}</span>
                    <span className={(w.drifted_share || 0) > 0 ? 'mlbench-bad' : ''} title="share of columns that drifted">
                      drift {formatPercent(w.drifted_share)}
                    </span>
                    <span className={w.errors > 0 ? 'mlbench-bad' : ''} title="errors (4xx/5xx) in the latest window">
                      {formatCount(w.errors)} errors
                    </span>
                    <span className="mlbench-muted">window {formatTimestamp(w.window).replace(/:\d\d UTC$/, " UTC")}</span>
                    <button
                      className="jp-mod-styled mlbench-button mlbench-small mlbench-push-right"
                      data-testid="mlbench-open-dashboard"
                      onClick={() => void app.commands.execute(CommandIDs.openDashboard, { model: m.model })}
                    >
                      Open dashboard
                    </button>
                  </div>
                ) : (
                  <div className="mlbench-monitor-stats">
                    <span className="mlbench-muted">no window logged yet</span>
                    <button
                      className="jp-mod-styled mlbench-button mlbench-small mlbench-push-right"
                      data-testid="mlbench-open-dashboard"
                      onClick={() => void app.commands.execute(CommandIDs.openDashboard, { model: m.model })}
                    >
                      Open dashboard
                    </button>
                  </div>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
