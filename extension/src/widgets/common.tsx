/** Presentational pieces shared by the sidebar sections (React; server text is escaped by React). */
import React, { useEffect, useRef, useState } from 'react';

import { IRange, visibleRange } from '../core/paging';
import { StatusKind, classifyStep, stageLabel } from '../core/status';

export function ErrorBox(props: { message: string | null | undefined; onRetry?: () => void }): JSX.Element | null {
  if (!props.message) {
    return null;
  }
  return (
    <div className="mlbench-error" role="alert" data-testid="mlbench-error">
      <span className="mlbench-error-text">{props.message}</span>
      {props.onRetry && (
        <button className="mlbench-link-button" onClick={props.onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

/** How to fill an empty section; `note` is the server's own sentence about it (e.g. "no ledger yet"). */
export function Empty(props: { children: React.ReactNode; note?: string | null }): JSX.Element {
  return (
    <div className="mlbench-empty" data-testid="mlbench-empty">
      {props.note && <div className="mlbench-note" data-testid="mlbench-note">{props.note}</div>}
      <div>{props.children}</div>
    </div>
  );
}

/** A warning from the server about a section that still has rows to show. */
export function Warning(props: { message: string | null | undefined }): JSX.Element | null {
  return props.message ? (
    <div className="mlbench-warning" role="status" data-testid="mlbench-warning">
      {props.message}
    </div>
  ) : null;
}

export function Loading(props: { what?: string }): JSX.Element {
  return <div className="mlbench-loading">Loading{props.what ? ` ${props.what}` : ''}…</div>;
}

export function StageBadge(props: { stage: string | null | undefined }): JSX.Element {
  const stage = stageLabel(props.stage);
  return (
    <span
      className={`mlbench-badge mlbench-stage-badge mlbench-stage-${stage}`}
      data-testid="mlbench-stage-badge"
      data-stage={stage}
    >
      {stage}
    </span>
  );
}

export function StatusBadge(props: { kind: StatusKind; label: string; title?: string }): JSX.Element {
  return (
    <span className={`mlbench-badge mlbench-status mlbench-status-${props.kind}`} title={props.title || props.label}>
      {props.label}
    </span>
  );
}

export function StepBadge(props: { status: string }): JSX.Element {
  const info = classifyStep(props.status);
  return <StatusBadge kind={info.kind} label={info.label} title={info.title} />;
}

export function Progress(props: { value: number | null | undefined }): JSX.Element {
  const known = typeof props.value === 'number' && isFinite(props.value);
  const pct = known ? Math.round(Math.min(1, Math.max(0, props.value as number)) * 100) : 0;
  return (
    <div
      className={`mlbench-progress${known ? '' : ' mlbench-progress-indeterminate'}`}
      role="progressbar"
      aria-valuenow={known ? pct : undefined}
      aria-valuemin={0}
      aria-valuemax={100}
    >
      <div className="mlbench-progress-bar" style={{ width: known ? `${pct}%` : '30%' }} />
    </div>
  );
}

/** A two-column key/value table (values are plain text). */
export function KeyValues(props: { rows: Array<[string, React.ReactNode]>; testId?: string }): JSX.Element {
  return (
    <table className="mlbench-kv" data-testid={props.testId}>
      <tbody>
        {props.rows.map(([key, value]) => (
          <tr key={key}>
            <th>{key}</th>
            <td>{value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * A virtual list of `total` fixed-height rows: only the rows in view (plus overscan) are in
 * the DOM. `onRange` tells the owner which rows are shown (to fetch their pages).
 */
export function VirtualList(props: {
  total: number;
  rowHeight: number;
  onRange?: (range: IRange) => void;
  renderRow: (index: number) => React.ReactNode;
  testId?: string;
  className?: string;
}): JSX.Element {
  const ref = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(400);
  useEffect(() => {
    const node = ref.current;
    if (!node) {
      return;
    }
    const measure = (): void => setHeight(node.clientHeight || 400);
    measure();
    if (typeof ResizeObserver === 'undefined') {
      return;
    }
    const observer = new ResizeObserver(measure);
    observer.observe(node);
    return () => observer.disconnect();
  }, []);
  const range = visibleRange(scrollTop, height, props.rowHeight, props.total);
  const onRange = props.onRange;
  useEffect(() => {
    if (onRange) {
      onRange(range);
    }
  }, [range.start, range.end, props.total, onRange]);
  const rows: React.ReactNode[] = [];
  for (let i = range.start; i < range.end; i++) {
    rows.push(
      <div key={i} className="mlbench-vrow" style={{ top: i * props.rowHeight, height: props.rowHeight }}>
        {props.renderRow(i)}
      </div>
    );
  }
  return (
    <div
      ref={ref}
      className={`mlbench-vlist ${props.className || ''}`}
      data-testid={props.testId}
      data-total={props.total}
      onScroll={event => setScrollTop(event.currentTarget.scrollTop)}
    >
      <div className="mlbench-vlist-inner" style={{ height: props.total * props.rowHeight }}>
        {rows}
      </div>
    </div>
  );
}

export function Sparkline(props: {
  path: string;
  width: number;
  height: number;
  title?: string;
  last?: { x: number; y: number } | null;
}): JSX.Element {
  return (
    <svg
      className="mlbench-sparkline"
      width={props.width}
      height={props.height}
      viewBox={`0 0 ${props.width} ${props.height}`}
      role="img"
      aria-label={props.title || 'best score so far'}
      data-testid="mlbench-sparkline"
    >
      {props.title && <title>{props.title}</title>}
      {props.path && <path d={props.path} fill="none" className="mlbench-sparkline-line" />}
      {props.last && <circle cx={props.last.x} cy={props.last.y} r={2} className="mlbench-sparkline-dot" />}
    </svg>
  );
}

/** A header line with a back button, used by the detail views. */
export function BackBar(props: { onBack: () => void; children: React.ReactNode }): JSX.Element {
  return (
    <div className="mlbench-backbar">
      <button className="mlbench-link-button" onClick={props.onBack} title="Back to the list" data-testid="mlbench-back">
        ← Back
      </button>
      <div className="mlbench-backbar-title">{props.children}</div>
    </div>
  );
}
