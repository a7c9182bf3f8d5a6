/**
 * mlbench JupyterLab extension: a left sidebar (models, runs, sweeps, monitor, jobs), file
 * browser actions (profile, validate, drift, run pipeline), report tabs, a status-bar alert
 * count, a launcher card and settings forwarded to the server extension (`POST config`).
 */
import { ILabShell, ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ICellModel, ICodeCellModel } from '@jupyterlab/cells';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { IDefaultFileBrowser, IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { ILauncher } from '@jupyterlab/launcher';
import { NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStatusBar } from '@jupyterlab/statusbar';

import { MlbenchClient, describeError } from './client';
import { PALETTE_COMMANDS, registerCommands } from './commands';
import { ICellInfo, failingCellIndex } from './core/cells';
import { readSettings, settingsToConfig } from './core/config';
import { mlbenchIcon } from './icons';
import { JobsModel, MonitorModel, SettingsModel } from './model';
import { CommandIDs, IMlbenchApp } from './widgets/context';
import { PROFILE_FILE_TYPE, ProfileReportFactory, REPORT_FACTORY, ReportTabs } from './widgets/report';
import { MlbenchSidebar } from './widgets/sidebar';
import { AlertStatus } from './widgets/statusbar';

const PLUGIN_ID = '@mlbench/labextension:plugin';

/**
 * Open an executed step notebook; for a failed step (`cell` given: the runner's index in the
 * source notebook) make the failing cell active and scroll to it.
 */
async function openNotebookAt(docManager: IDocumentManager, path: string, cell: number | null): Promise<void> {
  // as a double-click in the file browser does (with its kernel: the cell can be re-run to
  // debug; opening it kernel-less also trips @jupyter-widgets' manager on widget outputs)
  const widget = docManager.openOrReveal(path);
  if (!widget) {
    throw new Error(`cannot open ${path}`);
  }
  if (cell === null || !(widget instanceof NotebookPanel)) {
    return;
  }
  await widget.context.ready;
  await widget.revealed;
  const notebook = widget.content;
  const model = notebook.model;
  if (!model || !notebook.widgets.length) {
    return;
  }
  const cells: ICellInfo[] = [];
  for (let i = 0; i < model.cells.length; i++) {
    const cellModel = model.cells.get(i);
    const tags = cellModel.getMetadata('tags');
    let hasError = false;
    if (isCodeCellModel(cellModel)) {
      for (let j = 0; j < cellModel.outputs.length; j++) {
        if (cellModel.outputs.get(j).type === 'error') {
          hasError = true;
        }
      }
    }
    cells.push({ tags: Array.isArray(tags) ? tags.map(String) : [], hasError });
  }
  const index = failingCellIndex(cells, cell);
  if (index === null) {
    return;
  }
  notebook.activeCellIndex = index;
  notebook.mode = 'command';
  await notebook.scrollToItem(index, 'center');
}

function isCodeCellModel(model: ICellModel): model is ICodeCellModel {
  return model.type === 'code';
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'mlbench: models, pipeline runs, sweeps and monitors in JupyterLab.',
  autoStart: true,
  requires: [IDocumentManager],
  optional: [
    ISettingRegistry,
    ICommandPalette,
    ILauncher,
    IStatusBar,
    IFileBrowserFactory,
    IDefaultFileBrowser,
    ILayoutRestorer,
    ILabShell
  ],
  activate: (
    app: JupyterFrontEnd,
    docManager: IDocumentManager,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    launcher: ILauncher | null,
    statusBar: IStatusBar | null,
    browserFactory: IFileBrowserFactory | null,
    defaultBrowser: IDefaultFileBrowser | null,
    restorer: ILayoutRestorer | null
  ) => {
    const client = new MlbenchClient(app.serviceManager.serverSettings);
    const settings = new SettingsModel();
    const jobs = new JobsModel(client);
    const monitor = new MonitorModel(client, settings);
    const openNotebook = (path: string, cell: number | null) => openNotebookAt(docManager, path, cell);

    const ctx: IMlbenchApp = { client, settings, jobs, monitor, commands: app.commands, openNotebook };
    const sidebar = new MlbenchSidebar(ctx);
    app.shell.add(sidebar, 'left', { rank: 850 });
    if (restorer) {
      restorer.add(sidebar, 'mlbench-sidebar');
    }

    const reports = new ReportTabs(widget => {
      if (!widget.isAttached) {
        app.shell.add(widget, 'main');
      }
      app.shell.activateById(widget.id);
    });

    registerCommands({ app, client, jobs, monitor, sidebar, reports, docManager, browserFactory, defaultBrowser, openNotebook });

    // saved profiles: a file type and a document widget showing `GET report?path=`
    app.docRegistry.addFileType({
      name: PROFILE_FILE_TYPE,
      displayName: 'mlbench profile',
      extensions: ['.mbp'],
      mimeTypes: ['application/x-mlbench-profile'],
      fileFormat: 'base64',
      contentType: 'file',
      icon: mlbenchIcon
    });
    if (!app.docRegistry.getFileType('parquet')) {
      app.docRegistry.addFileType({
        name: 'parquet',
        displayName: 'Parquet',
        extensions: ['.parquet', '.pq'],
        mimeTypes: ['application/vnd.apache.parquet'],
        fileFormat: 'base64',
        contentType: 'file'
      });
    }
    app.docRegistry.addWidgetFactory(
      new ProfileReportFactory(
        {
          name: REPORT_FACTORY,
          label: 'mlbench report',
          fileTypes: [PROFILE_FILE_TYPE],
          defaultFor: [PROFILE_FILE_TYPE],
          modelName: 'base64',
          readOnly: true
        },
        client
      )
    );

    // file browser context menu
    const item = (command: string, selector: string, rank: number): void => {
      app.contextMenu.addItem({ command, selector, rank });
    };
    const dataSelectors = [
      '.jp-DirListing-item[data-file-type="csv"]',
      '.jp-DirListing-item[data-file-type="parquet"]',
      '.jp-DirListing-item[data-isdir="true"]'
    ];
    for (const selector of dataSelectors) {
      item(CommandIDs.profile, selector, 60);
      item(CommandIDs.validate, selector, 61);
      item(CommandIDs.drift, selector, 62);
    }
    item(CommandIDs.runPipeline, '.jp-DirListing-item[data-file-type="yaml"]', 60);
    item(CommandIDs.openReport, '.jp-DirListing-item[data-file-type="json"]', 60);
    item(CommandIDs.openReport, `.jp-DirListing-item[data-file-type="${PROFILE_FILE_TYPE}"]`, 60);

    if (palette) {
      for (const command of PALETTE_COMMANDS) {
        palette.addItem({ command, category: 'mlbench', args: { isPalette: true } });
      }
    }
    if (launcher) {
      launcher.add({ command: CommandIDs.newPipeline, category: 'Other', rank: 20, args: { isLauncher: true } });
    }
    if (statusBar) {
      statusBar.registerStatusItem('mlbench:alerts', {
        item: new AlertStatus(monitor, () => void app.commands.execute(CommandIDs.openMonitor)),
        align: 'right',
        rank: 20,
        isActive: () => true
      });
    }

    // settings → server config
    const applySettings = async (composite: Record<string, unknown>): Promise<void> => {
      const value = readSettings(composite);
      try {
        await client.setConfig(settingsToConfig(value));
      } catch (error) {
        console.warn(`mlbench: could not send the settings to the server: ${describeError(error)}`);
      }
      settings.set(value);
    };
    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(loaded => {
          loaded.changed.connect(() => void applySettings(loaded.composite as Record<string, unknown>));
          return applySettings(loaded.composite as Record<string, unknown>);
        })
        .catch(error => console.error('mlbench: failed to load settings', error))
        .then(() => monitor.start());
    } else {
      monitor.start();
    }
  }
};

export default plugin;
