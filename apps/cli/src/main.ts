/**
 * Entry point of the `s2g` command line (see ./cli for the commands). Wiring only.
 */
import { runCli } from './cli';

process.exitCode = await runCli(process.argv.slice(2));
