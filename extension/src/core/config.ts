/** Settings ↔ server config mapping (pure, unit-tested). */

export interface IMlbenchSettings {
  modelStore: string;
  monitorStore: string;
  runsRoot: string;
  ledger: string;
  sweepStorage: string;
  /** Seconds between refreshes of the sidebar and the status bar. */
  refreshInterval: number;
}

export const DEFAULT_SETTINGS: IMlbenchSettings = {
  modelStore: '',
  monitorStore: '',
  runsRoot: '',
  ledger: '',
  sweepStorage: '',
  refreshInterval: 10
};

/** The body of `POST config`: snake_case keys; '' means "server default". */
export interface IConfigBody {
  model_store: string;
  monitor_store: string;
  runs_root: string;
  ledger: string;
  sweep_storage: string;
}

function str(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

/** Read the composite settings object leniently (missing/wrong types fall back). */
export function readSettings(composite: Record<string, unknown> | null | undefined): IMlbenchSettings {
  const c = composite || {};
  const interval = Number(c.refreshInterval);
  return {
    modelStore: str(c.modelStore),
    monitorStore: str(c.monitorStore),
    runsRoot: str(c.runsRoot),
    ledger: str(c.ledger),
    sweepStorage: str(c.sweepStorage),
    refreshInterval: isFinite(interval) && interval > 0 ? interval : DEFAULT_SETTINGS.refreshInterval
  };
}

export function settingsToConfig(settings: IMlbenchSettings): IConfigBody {
  return {
    model_store: settings.modelStore,
    monitor_store: settings.monitorStore,
    runs_root: settings.runsRoot,
    ledger: settings.ledger,
    sweep_storage: settings.sweepStorage
  };
}

/** Poll period in ms: the setting, never below 2 s (a busy server) or above 1 h. */
export function refreshMs(settings: Pick<IMlbenchSettings, 'refreshInterval'>): number {
  const s = Number(settings.refreshInterval);
  const secs = isFinite(s) && s > 0 ? s : DEFAULT_SETTINGS.refreshInterval;
  return Math.round(Math.min(3600, Math.max(2, secs)) * 1000);
}

/**
 * Pipeline parameters typed as `rows=5000 n_trials=3 promote=true model_name=x` (the CLI's
 * `-p key=value`): numbers and true/false/null become JSON values, the rest strings.
 * Throws on a word without `=`.
 */
export function parseParams(text: string): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  const words = (text || '').match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g) || [];
  for (const word of words) {
    const at = word.indexOf('=');
    if (at <= 0) {
      throw new Error(`parameter ${JSON.stringify(word)}: expected key=value`);
    }
    const key = word.slice(0, at);
    let raw = word.slice(at + 1);
    const quoted = /^(["']).*\1$/.test(raw);
    if (quoted) {
      raw = raw.slice(1, -1);
    }
    let value: string | number | boolean | null = raw;
    if (!quoted) {
      if (raw === 'true' || raw === 'false') {
        value = raw === 'true';
      } else if (raw === 'null') {
        value = null;
      } else if (raw !== '' && isFinite(Number(raw))) {
        value = Number(raw);
      }
    }
    out[key] = value;
  }
  return out;
}
