/**
 * Command line of a service: `--help` prints what the service does and every environment variable it
 * reads (from the config declarations), then exits 0; unknown arguments exit 2 with a message.
 */
import { type ConfigDefinition, envHelpText, type EnvVarDoc, loadConfig } from '@s2g/config';
import { ErrorCode, isS2gError } from '@s2g/contracts';
import { Command, CommanderError } from 'commander';

export interface ServiceCliOptions {
  /** Program name, e.g. `s2g-trainer`. */
  name: string;
  description: string;
  env: readonly EnvVarDoc[];
  argv?: readonly string[];
}

/** Exit code for an invalid configuration (sysexits EX_CONFIG). */
export const EXIT_CONFIG = 78;
export const EXIT_USAGE = 2;

export function usage(options: Omit<ServiceCliOptions, 'argv'>): Command {
  return new Command(options.name)
    .description(options.description)
    .helpOption('-h, --help', 'print this help and exit')
    .addHelpText('after', `\nEnvironment variables:\n${envHelpText(options.env)}\n\nSee docs/CONFIG.md for details.`);
}

/** Handles `--help` (print, exit 0) and bad arguments (message, exit 2); returns when the service should run. */
export function parseServiceArgs(options: ServiceCliOptions): void {
  const program = usage(options).exitOverride();
  try {
    program.parse([...(options.argv ?? process.argv.slice(2))], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : EXIT_USAGE);
    throw e;
  }
}

/** Loads the configuration, or prints every problem and exits 78. */
export function loadConfigOrExit<T>(definition: ConfigDefinition<T>, env: NodeJS.ProcessEnv = process.env): T {
  try {
    return loadConfig(definition, env);
  } catch (e) {
    if (isS2gError(e) && e.code === ErrorCode.CONFIG_INVALID) {
      process.stderr.write(`${e.message}\nRun with --help to see every variable.\n`);
      process.exit(EXIT_CONFIG);
    }
    throw e;
  }
}
