/** Command registration: every mlbench action is a `mlbench:<verb>` command. */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification, showErrorMessage } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { IDefaultFileBrowser, IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { Contents } from '@jupyterlab/services';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { MlbenchClient, describeError } from './client';
import {
  basename,
  cleanPath,
  dirname,
  extname,
  isDataPath,
  isPipelineYaml,
  isReportPath,
  isSuiteYaml,
  joinPath,
  pipelineCandidates
} from './core/paths';
import { parseParams } from './core/config';
import { IJob } from './core/types';
import { parseTag } from './core/url';
import { mlbenchIcon } from './icons';
import { JobsModel, MonitorModel } from './model';
import { CommandIDs } from './widgets/context';
import { askPath, askPromotion } from './widgets/dialogs';
import { ReportTabs } from './widgets/report';
import { MlbenchSidebar, SectionId } from './widgets/sidebar';

export interface ICommandDeps {
  app: JupyterFrontEnd;
  client: MlbenchClient;
  jobs: JobsModel;
  monitor: MonitorModel;
  sidebar: MlbenchSidebar;
  reports: ReportTabs;
  docManager: IDocumentManager;
  browserFactory: IFileBrowserFactory | null;
  defaultBrowser: IDefaultFileBrowser | null;
  openNotebook: (path: string, cell: number | null) => Promise<void>;
}

function str(args: ReadonlyPartialJSONObject, key: string): string {
  const value = args[key];
  return typeof value === 'string' ? value : '';
}

export function registerCommands(deps: ICommandDeps): void {
  const { app, client, jobs, sidebar, reports, docManager } = deps;
  const { commands } = app;

  const browser = () => (deps.browserFactory && deps.browserFactory.tracker.currentWidget) || deps.defaultBrowser || null;
  /** The file-browser selection (what a context-menu command acts on). */
  const selection = (): Contents.IModel[] => {
    const current = browser();
    return current ? Array.from(current.selectedItems()) : [];
  };
  const currentDir = (): string => {
    const current = browser();
    return current ? current.model.path : '';
  };
  /** Names in a folder, for dialog suggestions (best effort). */
  const listDir = async (dir: string, keep: (item: Contents.IModel) => boolean): Promise<string[]> => {
    try {
      const model = await app.serviceManager.contents.get(dir, { content: true });
      const items = (model.content as Contents.IModel[]) || [];
      return items.filter(keep).map(item => item.path);
    } catch {
      return [];
    }
  };
  const target = (args: ReadonlyPartialJSONObject, accept: (item: Contents.IModel) => boolean): Contents.IModel | null => {
    const path = str(args, 'path');
    if (path) {
      return { path: cleanPath(path), name: basename(path), type: extname(path) ? 'file' : 'directory' } as Contents.IModel;
    }
    const items = selection().filter(accept);
    return items.length ? items[0] : null;
  };
  const isData = (item: Contents.IModel): boolean => isDataPath(item.path, item.type === 'directory');
  /** The data a command acts on: its `path` argument or the selection, else asked for in a dialog (null: cancelled). */
  const dataTarget = async (
    args: ReadonlyPartialJSONObject,
    ask: { title: string; prompt: string; okLabel: string }
  ): Promise<Contents.IModel | null> => {
    const item = target(args, isData);
    if (item) {
      return item;
    }
    const answer = await askPath({ ...ask, suggestions: await listDir(currentDir(), isData) });
    return answer ? ({ path: cleanPath(answer.path), name: basename(answer.path) } as Contents.IModel) : null;
  };

  const openSidebar = (section?: SectionId): void => {
    app.shell.activateById(sidebar.id);
    if (section) {
      sidebar.openSection(section);
    }
  };

  /** Start a job from a POST; failures of the request itself show in the Jobs section. */
  const startJob = async (label: string, post: () => Promise<IJob>, onDone?: (job: IJob) => void): Promise<IJob | null> => {
    openSidebar('jobs');
    try {
      const job = await post();
      jobs.track(job, label, onDone);
      return job;
    } catch (error) {
      jobs.fail(label, error);
      Notification.error(`${label}: ${describeError(error)}`, { autoClose: 8000 });
      return null;
    }
  };
  const openJobReport = (job: IJob, label: string): void => {
    if (job.state !== 'done') {
      return;
    }
    reports.open({ key: `job:${job.id}`, label, kind: job.kind, load: () => client.jobReport(job.id) });
  };

  commands.addCommand(CommandIDs.openSidebar, {
    label: 'Open the mlbench sidebar',
    icon: mlbenchIcon,
    execute: () => openSidebar()
  });
  commands.addCommand(CommandIDs.openSection, {
    label: args => `Open mlbench ${str(args, 'section') || 'sidebar'}`,
    execute: args => openSidebar((str(args, 'section') || 'models') as SectionId)
  });
  commands.addCommand(CommandIDs.openMonitor, {
    label: 'Open mlbench Monitor',
    execute: () => openSidebar('monitor')
  });
  commands.addCommand(CommandIDs.refresh, {
    label: 'Refresh the mlbench sidebar',
    execute: () => {
      sidebar.refresh();
      void deps.monitor.refresh();
    }
  });

  // --- data actions (file browser context menu) -------------------------------------------
  commands.addCommand(CommandIDs.profile, {
    label: args => (args.isPalette ? 'Profile a data file or folder…' : 'Profile'),
    caption: 'Profile the data (columns, nulls, quantiles, …) and open the report',
    icon: mlbenchIcon,
    isVisible: args => !!str(args, 'path') || !!args.isPalette || selection().some(isData),
    execute: async args => {
      const item = await dataTarget(args, {
        title: 'Profile',
        prompt: 'CSV/Parquet file or folder to profile (relative to the server root):',
        okLabel: 'Profile'
      });
      if (!item) {
        return null;
      }
      const label = `Profile ${item.name || item.path}`;
      return startJob(label, () => client.profile(item.path), job => openJobReport(job, label));
    }
  });

  commands.addCommand(CommandIDs.validate, {
    label: args => (args.isPalette ? 'Validate data against a suite…' : 'Validate against suite…'),
    caption: 'Check the data against a suite YAML (expectations) and open the report',
    icon: mlbenchIcon,
    isVisible: args => !!str(args, 'path') || !!args.isPalette || selection().some(isData),
    execute: async args => {
      const item = await dataTarget(args, {
        title: 'Validate',
        prompt: 'Data to validate (CSV/Parquet file or folder):',
        okLabel: 'Next'
      });
      if (!item) {
        return null;
      }
      let suite = str(args, 'suite');
      if (!suite) {
        const dir = dirname(item.path);
        const suggestions = await listDir(dir, i => i.type !== 'directory' && isSuiteYaml(i.path));
        const answer = await askPath({
          title: `Validate ${item.name || item.path}`,
          prompt: 'Suite YAML (relative to the server root; `mlbench suite data.csv > suite.yaml` writes one):',
          okLabel: 'Validate',
          value: suggestions[0] || '',
          placeholder: joinPath(dir, 'suite.yaml'),
          suggestions,
          testId: 'mlbench-validate-dialog'
        });
        if (!answer) {
          return null;
        }
        suite = answer.path;
      }
      const label = `Validate ${item.name || item.path}`;
      const path = item.path;
      return startJob(label, () => client.validate(path, cleanPath(suite)), job => openJobReport(job, label));
    }
  });

  commands.addCommand(CommandIDs.drift, {
    label: args => (args.isPalette ? 'Drift: compare data against a reference…' : 'Drift against…'),
    caption: 'Compare this data (current) against a reference data set or profile',
    icon: mlbenchIcon,
    isVisible: args => !!str(args, 'path') || !!args.isPalette || selection().some(isData),
    execute: async args => {
      const item = await dataTarget(args, {
        title: 'Drift',
        prompt: 'Current data (CSV/Parquet file or folder):',
        okLabel: 'Next'
      });
      if (!item) {
        return null;
      }
      let reference = str(args, 'reference');
      if (!reference) {
        const dir = dirname(item.path);
        const current = item.path;
        const suggestions = await listDir(
          dir,
          i => i.path !== current && (isDataPath(i.path, i.type === 'directory') || extname(i.path) === '.mbp')
        );
        const answer = await askPath({
          title: `Drift of ${item.name || item.path}`,
          prompt: 'Reference data or saved profile (.mbp) to compare against:',
          okLabel: 'Compare',
          suggestions,
          testId: 'mlbench-drift-dialog'
        });
        if (!answer) {
          return null;
        }
        reference = answer.path;
      }
      const label = `Drift ${basename(reference)} → ${item.name || basename(item.path)}`;
      const currentPath = item.path;
      return startJob(label, () => client.drift(cleanPath(reference), currentPath), job => openJobReport(job, label));
    }
  });

  // --- pipelines ---------------------------------------------------------------------------
  const startRun = (
    pipeline: string,
    options: { force?: boolean; resume?: string | null; params?: Record<string, unknown> },
    label: string
  ) =>
    startJob(
      label,
      () => client.startRun(pipeline, options),
      () => sidebar.refresh('runs')
    ).then(job => {
      sidebar.refresh('runs');
      openSidebar('runs');
      return job;
    });

  commands.addCommand(CommandIDs.runPipeline, {
    label: args => (args.isPalette ? 'Run a pipeline (pipeline.yaml)…' : 'Run pipeline'),
    caption: 'Run the pipeline’s step notebooks with papermill (cached steps are skipped)',
    icon: mlbenchIcon,
    isVisible: args => !!str(args, 'path') || !!args.isPalette || selection().some(i => isPipelineYaml(i.path)),
    execute: async args => {
      let path = str(args, 'path');
      let force = !!args.force;
      let params: Record<string, unknown> =
        args.params && typeof args.params === 'object' && !Array.isArray(args.params) ? { ...(args.params as object) } : {};
      const picked = selection().find(i => isPipelineYaml(i.path));
      if (!path || args.ask === true) {
        const dir = currentDir();
        const suggestions = await listDir(dir, i => isPipelineYaml(i.path));
        let extra = '';
        for (;;) {
          const answer = await askPath({
            title: 'Run pipeline',
            prompt: 'pipeline.yaml to run (relative to the server root):',
            okLabel: 'Run',
            value: path || (picked ? picked.path : suggestions[0] || ''),
            placeholder: joinPath(dir, 'pipeline.yaml'),
            suggestions,
            extra: { label: 'Parameters (optional)', placeholder: 'rows=5000 n_trials=3', value: extra },
            flags: [{ name: 'force', label: 'force: re-run every step, ignoring the cache', value: force }],
            testId: 'mlbench-run-dialog'
          });
          if (!answer) {
            return null;
          }
          path = answer.path;
          force = !!answer.flags.force;
          extra = answer.extra;
          try {
            params = parseParams(answer.extra);
            break;
          } catch (error) {
            await showErrorMessage('Run pipeline', describeError(error));
          }
        }
      }
      const clean = cleanPath(path);
      return startRun(clean, { force, params }, `Run ${clean}${force ? ' (force)' : ''}`);
    }
  });
  /** The pipeline.yaml of a recorded run: the first candidate that exists, else ask. */
  const resolvePipeline = async (args: ReadonlyPartialJSONObject, title: string): Promise<string | null> => {
    const explicit = str(args, 'path');
    if (explicit) {
      return cleanPath(explicit);
    }
    const candidates = pipelineCandidates({ pipeline: str(args, 'pipeline'), folder: str(args, 'folder') });
    for (const candidate of candidates) {
      try {
        await app.serviceManager.contents.get(candidate, { content: false });
        return candidate;
      } catch {
        // not there: try the next one
      }
    }
    const answer = await askPath({
      title,
      prompt: `Which pipeline.yaml ran “${str(args, 'pipeline') || 'this run'}”?`,
      okLabel: 'Run',
      value: candidates[0] || '',
      suggestions: candidates
    });
    return answer ? cleanPath(answer.path) : null;
  };

  commands.addCommand(CommandIDs.resumeRun, {
    label: 'Resume a failed pipeline run…',
    caption: 'Run again from the failed step, reusing the steps that succeeded',
    execute: async args => {
      let runId = str(args, 'runId');
      if (!runId) {
        const answer = await askPath({ title: 'Resume run', prompt: 'Run id to resume:', okLabel: 'Next' });
        if (!answer) {
          return null;
        }
        runId = answer.path;
      }
      let info: ReadonlyPartialJSONObject = args;
      if (!str(args, 'pipeline') && !str(args, 'path')) {
        try {
          const run = await client.run(runId);
          info = { pipeline: run.pipeline, folder: str(args, 'folder') };
        } catch (error) {
          await showErrorMessage('Resume run', describeError(error));
          return null;
        }
      }
      const pipeline = await resolvePipeline(info, `Resume ${runId}`);
      return pipeline ? startRun(pipeline, { resume: runId }, `Resume ${runId}`) : null;
    }
  });
  commands.addCommand(CommandIDs.forceRun, {
    label: 'Re-run a pipeline, ignoring the cache (force)…',
    execute: async args => {
      if (!str(args, 'pipeline') && !str(args, 'path')) {
        return commands.execute(CommandIDs.runPipeline, { force: true, ask: true });
      }
      const pipeline = await resolvePipeline(args, 'Re-run (force)');
      return pipeline ? startRun(pipeline, { force: true }, `Run ${pipeline} (force)`) : null;
    }
  });

  commands.addCommand(CommandIDs.newPipeline, {
    label: args => (args.isLauncher ? 'New mlbench pipeline' : 'New mlbench pipeline in the current folder'),
    caption: 'Copy the flights pipeline template (pipeline.yaml + step notebooks) into a folder',
    icon: mlbenchIcon,
    execute: async args => {
      let dir = cleanPath(str(args, 'cwd') || str(args, 'dir') || currentDir());
      // the template goes into an empty folder: ask for a new one up front when this one isn't
      let occupied = false;
      try {
        const listing = await app.serviceManager.contents.get(dir, { content: true });
        occupied = Array.isArray(listing.content) && listing.content.length > 0;
      } catch {
        occupied = false; // let the server say what is wrong
      }
      if (occupied) {
        const answer = await askPath({
          title: 'New mlbench pipeline',
          prompt: `${dir || 'The root folder'} is not empty. Create the pipeline in a new folder:`,
          okLabel: 'Create',
          value: joinPath(dir, 'pipeline'),
          testId: 'mlbench-new-pipeline-dialog'
        });
        if (!answer) {
          return null;
        }
        dir = cleanPath(answer.path);
        try {
          await app.serviceManager.contents.save(dir, { type: 'directory' });
        } catch (err) {
          await showErrorMessage('New mlbench pipeline', `cannot create folder ${dir}: ${describeError(err)}`);
          return null;
        }
      }
      for (;;) {
        try {
          const result = await client.newPipeline(dir);
          deps.sidebar.refresh('runs');
          return docManager.openOrReveal(result.pipeline);
        } catch (error) {
          const status = (error as { status?: number }).status;
          if (status !== 409) {
            await showErrorMessage('New mlbench pipeline', describeError(error));
            return null;
          }
          // the folder is not empty: offer a new sub-folder
          const answer = await askPath({
            title: 'New mlbench pipeline',
            prompt: `${describeError(error).replace(/[.\s]*$/, "")}. Create the pipeline in a new folder instead:`,
            okLabel: 'Create',
            value: joinPath(dir, 'pipeline'),
            testId: 'mlbench-new-pipeline-dialog'
          });
          if (!answer) {
            return null;
          }
          dir = cleanPath(answer.path);
          try {
            await app.serviceManager.contents.save(dir, { type: 'directory' });
          } catch (err) {
            await showErrorMessage('New mlbench pipeline', `cannot create folder ${dir}: ${describeError(err)}`);
            return null;
          }
        }
      }
    }
  });

  // --- reports -----------------------------------------------------------------------------
  commands.addCommand(CommandIDs.openReport, {
    label: args => (args.isPalette ? 'Open an mlbench report (profile .mbp or drift .json)…' : 'Open as mlbench report'),
    icon: mlbenchIcon,
    isVisible: args => !!str(args, 'path') || !!args.isPalette || selection().some(i => isReportPath(i.path)),
    execute: async args => {
      let path = str(args, 'path');
      if (!path) {
        const picked = selection().find(i => isReportPath(i.path));
        if (picked) {
          path = picked.path;
        } else {
          const answer = await askPath({
            title: 'Open report',
            prompt: 'Saved profile (.mbp) or drift report (.json):',
            okLabel: 'Open',
            suggestions: await listDir(currentDir(), i => isReportPath(i.path))
          });
          if (!answer) {
            return null;
          }
          path = answer.path;
        }
      }
      const clean = cleanPath(path);
      return reports.open({ key: `report:${clean}`, label: basename(clean), caption: clean, kind: 'report', load: () => client.report(clean) });
    }
  });
  commands.addCommand(CommandIDs.openJobReport, {
    label: 'Open a job’s report',
    execute: args => {
      const id = str(args, 'id');
      if (!id) {
        return null;
      }
      return reports.open({ key: `job:${id}`, label: str(args, 'label') || `Report ${id}`, kind: 'job', load: () => client.jobReport(id) });
    }
  });
  commands.addCommand(CommandIDs.openDashboard, {
    label: args => (str(args, 'model') ? `Open the ${str(args, 'model')} dashboard` : 'Open a monitor dashboard…'),
    icon: mlbenchIcon,
    execute: async args => {
      let model = str(args, 'model');
      if (!model) {
        const names = (deps.monitor.data?.models || []).map(m => m.model);
        const answer = await askPath({ title: 'Monitor dashboard', prompt: 'Served model:', okLabel: 'Open', value: names[0] || '', suggestions: names });
        if (!answer) {
          return null;
        }
        model = answer.path;
      }
      return reports.open({ key: `dashboard:${model}`, label: `${model} dashboard`, kind: 'dashboard', load: () => client.dashboard(model) });
    }
  });

  // --- models ------------------------------------------------------------------------------
  const askTag = async (args: ReadonlyPartialJSONObject, title: string): Promise<{ name: string; version: string } | null> => {
    if (str(args, 'name') && str(args, 'version')) {
      return { name: str(args, 'name'), version: str(args, 'version') };
    }
    const fromTag = parseTag(str(args, 'tag'));
    if (fromTag) {
      return fromTag;
    }
    const answer = await askPath({ title, prompt: 'Model tag (name:version):', okLabel: 'OK', placeholder: 'name:version' });
    if (!answer) {
      return null;
    }
    const tag = parseTag(answer.path);
    if (!tag) {
      await showErrorMessage(title, `“${answer.path}” is not a model tag: expected name:version`);
    }
    return tag;
  };

  commands.addCommand(CommandIDs.promote, {
    label: 'Promote a model version…',
    caption: 'Move a model version to production, staging or archived, with a reason',
    execute: async args => {
      const tag = await askTag(args, 'Promote');
      if (!tag) {
        return null;
      }
      let stage: string | null = typeof args.stage === 'string' ? args.stage : null;
      if (!str(args, 'reason')) {
        const promotion = await askPromotion(`${tag.name}:${tag.version}`, stage);
        if (!promotion) {
          return null;
        }
        stage = promotion.stage;
        const result = await client.promote(tag.name, tag.version, promotion.stage, promotion.reason);
        sidebar.refresh('models');
        return result;
      }
      const result = await client.promote(tag.name, tag.version, stage || 'staging', str(args, 'reason'));
      sidebar.refresh('models');
      return result;
    }
  });
  commands.addCommand(CommandIDs.serve, {
    label: 'Serve a model version locally…',
    execute: async args => {
      const tag = await askTag(args, 'Serve locally');
      if (!tag) {
        return null;
      }
      try {
        const serving = await client.serve(tag.name, tag.version);
        Notification.info(`Serving ${tag.name}:${tag.version} at ${serving.url}`, { autoClose: 6000 });
        return serving;
      } catch (error) {
        await showErrorMessage('Serve locally', describeError(error));
        return null;
      }
    }
  });
  commands.addCommand(CommandIDs.stopServing, {
    label: 'Stop serving a model version…',
    execute: async args => {
      const tag = await askTag(args, 'Stop serving');
      if (!tag) {
        return null;
      }
      try {
        return await client.stopServing(tag.name, tag.version);
      } catch (error) {
        await showErrorMessage('Stop serving', describeError(error));
        return null;
      }
    }
  });
  commands.addCommand(CommandIDs.verify, {
    label: 'Verify a model version (integrity, golden parity)…',
    execute: async args => {
      const tag = await askTag(args, 'Verify');
      if (!tag) {
        return null;
      }
      return startJob(`Verify ${tag.name}:${tag.version}`, () => client.verify(tag.name, tag.version));
    }
  });
  commands.addCommand(CommandIDs.ackAlerts, {
    label: args => (str(args, 'model') ? `Acknowledge ${str(args, 'model')} alerts` : 'Acknowledge all mlbench alerts'),
    execute: async args => {
      const model = str(args, 'model');
      const ids = Array.isArray(args.ids) ? (args.ids as Array<string | number>) : null;
      const result = await client.ackAlerts(ids ? { ids } : model ? { all: true, model } : { all: true });
      await deps.monitor.refresh();
      return result;
    }
  });
  commands.addCommand(CommandIDs.openStep, {
    label: 'Open a pipeline step’s executed notebook',
    execute: args => {
      const path = str(args, 'path');
      const cell = typeof args.cell === 'number' ? args.cell : null;
      return path ? deps.openNotebook(cleanPath(path), cell) : null;
    }
  });
}

/** Commands shown in the palette (category "mlbench"). */
export const PALETTE_COMMANDS: string[] = [
  CommandIDs.openSidebar,
  CommandIDs.openMonitor,
  CommandIDs.refresh,
  CommandIDs.profile,
  CommandIDs.validate,
  CommandIDs.drift,
  CommandIDs.runPipeline,
  CommandIDs.resumeRun,
  CommandIDs.forceRun,
  CommandIDs.newPipeline,
  CommandIDs.openReport,
  CommandIDs.openDashboard,
  CommandIDs.promote,
  CommandIDs.serve,
  CommandIDs.stopServing,
  CommandIDs.verify,
  CommandIDs.ackAlerts
];
