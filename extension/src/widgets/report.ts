/**
 * Report tabs: HTML from the server (profile/validate/drift reports, the monitor dashboard)
 * shown in a sandboxed iframe via `srcdoc` (scripts allowed, no same-origin access, so the
 * report cannot reach the Jupyter server or the Lab page). The HTML is fetched with
 * `ServerConnection.makeRequest` (same server, same auth); nothing else is injected.
 */
import { MainAreaWidget, ToolbarButton } from '@jupyterlab/apputils';
import { ABCWidgetFactory, DocumentRegistry, DocumentWidget, IDocumentWidget } from '@jupyterlab/docregistry';
import { refreshIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { MlbenchClient, describeError } from '../client';
import { mlbenchIcon } from '../icons';

/** What the iframe may do: run the report's own scripts, download files it offers. */
export const REPORT_SANDBOX = 'allow-scripts allow-downloads allow-popups';

export class ReportFrame extends Widget {
  constructor(kind: string) {
    super();
    this.addClass('mlbench-report');
    this.node.dataset.testid = 'mlbench-report';
    this.node.dataset.kind = kind;
    this.node.dataset.state = 'loading';
    this._status = document.createElement('div');
    this._status.className = 'mlbench-report-status';
    this._status.textContent = 'Loading report…';
    this._iframe = document.createElement('iframe');
    this._iframe.className = 'mlbench-report-frame';
    this._iframe.setAttribute('sandbox', REPORT_SANDBOX);
    this._iframe.setAttribute('referrerpolicy', 'no-referrer');
    this._iframe.title = 'mlbench report';
    this.node.appendChild(this._status);
    this.node.appendChild(this._iframe);
  }

  /** Fetch and show; errors are shown as text in the tab. */
  async load(loader: () => Promise<string>): Promise<void> {
    this._loader = loader;
    const mine = ++this._seq;
    this.node.dataset.state = 'loading';
    this._status.textContent = 'Loading report…';
    this._status.classList.remove('mlbench-error');
    this._status.style.display = '';
    try {
      const html = await loader();
      if (mine !== this._seq) {
        return;
      }
      this._iframe.srcdoc = html;
      this._status.style.display = 'none';
      this.node.dataset.state = 'ready';
    } catch (error) {
      if (mine !== this._seq) {
        return;
      }
      this._iframe.srcdoc = '';
      this._status.textContent = `Could not load the report: ${describeError(error)}`;
      this._status.classList.add('mlbench-error');
      this.node.dataset.state = 'error';
    }
  }

  reload(): Promise<void> {
    return this._loader ? this.load(this._loader) : Promise.resolve();
  }

  private _iframe: HTMLIFrameElement;
  private _status: HTMLDivElement;
  private _loader: (() => Promise<string>) | null = null;
  private _seq = 0;
}

/** Open (or reveal and reload) a main-area tab showing server HTML. */
export class ReportTabs {
  constructor(private readonly _addToMain: (widget: Widget) => void) {}

  open(options: { key: string; label: string; caption?: string; kind: string; load: () => Promise<string> }): MainAreaWidget<ReportFrame> {
    const existing = this._tabs.get(options.key);
    if (existing && !existing.isDisposed) {
      this._addToMain(existing);
      void existing.content.load(options.load);
      return existing;
    }
    const content = new ReportFrame(options.kind);
    const widget = new MainAreaWidget({ content });
    widget.id = `mlbench-report-${++this._seq}`;
    widget.addClass('mlbench-report-tab');
    widget.title.label = options.label;
    widget.title.caption = options.caption || options.label;
    widget.title.icon = mlbenchIcon;
    widget.title.closable = true;
    widget.toolbar.addItem(
      'reload',
      new ToolbarButton({ icon: refreshIcon, tooltip: 'Reload the report', onClick: () => void content.reload() })
    );
    widget.disposed.connect(() => this._tabs.delete(options.key));
    this._tabs.set(options.key, widget);
    this._addToMain(widget);
    void content.load(options.load);
    return widget;
  }

  private _tabs = new Map<string, MainAreaWidget<ReportFrame>>();
  private _seq = 0;
}

/** File type of saved profiles. */
export const PROFILE_FILE_TYPE = 'mlbench-profile';
export const REPORT_FACTORY = 'mlbench Report';

/**
 * Document widget factory for `.mbp` files: double-click opens the profile's HTML report
 * (`GET report?path=`), reloaded when the file changes on disk.
 */
export class ProfileReportFactory extends ABCWidgetFactory<IDocumentWidget<ReportFrame>> {
  constructor(
    options: DocumentRegistry.IWidgetFactoryOptions<IDocumentWidget<ReportFrame>>,
    private readonly _client: MlbenchClient
  ) {
    super(options);
  }

  protected createNewWidget(context: DocumentRegistry.Context): IDocumentWidget<ReportFrame> {
    const content = new ReportFrame('profile');
    const widget = new DocumentWidget({ content, context });
    widget.addClass('mlbench-report-tab');
    widget.title.icon = mlbenchIcon;
    const load = (): void => void content.load(() => this._client.report(context.path));
    // the report comes from the server, not from the file's bytes: no need to wait for them
    load();
    context.fileChanged.connect(load);
    context.pathChanged.connect(load);
    widget.toolbar.addItem(
      'reload',
      new ToolbarButton({ icon: refreshIcon, tooltip: 'Reload the report', onClick: load })
    );
    return widget;
  }
}
