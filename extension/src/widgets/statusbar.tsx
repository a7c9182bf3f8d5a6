/** Status-bar item: unacknowledged monitor alerts; a click opens the Monitor section. */
import { ReactWidget } from '@jupyterlab/ui-components';
import React from 'react';

import { mlbenchIcon } from '../icons';
import { MonitorModel } from '../model';
import { useSignal } from './hooks';

function AlertBadge(props: { monitor: MonitorModel; onClick: () => void }): JSX.Element {
  useSignal(props.monitor.changed);
  const { monitor } = props;
  const n = monitor.alerts;
  const error = monitor.error;
  const failed = monitor.requestError;
  const title = error
    ? `mlbench monitor: ${error}`
    : `${n} unacknowledged mlbench alert${n === 1 ? '' : 's'} — click to open Monitor`;
  return (
    <div
      className={`mlbench-alert-badge${n > 0 ? ' mlbench-has-alerts' : ''}${failed ? ' mlbench-alert-error' : ''}`}
      data-testid="mlbench-alert-badge"
      data-count={n}
      title={title}
      role="button"
      tabIndex={0}
      onClick={props.onClick}
      onKeyDown={e => (e.key === 'Enter' ? props.onClick() : undefined)}
    >
      <mlbenchIcon.react tag="span" className="mlbench-alert-icon" />
      <span className="mlbench-alert-text">{failed && !monitor.data ? '!' : n}</span>
    </div>
  );
}

export class AlertStatus extends ReactWidget {
  constructor(
    private readonly _monitor: MonitorModel,
    private readonly _onClick: () => void
  ) {
    super();
    this.addClass('mlbench-alert-status');
  }
  protected render(): JSX.Element {
    return <AlertBadge monitor={this._monitor} onClick={this._onClick} />;
  }
}
