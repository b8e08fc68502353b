/**
 * `fleetdeploy-coordinator backup FILE` and `restore FILE`: the way back from a damaged or lost
 * database (see backup.ts for how each is made safe).
 *
 *   backup --data-dir D FILE     a consistent copy, while the coordinator runs or not
 *   restore --data-dir D FILE    with the coordinator stopped: FILE becomes D/coordinator.db
 */
import { Command } from 'commander';
import { loadConfig } from '../config.js';
import { requireDataDir } from '../data-dir.js';
import { backupDatabase, restoreDatabase } from './backup.js';

interface DataDirOptions {
  config?: string;
  dataDir?: string;
}

const withDataDirOptions = (c: Command): Command =>
  c
    .option('-c, --config <file>', 'the coordinator\'s YAML configuration file (for data_dir)')
    .option('--data-dir <dir>', 'the coordinator\'s data directory (default: ./fleetdeploy-data)');

/** backupCommand builds `backup FILE`. */
export function backupCommand(): Command {
  return withDataDirOptions(
    new Command('backup')
      .description('copy the database to FILE, consistent even while the coordinator runs (SQLite online backup), and check the copy')
      .argument('<file>', 'the backup to write (must not exist; made readable by you only, as it holds the access keys\' secrets)'),
  ).action(async (file: string, opts: DataDirOptions) => {
    const config = loadConfig(opts.config, { dataDir: opts.dataDir });
    requireDataDir(config.dataDir, opts.dataDir !== undefined || opts.config !== undefined);
    const r = await backupDatabase(config.dataDir, file);
    console.log(`backed up ${r.file} to ${file} (${r.pages} pages, ${r.bytes} bytes; integrity checked)`);
  });
}

/** restoreCommand builds `restore FILE`. */
export function restoreCommand(): Command {
  return withDataDirOptions(
    new Command('restore')
      .description('replace the database with the backup FILE (the coordinator must be stopped); the replaced file is kept beside it')
      .argument('<file>', 'a backup made by fleetdeploy-coordinator backup'),
  ).action((file: string, opts: DataDirOptions) => {
    const config = loadConfig(opts.config, { dataDir: opts.dataDir });
    const r = restoreDatabase(config.dataDir, file);
    const kept = r.keptAs === undefined ? '' : `; the replaced database is kept as ${r.keptAs}: delete it once the coordinator serves as expected`;
    console.log(`restored ${r.file} from ${file} (integrity checked)${kept}`);
  });
}
