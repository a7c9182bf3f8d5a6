/** Models section: packaged model versions (virtual list) and a version's detail. */
import React, { useCallback, useEffect, useState } from 'react';

import { describeError } from '../client';
import { formatAgo, formatMetric, formatNumber, formatTimestamp, formatValue } from '../core/format';
import { jobIsFinished, jobLabel } from '../core/status';
import { IJob, IModelDetail, IModelItem, IServing } from '../core/types';
import { BackBar, Empty, ErrorBox, Warning, KeyValues, Loading, Progress, StageBadge, VirtualList } from './common';
import { CommandIDs, IMlbenchApp } from './context';
import { useInterval, useLoad, usePagedList, useRefreshButton, useSignal } from './hooks';

const ROW_HEIGHT = 42;

export function ModelsView(props: { app: IMlbenchApp; refreshCount: number; visible: () => boolean }): JSX.Element {
  const { app } = props;
  const [filter, setFilter] = useState('');
  const [query, setQuery] = useState('');
  const [selected, setSelected] = useState<IModelItem | null>(null);
  useSignal(app.settings.changed);

  // debounce the name filter
  useEffect(() => {
    const id = setTimeout(() => setQuery(filter.trim()), 300);
    return () => clearTimeout(id);
  }, [filter]);

  const fetchPage = useCallback(
    (offset: number, limit: number) => app.client.models(offset, limit, query || undefined),
    [app, query]
  );
  const list = usePagedList<IModelItem>(fetchPage, `models:${query}:${JSON.stringify(app.settings.value)}`, 100);
  const { refresh } = list;
  useRefreshButton(props.refreshCount, refresh);
  useInterval(() => props.visible() && !selected && refresh(), app.settings.pollMs);

  if (selected) {
    return (
      <ModelDetailView
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
        <input
          type="search"
          className="jp-mod-styled mlbench-input"
          placeholder="Filter by model name"
          value={filter}
          onChange={e => setFilter(e.target.value)}
          data-testid="mlbench-model-filter"
        />
        {total !== null && <span className="mlbench-count">{total} versions</span>}
      </div>
      <ErrorBox message={list.error} onRetry={refresh} />
      {total === null && !list.error && <Loading what="models" />}
      {!!total && <Warning message={list.note} />}
      {total === 0 && !list.error && (
        <Empty note={list.note}>
          {query ? (
            <>No model named like “{query}”.</>
          ) : (
            <>
              No packaged models in the model store yet. Package one with <code>mb.package(model, "name", reference=X)</code> in a
              notebook or a pipeline’s package step (<code>mlbench run pipeline.yaml</code>); set the store in Settings →
              mlbench → modelStore.
            </>
          )}
        </Empty>
      )}
      {!!total && (
        <VirtualList
          total={total}
          rowHeight={ROW_HEIGHT}
          onRange={list.setRange}
          testId="mlbench-model-list"
          renderRow={index => {
            const item = list.cache.get(index);
            if (!item) {
              return <div className="mlbench-row mlbench-row-placeholder">…</div>;
            }
            return (
              <div
                className="mlbench-row mlbench-row-2 mlbench-model-row"
                data-testid="mlbench-model-row"
                data-tag={item.tag}
                data-stage={item.stage || 'none'}
                role="button"
                tabIndex={0}
                title={`${item.tag}\npackaged ${formatTimestamp(item.created)}`}
                onClick={() => setSelected(item)}
                onKeyDown={e => (e.key === 'Enter' ? setSelected(item) : undefined)}
              >
                <div className="mlbench-line">
                  <span className="mlbench-model-name">{item.name}</span>
                  <span className="mlbench-model-version">{item.version}</span>
                  <StageBadge stage={item.stage} />
                </div>
                <div className="mlbench-line mlbench-muted">
                  <span className="mlbench-model-metric">{formatMetric(item.metric)}</span>
                  <span className="mlbench-model-created">packaged {formatAgo(item.created)}</span>
                </div>
              </div>
            );
          }}
        />
      )}
    </div>
  );
}

function servingOf(value: IServing | { serving: null } | null | undefined): IServing | null {
  if (!value || (value as { serving?: unknown }).serving === null) {
    return null;
  }
  return (value as IServing).url ? (value as IServing) : null;
}

function ModelDetailView(props: {
  app: IMlbenchApp;
  item: IModelItem;
  refreshCount: number;
  onBack: () => void;
}): JSX.Element {
  const { app, item } = props;
  const detail = useLoad<IModelDetail>(() => app.client.model(item.name, item.version), [item.tag, props.refreshCount]);
  const [actionError, setActionError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [serving, setServing] = useState<IServing | null>(null);
  const [verifyJob, setVerifyJob] = useState<IJob | null>(null);
  useSignal(app.jobs.changed);

  useEffect(() => {
    setServing(detail.data ? detail.data.serving : null);
  }, [detail.data]);

  // while a server is starting, poll its health
  useInterval(
    () => {
      app.client.serving(item.name, item.version).then(
        value => setServing(servingOf(value)),
        () => undefined
      );
    },
    2000,
    !!serving && !serving.healthy
  );

  // follow the verify job through the jobs model
  const tracked = verifyJob ? app.jobs.jobs.find(j => j.job.id === verifyJob.id) : undefined;
  const job = tracked ? tracked.job : verifyJob;

  const run = async (what: string, action: () => Promise<void>): Promise<void> => {
    setBusy(what);
    setActionError(null);
    try {
      await action();
    } catch (error) {
      setActionError(`${what} failed: ${describeError(error)}`);
    } finally {
      setBusy(null);
    }
  };

  const promote = (): Promise<void> =>
    run('Promote', async () => {
      const done = await app.commands.execute(CommandIDs.promote, {
        name: item.name,
        version: item.version,
        stage: detail.data ? detail.data.stage : item.stage
      });
      if (done) {
        await detail.reload();
      }
    });
  const serve = (): Promise<void> =>
    run('Serve', async () => {
      setServing(await app.client.serve(item.name, item.version));
    });
  const stop = (): Promise<void> =>
    run('Stop', async () => {
      await app.client.stopServing(item.name, item.version);
      setServing(null);
    });
  const verify = (): Promise<void> =>
    run('Verify', async () => {
      const started = await app.client.verify(item.name, item.version);
      app.jobs.track(started, `Verify ${item.tag}`, () => void detail.reload());
      setVerifyJob(started);
    });

  const d = detail.data;
  const lineage = d && d.lineage ? d.lineage : {};
  const lineageRows: Array<[string, React.ReactNode]> = [
    ['run', formatValue(lineage.run)],
    ['data fingerprint', <code key="fp">{formatValue(lineage.fingerprint)}</code>],
    ['sweep', formatValue(lineage.sweep)],
    ['git commit', <code key="git">{formatValue(lineage.git_commit)}</code>]
  ];
  for (const key of Object.keys(lineage)) {
    if (!['run', 'fingerprint', 'sweep', 'git_commit'].includes(key)) {
      lineageRows.push([key, formatValue(lineage[key])]);
    }
  }

  return (
    <div className="mlbench-body mlbench-detail" data-testid="mlbench-model-detail" data-tag={item.tag}>
      <BackBar onBack={props.onBack}>
        <span className="mlbench-detail-title">{item.tag}</span> <StageBadge stage={d ? d.stage : item.stage} />
      </BackBar>
      <div className="mlbench-scroll">
        <div className="mlbench-actions">
          <button className="jp-mod-styled jp-mod-accept mlbench-button" data-testid="mlbench-promote" disabled={!!busy} onClick={promote}>
            Promote…
          </button>
          {serving ? (
            <button className="jp-mod-styled mlbench-button" data-testid="mlbench-stop" disabled={!!busy} onClick={stop}>
              Stop serving
            </button>
          ) : (
            <button className="jp-mod-styled mlbench-button" data-testid="mlbench-serve" disabled={!!busy} onClick={serve}>
              {busy === 'Serve' ? 'Starting…' : 'Serve locally'}
            </button>
          )}
          <button
            className="jp-mod-styled mlbench-button"
            data-testid="mlbench-verify"
            disabled={!!busy || (!!job && !jobIsFinished(job))}
            onClick={verify}
          >
            Verify
          </button>
        </div>
        <ErrorBox message={actionError} />
        <ErrorBox message={detail.error} onRetry={detail.reload} />
        {serving && (
          <div className="mlbench-serving" data-testid="mlbench-serving" data-healthy={String(!!serving.healthy)}>
            <span className={`mlbench-dot ${serving.healthy ? 'mlbench-dot-ok' : 'mlbench-dot-wait'}`} />
            Serving at{' '}
            <a href={serving.url} target="_blank" rel="noopener noreferrer">
              {serving.url}
            </a>{' '}
            <span className="mlbench-muted">
              {serving.healthy ? 'healthy' : 'starting…'}
              {serving.pid ? ` · pid ${serving.pid}` : ''}
            </span>
          </div>
        )}
        {job && (
          <div className="mlbench-job-inline" data-testid="mlbench-verify-result" data-state={job.state}>
            <div>Verify: {jobLabel(job)}</div>
            {!jobIsFinished(job) && <Progress value={job.progress} />}
            {job.state === 'done' && job.result && <ResultSummary result={job.result} />}
          </div>
        )}
        {!d && !detail.error && <Loading what="model" />}
        {d && (
          <>
            <h4 className="mlbench-h">Lineage</h4>
            <KeyValues rows={lineageRows} testId="mlbench-lineage" />
            {d.metrics && Object.keys(d.metrics).length > 0 && (
              <>
                <h4 className="mlbench-h">Metrics</h4>
                <KeyValues
                  rows={Object.keys(d.metrics).map(k => [k, formatValue(d.metrics[k])] as [string, React.ReactNode])}
                  testId="mlbench-metrics"
                />
              </>
            )}
            <h4 className="mlbench-h">Stage history</h4>
            {d.history && d.history.length ? (
              <ul className="mlbench-history" data-testid="mlbench-stage-history">
                {d.history.map((h, i) => (
                  <li key={i}>
                    <span className="mlbench-muted" title={formatTimestamp(h.at)}>
                      {formatAgo(h.at)}
                    </span>{' '}
                    {h.from || 'none'} → <strong>{h.to || 'none'}</strong>
                    {h.who ? ` by ${h.who}` : ''}
                    {h.reason ? <div className="mlbench-reason">“{h.reason}”</div> : null}
                  </li>
                ))}
              </ul>
            ) : (
              <div className="mlbench-muted">Never promoted.</div>
            )}
            <h4 className="mlbench-h">Last gate</h4>
            {d.gate ? (
              <div data-testid="mlbench-gate" data-passed={String(!!d.gate.passed)}>
                <div className={d.gate.passed ? 'mlbench-ok' : 'mlbench-bad'}>{d.gate.passed ? 'passed' : 'failed'}</div>
                <ul className="mlbench-gate">
                  {(d.gate.conditions || []).map((c, i) => (
                    <li key={i}>
                      <span className={`mlbench-badge mlbench-cond-${String(c.status).toLowerCase()}`}>{c.status}</span> {c.name}
                      {c.reason ? <span className="mlbench-muted"> — {c.reason}</span> : null}
                    </li>
                  ))}
                </ul>
              </div>
            ) : (
              <div className="mlbench-muted">No gate result recorded (pipelines with a gate step record one).</div>
            )}
          </>
        )}
      </div>
    </div>
  );
}

/** A compact view of a job result: scalar fields as key/values, the rest as JSON text. */
export function ResultSummary(props: { result: Record<string, unknown> }): JSX.Element {
  const rows: Array<[string, React.ReactNode]> = [];
  const nested: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(props.result)) {
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) {
      rows.push([key, typeof value === 'number' ? formatNumber(value) : formatValue(value)]);
    } else {
      nested[key] = value;
    }
  }
  return (
    <div className="mlbench-result">
      {rows.length > 0 && <KeyValues rows={rows} />}
      {Object.keys(nested).length > 0 && (
        <details>
          <summary>details</summary>
          <pre className="mlbench-pre">{JSON.stringify(nested, null, 2)}</pre>
        </details>
      )}
    </div>
  );
}
