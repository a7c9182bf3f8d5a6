/** What the sidebar views need from the application, injected by the plugin. */
import { CommandRegistry } from '@lumino/commands';

import { MlbenchClient } from '../client';
import { JobsModel, MonitorModel, SettingsModel } from '../model';

export interface IMlbenchApp {
  client: MlbenchClient;
  settings: SettingsModel;
  jobs: JobsModel;
  monitor: MonitorModel;
  commands: CommandRegistry;
  /** Open an executed notebook, scrolled to `cell` (the failing one) when given. */
  openNotebook(path: string, cell: number | null): Promise<void>;
}

/** Command ids (category "mlbench" in the palette). */
export namespace CommandIDs {
  export const openSidebar = 'mlbench:open-sidebar';
  export const openSection = 'mlbench:open-section';
  export const openMonitor = 'mlbench:open-monitor';
  export const refresh = 'mlbench:refresh';
  export const profile = 'mlbench:profile';
  export const validate = 'mlbench:validate';
  export const drift = 'mlbench:drift';
  export const runPipeline = 'mlbench:run-pipeline';
  export const resumeRun = 'mlbench:resume-run';
  export const forceRun = 'mlbench:force-run';
  export const newPipeline = 'mlbench:new-pipeline';
  export const openReport = 'mlbench:open-report';
  export const openJobReport = 'mlbench:open-job-report';
  export const openDashboard = 'mlbench:open-dashboard';
  export const promote = 'mlbench:promote';
  export const serve = 'mlbench:serve';
  export const stopServing = 'mlbench:stop-serving';
  export const verify = 'mlbench:verify';
  export const ackAlerts = 'mlbench:ack-alerts';
  export const openStep = 'mlbench:open-step';
}
