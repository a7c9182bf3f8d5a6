import { DEFAULT_SETTINGS, parseParams, readSettings, refreshMs, settingsToConfig } from '../core/config';
import { basename, cleanPath, dirname, extname, isDataPath, isPipelineYaml, isReportPath, isSuiteYaml, joinPath, pipelineCandidates } from '../core/paths';

describe('settings', () => {
  it('reads composite settings leniently', () => {
    expect(readSettings(null)).toEqual(DEFAULT_SETTINGS);
    expect(readSettings({ modelStore: ' models ', refreshInterval: 'x', ledger: 3 })).toEqual({
      ...DEFAULT_SETTINGS,
      modelStore: 'models'
    });
  });

  it('maps to the POST config body with snake_case keys', () => {
    const body = settingsToConfig(
      readSettings({
        modelStore: 'bento',
        monitorStore: 'postgresql://u:p@h/db',
        runsRoot: 'runs',
        ledger: '',
        sweepStorage: 'sqlite:///s.db',
        refreshInterval: 5
      })
    );
    expect(body).toEqual({
      model_store: 'bento',
      monitor_store: 'postgresql://u:p@h/db',
      runs_root: 'runs',
      ledger: '',
      sweep_storage: 'sqlite:///s.db'
    });
  });

  it('clamps the refresh period', () => {
    expect(refreshMs({ refreshInterval: 10 })).toBe(10000);
    expect(refreshMs({ refreshInterval: 0.5 })).toBe(2000);
    expect(refreshMs({ refreshInterval: -1 })).toBe(10000);
    expect(refreshMs({ refreshInterval: 1e9 })).toBe(3600000);
  });
});

describe('paths', () => {
  it('splits paths', () => {
    expect(basename('data/flights/jan.csv')).toBe('jan.csv');
    expect(basename('data/flights/')).toBe('flights');
    expect(dirname('data/flights/jan.csv')).toBe('data/flights');
    expect(dirname('jan.csv')).toBe('');
    expect(extname('a/B.PARQUET')).toBe('.parquet');
    expect(extname('x.csv.gz')).toBe('.csv');
    expect(extname('.hidden')).toBe('');
    expect(joinPath('', 'pipeline')).toBe('pipeline');
    expect(joinPath('a/b/', 'c')).toBe('a/b/c');
    expect(cleanPath(' /data/x.csv/ ')).toBe('data/x.csv');
    expect(cleanPath('./x')).toBe('x');
  });

  it('classifies files for the context menu', () => {
    expect(isDataPath('a.csv')).toBe(true);
    expect(isDataPath('a.parquet')).toBe(true);
    expect(isDataPath('a.txt')).toBe(false);
    expect(isDataPath('folder', true)).toBe(true);
    expect(isPipelineYaml('demo/pipeline.yaml')).toBe(true);
    expect(isPipelineYaml('demo/pipeline.yml')).toBe(true);
    expect(isPipelineYaml('demo/suite.yaml')).toBe(false);
    expect(isSuiteYaml('demo/suite.yaml')).toBe(true);
    expect(isSuiteYaml('demo/pipeline.yaml')).toBe(false);
    expect(isReportPath('p.mbp')).toBe(true);
    expect(isReportPath('drift.json')).toBe(true);
    expect(isReportPath('x.csv')).toBe(false);
  });
});

describe('pipelineCandidates', () => {
  it('uses a recorded yaml path first', () => {
    expect(pipelineCandidates({ pipeline: 'demo/pipeline.yaml', folder: 'demo/runs/r1' })[0]).toBe('demo/pipeline.yaml');
  });

  it('looks beside the runs folder, then in a folder named like the pipeline', () => {
    expect(pipelineCandidates({ pipeline: 'flights', folder: 'demo/runs/20240501T1200-abc' })).toEqual([
      'demo/pipeline.yaml',
      'demo/flights/pipeline.yaml',
      'flights/pipeline.yaml'
    ]);
    expect(pipelineCandidates({ pipeline: 'flights', folder: 'runs/r1' })).toEqual(['pipeline.yaml', 'flights/pipeline.yaml']);
    expect(pipelineCandidates({})).toEqual([]);
  });
});

describe('parseParams', () => {
  it('reads key=value words like the CLI -p flags', () => {
    expect(parseParams('rows=5000 n_trials=3 promote=true model_name=flights-delay x=null')).toEqual({
      rows: 5000,
      n_trials: 3,
      promote: true,
      model_name: 'flights-delay',
      x: null
    });
    expect(parseParams('  ')).toEqual({});
    expect(parseParams('name="two words" v=\'7\'')).toEqual({ name: 'two words', v: '7' });
    expect(parseParams('lr=1e-3')).toEqual({ lr: 0.001 });
  });

  it('refuses words without =', () => {
    expect(() => parseParams('rows 5000')).toThrow(/expected key=value/);
  });
});
