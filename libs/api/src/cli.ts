/**
 * The gateway's administrative subcommands (they run and exit; the service itself is the default):
 *
 *   migrate                                   apply pending database migrations
 *   tokens create --name <n> --scopes <list>  print a new API token (the first admin token, say)
 *   tokens list                               list tokens (never their secrets)
 *   tokens revoke <id>                        revoke a token at once
 *
 * They read the same environment as the service (DATABASE_URL, or the embedded Postgres under
 * DATA_DIR; the embedded one cannot be opened while a gateway on the same DATA_DIR is running).
 */
import { type ConfigDefinition, envHelpText, loadConfig } from '@s2g/config';
import { describeError, ErrorCode, isS2gError, TOKEN_SCOPES } from '@s2g/contracts';
import { createDataSource, Database, runMigrationCommand } from '@s2g/db';
import { createLogger, EXIT_CONFIG, EXIT_USAGE, type Logger, startEmbeddedPostgres } from '@s2g/service';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { createApiToken } from './auth/tokens';
import { type GatewayConfig, gatewayConfig } from './config';

export const ADMIN_COMMANDS = ['migrate', 'tokens'] as const;

export interface AdminCommandIo {
  env?: NodeJS.ProcessEnv;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /** Defaults to the gateway's configuration. */
  config?: ConfigDefinition<GatewayConfig>;
}

/** Whether the arguments ask for an administrative subcommand rather than the service. */
export function isAdminCommand(argv: readonly string[]): boolean {
  return (ADMIN_COMMANDS as readonly string[]).includes(argv[0] ?? '');
}

/** The database of the configuration: DATABASE_URL, or the embedded Postgres under DATA_DIR. */
async function withDatabaseUrl<T>(config: GatewayConfig, logger: Logger, fn: (url: string, embedded: boolean) => Promise<T>): Promise<T> {
  if (config.database) return fn(config.database.url, false);
  const pg = await startEmbeddedPostgres(config.dataDir, logger);
  try {
    return await fn(pg.url, true);
  } finally {
    await pg.stop();
  }
}

async function withDatabase<T>(config: GatewayConfig, logger: Logger, fn: (db: Database) => Promise<T>): Promise<T> {
  return withDatabaseUrl(config, logger, async (url, embedded) => {
    // The embedded database is this installation's own: bring its schema up to date first, as start-up does.
    if (embedded) await runMigrationCommand('up', url);
    const dataSource = createDataSource(url, { poolSize: 2, applicationName: 's2g-gateway-cli' });
    await dataSource.initialize();
    try {
      return await fn(Database.of(dataSource));
    } finally {
      await dataSource.destroy();
    }
  });
}

function positiveDays(value: string): number {
  const days = Number(value);
  if (!Number.isFinite(days) || days <= 0) throw new InvalidArgumentError('must be a positive number of days');
  return days;
}

/** Runs one administrative subcommand; resolves the exit code. */
export async function runAdminCommand(argv: readonly string[], io: AdminCommandIo = {}): Promise<number> {
  const out = io.stdout ?? ((t: string) => process.stdout.write(t));
  const err = io.stderr ?? ((t: string) => process.stderr.write(t));
  const definition = io.config ?? gatewayConfig;
  let exitCode = 0;

  const config = (): GatewayConfig => loadConfig(definition, io.env ?? process.env);
  // Log lines go to stderr, so stdout carries only the command's output (e.g. the token); routine
  // info lines (the embedded Postgres starting) are left out unless debugging.
  const logger = (c: GatewayConfig): Logger =>
    createLogger({ name: 'gateway-cli', level: c.log.level === 'debug' || c.log.level === 'trace' ? c.log.level : 'warn', destination: { write: (line: string) => err(line) } });

  const program = new Command('s2g-gateway')
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: err })
    .addHelpText('after', `\nEnvironment variables:\n${envHelpText(definition.vars)}`);

  program
    .command('migrate')
    .description('apply pending database migrations, then exit')
    .action(async () => {
      const c = config();
      const lines = await withDatabaseUrl(c, logger(c), (url) => runMigrationCommand('up', url));
      for (const line of lines) out(`${line}\n`);
    });

  const tokens = program.command('tokens').description('manage API tokens');
  tokens
    .command('create')
    .description('create a token and print it (shown only once)')
    .requiredOption('--name <name>', 'what the token is for, e.g. "ci" or "alice laptop"')
    .requiredOption('--scopes <scopes>', `comma-separated: ${TOKEN_SCOPES.join(', ')} (admin includes write, write includes read)`)
    .option('--expires-in-days <days>', 'expire the token after this many days', positiveDays)
    .action(async (opts: { name: string; scopes: string; expiresInDays?: number }) => {
      const c = config();
      const expiresAt = opts.expiresInDays ? new Date(Date.now() + opts.expiresInDays * 86_400_000) : null;
      const scopes = opts.scopes.split(',').map((s) => s.trim()).filter(Boolean);
      const created = await withDatabase(c, logger(c), (db) => createApiToken(db, { name: opts.name, scopes, expiresAt }));
      err(`created token ${created.record.id} (${created.record.name}: ${created.record.scopes.join(', ')}); it is shown only once:\n`);
      out(`${created.token}\n`);
    });
  tokens
    .command('list')
    .description('list tokens (id, name, scopes, created, last used, expires, revoked)')
    .action(async () => {
      const c = config();
      const list = await withDatabase(c, logger(c), (db) => db.apiTokens.list());
      const iso = (d: Date | null): string => (d ? d.toISOString() : '-');
      out('id\tname\tscopes\tcreated\tlast used\texpires\trevoked\n');
      for (const t of list) out(`${t.id}\t${t.name}\t${t.scopes.join(',')}\t${iso(t.createdAt)}\t${iso(t.lastUsedAt)}\t${iso(t.expiresAt)}\t${iso(t.revokedAt)}\n`);
    });
  tokens
    .command('revoke <id>')
    .description('revoke a token at once')
    .action(async (id: string) => {
      const c = config();
      const revoked = await withDatabase(c, logger(c), (db) => db.apiTokens.revoke(id));
      if (revoked) out(`revoked ${id}\n`);
      else {
        err(`no active token ${id}\n`);
        exitCode = 1;
      }
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_USAGE;
    if (isS2gError(e) && e.code === ErrorCode.CONFIG_INVALID) {
      err(`${e.message}\n`);
      return EXIT_CONFIG;
    }
    const { code, message } = describeError(e);
    err(`${code}: ${message}\n`);
    return 1;
  }
}
