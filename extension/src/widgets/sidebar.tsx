/** The mlbench left sidebar: a SidePanel with collapsible sections (an accordion). */
import { ReactWidget, PanelWithToolbar, SidePanel, ToolbarButton, refreshIcon } from '@jupyterlab/ui-components';
import { AccordionPanel, Widget } from '@lumino/widgets';
import React from 'react';

import { mlbenchIcon } from '../icons';
import { IMlbenchApp } from './context';
import { ServerStatus } from './header';
import { JobsView } from './jobs';
import { ModelsView } from './models';
import { MonitorView } from './monitor';
import { RunsView } from './runs';
import { SweepsView } from './sweeps';

export type SectionId = 'models' | 'runs' | 'sweeps' | 'monitor' | 'jobs';
export const SECTION_IDS: SectionId[] = ['models', 'runs', 'sweeps', 'monitor', 'jobs'];

type Renderer = (refreshCount: number, visible: () => boolean) => JSX.Element;

/** A React body that re-renders with a bumped counter on refresh. */
class SectionBody extends ReactWidget {
  constructor(private readonly _render: Renderer) {
    super();
    this.addClass('mlbench-section-body');
  }
  refresh(): void {
    this._count += 1;
    this.update();
  }
  protected render(): JSX.Element {
    return this._render(this._count, () => this.isVisible);
  }
  private _count = 0;
}

class Section extends PanelWithToolbar {
  constructor(
    readonly sectionId: SectionId,
    label: string,
    render: Renderer
  ) {
    super();
    this.id = `mlbench-section-${sectionId}`;
    this.addClass('mlbench-section');
    this.addClass(`mlbench-section-${sectionId}`);
    this.node.dataset.testid = `mlbench-section-${sectionId}`;
    this.title.label = label;
    this.title.caption = `mlbench ${label}`;
    this.body = new SectionBody(render);
    this.addWidget(this.body);
    const refresh = new ToolbarButton({
      icon: refreshIcon,
      tooltip: `Refresh ${label}`,
      onClick: () => this.body.refresh()
    });
    refresh.addClass('mlbench-refresh');
    refresh.node.dataset.testid = `mlbench-refresh-${sectionId}`;
    this.toolbar.addItem('refresh', refresh);
  }
  readonly body: SectionBody;
}

export class MlbenchSidebar extends SidePanel {
  constructor(app: IMlbenchApp) {
    super();
    this.id = 'mlbench-sidebar';
    this.addClass('mlbench-sidebar');
    this.node.dataset.testid = 'mlbench-sidebar';
    this.title.icon = mlbenchIcon;
    this.title.caption = 'mlbench';

    const status = new SectionBody(count => <ServerStatus app={app} refreshCount={count} />);
    status.addClass('mlbench-header');
    this._status = status;
    this.header.addWidget(status);

    const make = (id: SectionId, label: string, render: Renderer): Section => {
      const section = new Section(id, label, render);
      this._sections.set(id, section);
      this.addWidget(section);
      return section;
    };
    make('models', 'Models', (count, visible) => <ModelsView app={app} refreshCount={count} visible={visible} />);
    make('runs', 'Runs', (count, visible) => <RunsView app={app} refreshCount={count} visible={visible} />);
    make('sweeps', 'Sweeps', (count, visible) => <SweepsView app={app} refreshCount={count} visible={visible} />);
    make('monitor', 'Monitor', count => <MonitorView app={app} refreshCount={count} />);
    const jobs = make('jobs', 'Jobs', count => <JobsView app={app} refreshCount={count} />);

    // Jobs starts collapsed and opens when a job starts; its title counts running jobs.
    this.accordion.collapse(SECTION_IDS.indexOf('jobs'));
    app.jobs.changed.connect(() => {
      const running = app.jobs.running;
      jobs.title.label = running ? `Jobs (${running} running)` : 'Jobs';
    });
    // a job started from this page (not one merely listed by the server) opens the section
    app.jobs.started.connect(() => this.openSection('jobs'));
    const alerts = this._sections.get('monitor')!;
    app.monitor.changed.connect(() => {
      const n = app.monitor.alerts;
      alerts.title.label = n ? `Monitor (${n} alert${n === 1 ? '' : 's'})` : 'Monitor';
    });
  }

  get accordion(): AccordionPanel {
    return this.content as AccordionPanel;
  }

  section(id: SectionId): Widget | undefined {
    return this._sections.get(id);
  }

  /** Expand a section and scroll it into view (the sidebar itself is activated by the caller). */
  openSection(id: SectionId): void {
    const section = this._sections.get(id);
    if (!section) {
      return;
    }
    const accordion = this.accordion;
    const index = accordion.widgets.indexOf(section);
    if (index < 0) {
      return;
    }
    if (section.isHidden) {
      accordion.expand(index);
    }
    // give the opened section a real share of the height (an expanded section may be squeezed);
    // `isHidden` is the section's own state (`isVisible` is false while the sidebar is closed)
    const sizes = accordion.widgets.map(w => (w === section ? 2 : w.isHidden ? 0 : 1));
    accordion.setRelativeSizes(sizes);
    const title = this.accordion.titles[index];
    if (title && typeof title.scrollIntoView === 'function') {
      title.scrollIntoView({ block: 'nearest' });
    }
  }

  refresh(id?: SectionId): void {
    if (id) {
      this._sections.get(id)?.body.refresh();
      return;
    }
    this._status.refresh();
    this._sections.forEach(section => section.body.refresh());
  }

  private _status: SectionBody;
  private _sections = new Map<SectionId, Section>();
}
