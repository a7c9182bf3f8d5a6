/** File-path helpers for the file-browser actions (pure, unit-tested). */

export const DATA_EXTENSIONS = ['.csv', '.parquet', '.pq', '.tsv'];
export const PROFILE_EXTENSION = '.mbp';

export function basename(path: string): string {
  const clean = path.replace(/\/+$/, '');
  const at = clean.lastIndexOf('/');
  return at >= 0 ? clean.slice(at + 1) : clean;
}

export function dirname(path: string): string {
  const clean = path.replace(/\/+$/, '');
  const at = clean.lastIndexOf('/');
  return at > 0 ? clean.slice(0, at) : '';
}

export function extname(path: string): string {
  const name = basename(path).toLowerCase();
  const gz = name.endsWith('.gz') ? '.gz' : '';
  const stem = gz ? name.slice(0, -3) : name;
  const at = stem.lastIndexOf('.');
  return at > 0 ? stem.slice(at) : '';
}

/** A CSV/Parquet file, or a folder (a partitioned data set): what Profile accepts. */
export function isDataPath(path: string, isDir = false): boolean {
  return isDir || DATA_EXTENSIONS.includes(extname(path));
}

export function isPipelineYaml(path: string): boolean {
  const name = basename(path).toLowerCase();
  return name === 'pipeline.yaml' || name === 'pipeline.yml';
}

export function isSuiteYaml(path: string): boolean {
  const ext = extname(path);
  return (ext === '.yaml' || ext === '.yml') && !isPipelineYaml(path);
}

/** Saved profiles and drift JSON reports open with `GET report?path=`. */
export function isReportPath(path: string): boolean {
  const ext = extname(path);
  return ext === PROFILE_EXTENSION || ext === '.json';
}

/** Join a folder and a name the way the contents API spells paths ('' is the root). */
export function joinPath(dir: string, name: string): string {
  const d = dir.replace(/^\/+|\/+$/g, '');
  const n = name.replace(/^\/+/, '');
  return d ? `${d}/${n}` : n;
}

/** Normalise a path typed by the user: no leading `/`, no `./`, no trailing `/`. */
export function cleanPath(path: string): string {
  return path
    .trim()
    .replace(/^\.\/+/, '')
    .replace(/^\/+/, '')
    .replace(/\/+$/, '');
}

/**
 * Where a run's pipeline.yaml probably is. The ledger records the pipeline's *name*; runs
 * live in `<pipeline folder>/<runs root>/<run id>` (mlbench's default runs root is `runs`
 * beside the pipeline.yaml). Candidates in order; the caller checks which exists.
 */
export function pipelineCandidates(run: { pipeline?: string | null; folder?: string | null }): string[] {
  const out: string[] = [];
  const add = (path: string): void => {
    const clean = cleanPath(path);
    if (clean && !out.includes(clean)) {
      out.push(clean);
    }
  };
  const pipeline = run.pipeline || '';
  if (/\.ya?ml$/i.test(pipeline)) {
    add(pipeline);
  }
  if (run.folder) {
    const runsDir = dirname(cleanPath(run.folder));
    const base = dirname(runsDir);
    add(joinPath(base, 'pipeline.yaml'));
    if (pipeline && !/\.ya?ml$/i.test(pipeline)) {
      add(joinPath(joinPath(base, pipeline), 'pipeline.yaml'));
    }
  }
  if (pipeline && !/\.ya?ml$/i.test(pipeline)) {
    add(joinPath(pipeline, 'pipeline.yaml'));
  }
  return out;
}
