/** Sweeps section: trial counters, best score so far (inline SVG line), best params. */
import React, { useCallback, useEffect, useState } from 'react';

import { linePath, sweepSeries } from '../core/chart';
import { formatNumber, formatValue } from '../core/format';
import { sweepCounts } from '../core/status';
import { ISweepDetail, ISweepItem } from '../core/types';
import { BackBar, Empty, ErrorBox, Warning, KeyValues, Loading, Sparkline, VirtualList } from './common';
import { IMlbenchApp } from './context';
import { useInterval, useLoad, usePagedList, useRefreshButton, useSignal } from './hooks';

const ROW_HEIGHT = 48;

/** Sweep details fetched for the chart, cached by name and trial count. */
const detailCache = new Map<string, { key: string; detail: ISweepDetail }>();

function SweepChart(props: { detail: ISweepDetail | null; width: number; height: number }): JSX.Element {
  const d = props.detail;
  if (!d || !d.history || !d.history.length) {
    return <svg className="mlbench-sparkline" width={props.width} height={props.height} />;
  }
  const series = sweepSeries(d.history, d.direction);
  const chart = linePath(series, props.width, props.height, 3);
  const last = chart.points.length ? chart.points[chart.points.length - 1] : null;
  return (
    <Sparkline
      path={chart.path}
      width={props.width}
      height={props.height}
      last={last}
      title={`best ${d.direction || ''} so far: ${formatNumber(chart.min)} … ${formatNumber(chart.max)} over ${series.length} trials`}
    />
  );
}

function SweepRow(props: { app: IMlbenchApp; sweep: ISweepItem; onOpen: () => void }): JSX.Element {
  const { app, sweep } = props;
  const key = `${sweep.trials}:${sweep.complete}:${sweep.best_score}`;
  const cached = detailCache.get(sweep.name);
  const [detail, setDetail] = useState<ISweepDetail | null>(cached ? cached.detail : null);
  useEffect(() => {
    const hit = detailCache.get(sweep.name);
    if (hit && hit.key === key) {
      setDetail(hit.detail);
      return;
    }
    let live = true;
    app.client.sweep(sweep.name).then(
      value => {
        detailCache.set(sweep.name, { key, detail: value });
        if (live) {
          setDetail(value);
        }
      },
      () => undefined
    );
    return () => {
      live = false;
    };
  }, [sweep.name, key, app]);
  return (
    <div
      className="mlbench-row mlbench-row-2 mlbench-sweep-row"
      data-testid="mlbench-sweep-row"
      data-name={sweep.name}
      role="button"
      tabIndex={0}
      onClick={props.onOpen}
      onKeyDown={e => (e.key === 'Enter' ? props.onOpen() : undefined)}
      title={`${sweep.name}\n${sweep.storage}`}
    >
      <div className="mlbench-line">
        <span className="mlbench-sweep-name">{sweep.name}</span>
        <span className="mlbench-sweep-best" title={`best score (${sweep.direction})`}>
          {formatNumber(sweep.best_score)}
        </span>
        <SweepChart detail={detail} width={80} height={18} />
      </div>
      <div className="mlbench-line mlbench-muted">
        {sweepCounts(sweep)} · {sweep.trials} trials
      </div>
    </div>
  );
}

export function SweepsView(props: { app: IMlbenchApp; refreshCount: number; visible: () => boolean }): JSX.Element {
  const { app } = props;
  const [selected, setSelected] = useState<ISweepItem | null>(null);
  useSignal(app.settings.changed);
  const fetchPage = useCallback((offset: number, limit: number) => app.client.sweeps(offset, limit), [app]);
  const list = usePagedList<ISweepItem>(fetchPage, `sweeps:${JSON.stringify(app.settings.value)}`, 100);
  const { refresh } = list;
  useRefreshButton(props.refreshCount, refresh);
  const live = list.cache.some(s => s.running > 0);
  useInterval(() => props.visible() && !selected && refresh(), live ? Math.min(3000, app.settings.pollMs) : app.settings.pollMs);

  if (selected) {
    return <SweepDetailView app={app} item={selected} refreshCount={props.refreshCount} onBack={() => setSelected(null)} />;
  }
  const total = list.total;
  return (
    <div className="mlbench-body">
      <ErrorBox message={list.error} onRetry={refresh} />
      {total === null && !list.error && <Loading what="sweeps" />}
      {!!total && <Warning message={list.note} />}
      {total === 0 && !list.error && (
        <Empty note={list.note}>
          No sweeps in the sweep storage yet. Start one with <code>mb.tune(estimator, space, X, y, study_name=…)</code> in a
          notebook or <code>mlbench tune</code>; set the storage in Settings → mlbench → sweepStorage.
        </Empty>
      )}
      {!!total && (
        <VirtualList
          total={total}
          rowHeight={ROW_HEIGHT}
          onRange={list.setRange}
          testId="mlbench-sweep-list"
          renderRow={index => {
            const sweep = list.cache.get(index);
            return sweep ? (
              <SweepRow app={app} sweep={sweep} onOpen={() => setSelected(sweep)} />
            ) : (
              <div className="mlbench-row mlbench-row-placeholder">…</div>
            );
          }}
        />
      )}
    </div>
  );
}

function SweepDetailView(props: { app: IMlbenchApp; item: ISweepItem; refreshCount: number; onBack: () => void }): JSX.Element {
  const { app, item } = props;
  const detail = useLoad<ISweepDetail>(() => app.client.sweep(item.name), [item.name, props.refreshCount]);
  const d = detail.data;
  useInterval(() => void detail.reload(), 3000, !!d && d.running > 0);
  const s = d || item;
  return (
    <div className="mlbench-body mlbench-detail" data-testid="mlbench-sweep-detail" data-name={item.name}>
      <BackBar onBack={props.onBack}>
        <span className="mlbench-detail-title">{item.name}</span>
      </BackBar>
      <div className="mlbench-scroll">
        <ErrorBox message={detail.error} onRetry={detail.reload} />
        <KeyValues
          rows={[
            ['trials', `${s.trials} (${sweepCounts(s)})`],
            [`best (${s.direction})`, formatNumber(s.best_score)],
            ['storage', s.storage]
          ]}
        />
        {!d && !detail.error && <Loading what="sweep" />}
        {d && (
          <>
            <h4 className="mlbench-h">Best score so far</h4>
            <SweepChart detail={d} width={240} height={60} />
            <h4 className="mlbench-h">Best params</h4>
            {d.best_params && Object.keys(d.best_params).length ? (
              <KeyValues
                rows={Object.keys(d.best_params).map(k => [k, formatValue(d.best_params[k])] as [string, React.ReactNode])}
                testId="mlbench-best-params"
              />
            ) : (
              <div className="mlbench-muted">No completed trial yet.</div>
            )}
          </>
        )}
      </div>
    </div>
  );
}
