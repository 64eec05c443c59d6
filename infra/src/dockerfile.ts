/**
 * A Dockerfile reader and the checks that can run without a Docker engine: what each COPY takes
 * from the build context exists and is not ignored, build outputs copied between stages are what
 * the nx build produces, the image chosen by each APP build-arg runs as a non-root user, has a
 * HEALTHCHECK, and starts with an exec-form CMD that names the app's bundle literally.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { DockerIgnore } from './dockerignore';
import { parseImage } from './objects';
import type { Violation } from './policy';

export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

export interface Stage {
  /** FROM's image or stage reference, unexpanded. */
  from: string;
  name?: string;
  instructions: Instruction[];
  line: number;
}

export interface Dockerfile {
  /** ARG instructions before the first FROM, with their defaults. */
  globalArgs: Map<string, string | undefined>;
  stages: Stage[];
}

export function parseDockerfile(text: string): Dockerfile {
  const lines = text.split(/\r?\n/);
  const instructions: Instruction[] = [];
  let pending = '';
  let start = 0;
  lines.forEach((raw, index) => {
    const trimmed = raw.trim();
    if (pending === '' && (trimmed === '' || trimmed.startsWith('#'))) return;
    if (pending !== '' && trimmed.startsWith('#')) return;
    if (pending === '') start = index + 1;
    if (trimmed.endsWith('\\')) {
      pending += `${trimmed.slice(0, -1).trimEnd()} `;
      return;
    }
    const full = (pending + trimmed).trim();
    pending = '';
    const m = /^(\S+)\s*([\s\S]*)$/.exec(full);
    if (!m) return;
    if (/<<-?\s*["']?[A-Za-z]/.test(m[2]) && ['RUN', 'COPY', 'ADD'].includes(m[1].toUpperCase())) {
      throw new Error(`line ${start}: heredocs are not supported by this reader`);
    }
    instructions.push({ keyword: m[1].toUpperCase(), args: m[2], line: start });
  });
  if (pending !== '') throw new Error('the Dockerfile ends inside a line continuation');

  const globalArgs = new Map<string, string | undefined>();
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?\s*$/i.exec(ins.args);
      if (!m) throw new Error(`line ${ins.line}: cannot read FROM ${ins.args}`);
      stages.push({ from: m[1], name: m[2]?.toLowerCase(), instructions: [], line: ins.line });
    } else if (stages.length === 0) {
      if (ins.keyword !== 'ARG') throw new Error(`line ${ins.line}: only ARG may come before the first FROM`);
      const [name, value] = splitArg(ins.args);
      globalArgs.set(name, value);
    } else {
      stages[stages.length - 1].instructions.push(ins);
    }
  }
  return { globalArgs, stages };
}

function splitArg(args: string): [string, string | undefined] {
  const eq = args.indexOf('=');
  return eq < 0 ? [args.trim(), undefined] : [args.slice(0, eq).trim(), args.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1')];
}

function expand(text: string, vars: Map<string, string | undefined>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, a: string | undefined, b: string | undefined) => vars.get((a ?? b) as string) ?? '');
}

function variablesOf(text: string): string[] {
  return [...text.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g)].map((m) => m[1]);
}

/** Splits a COPY/ADD argument string into flags, sources and destination (shell or JSON form). */
export function copyArgs(args: string): { flags: Map<string, string>; sources: string[]; dest: string } {
  const flags = new Map<string, string>();
  let rest = args.trim();
  for (let m = /^--([a-z-]+)(?:=(\S*))?\s+/.exec(rest); m; m = /^--([a-z-]+)(?:=(\S*))?\s+/.exec(rest)) {
    flags.set(m[1], m[2] ?? '');
    rest = rest.slice(m[0].length);
  }
  const parts = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : rest.split(/\s+/);
  if (parts.length < 2) throw new Error(`COPY needs a source and a destination: ${args}`);
  return { flags, sources: parts.slice(0, -1), dest: parts[parts.length - 1] };
}

/** Exec form: a JSON array of strings. Returns it, or undefined for shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.trim().startsWith('[')) return undefined;
  try {
    const value: unknown = JSON.parse(args);
    return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
  } catch {
    return undefined;
  }
}

export interface DockerfileOptions {
  /** The build context (the repository root). */
  contextDir: string;
  /** The Dockerfile's own ignore file. */
  ignore: DockerIgnore;
  /** Values of the APP build-arg the Dockerfile must build. */
  apps: readonly string[];
  /** Name used in messages. */
  file: string;
}

interface Resolved {
  chain: Stage[];
  vars: Map<string, string | undefined>;
}

/**
 * Follows FROM references from the last stage back to an external image, for one set of build
 * args. A FROM that uses a variable must name a stage (that is how APP picks the app's stage).
 */
function resolveFinal(df: Dockerfile, buildArgs: Record<string, string>): Resolved | string {
  const vars = new Map(df.globalArgs);
  for (const [k, v] of Object.entries(buildArgs)) if (vars.has(k)) vars.set(k, v);
  const chain: Stage[] = [];
  let stage = df.stages[df.stages.length - 1];
  for (;;) {
    chain.unshift(stage);
    const ref = expand(stage.from, vars).toLowerCase();
    const parent = df.stages.slice(0, df.stages.indexOf(stage)).find((s) => s.name === ref);
    if (parent) {
      stage = parent;
      continue;
    }
    if (variablesOf(stage.from).some((v) => df.globalArgs.get(v) === undefined)) {
      return `FROM ${stage.from} resolves to "${ref}", which is no stage of this Dockerfile`;
    }
    return { chain, vars };
  }
}

export function checkDockerfile(text: string, options: DockerfileOptions): Violation[] {
  const found: Violation[] = [];
  const add = (rule: string, line: number, message: string): void => {
    found.push({ rule, object: `${options.file}:${line}`, message });
  };
  const df = parseDockerfile(text);

  // Base images: pinned, never latest (ARG defaults count). A FROM whose variable has no default
  // selects a stage by build-arg and is checked per APP below.
  df.stages.forEach((stage, i) => {
    if (variablesOf(stage.from).some((v) => df.globalArgs.get(v) === undefined)) return;
    const ref = expand(stage.from, df.globalArgs);
    if (df.stages.slice(0, i).some((s) => s.name === ref.toLowerCase())) return;
    const image = parseImage(ref);
    if (!image.tag && !image.digest) add('base-pinned', stage.line, `base image ${ref} has no tag`);
    if (image.tag === 'latest') add('base-pinned', stage.line, `base image ${ref} uses the latest tag`);
  });

  for (const app of options.apps) {
    const resolved = resolveFinal(df, { APP: app });
    if (typeof resolved === 'string') {
      add('app-stage', df.stages[df.stages.length - 1].line, `APP=${app}: ${resolved}`);
      continue;
    }
    const { chain, vars } = resolved;

    // COPY sources, for every stage (BuildKit builds only the stages the target needs, but a
    // broken stage is still a broken file). As in Docker, a stage sees a build-arg only after its
    // own ARG line; inherited stages keep what their parent declared.
    const copied = new Map<Stage, string[]>();
    const declared = new Map<Stage, Map<string, string | undefined>>();
    for (const stage of df.stages) {
      const parent = df.stages.slice(0, df.stages.indexOf(stage)).find((s) => s.name === expand(stage.from, vars).toLowerCase());
      const stageVars = new Map(parent ? declared.get(parent) : []);
      declared.set(stage, stageVars);
      copied.set(stage, []);
      for (const ins of stage.instructions) {
        if (ins.keyword === 'ARG') {
          const [name, value] = splitArg(ins.args);
          stageVars.set(name, name === 'APP' ? app : (value ?? vars.get(name)));
        }
        if (ins.keyword !== 'COPY' && ins.keyword !== 'ADD') continue;
        const { flags, sources } = copyArgs(ins.args);
        const from = flags.get('from');
        for (const raw of sources) {
          const undeclared = variablesOf(raw).filter((v) => stageVars.get(v) === undefined);
          if (undeclared.length > 0) {
            add('copy-source', ins.line, `${raw} uses ${undeclared.map((v) => `\${${v}}`).join(', ')}, which this stage never declares with ARG (it expands to nothing)`);
            continue;
          }
          const source = expand(raw, stageVars);
          copied.get(stage)?.push(source);
          if (from !== undefined) {
            const index = df.stages.indexOf(stage);
            const known = df.stages.slice(0, index).some((s) => s.name === from.toLowerCase());
            if (!known && !from.includes(':') && !from.includes('@')) add('copy-from', ins.line, `COPY --from=${from}: no earlier stage has that name`);
            const output = /(?:^|\/)(dist\/apps\/([^/]+))\/?$/.exec(source);
            if (output) checkBuildOutput(options.contextDir, output[2], ins.line, add);
            continue;
          }
          checkContextSource(source, options, ins.line, add);
        }
      }
    }

    // The image APP selects: user, health, command.
    const last = (keyword: string): Instruction | undefined => chain.flatMap((s) => s.instructions).filter((i) => i.keyword === keyword).pop();
    const where = chain[chain.length - 1].line;
    const user = last('USER');
    const userName = user?.args.trim().split(':')[0];
    if (!user || userName === '' || userName === 'root' || userName === '0') add('user', user?.line ?? where, `APP=${app}: the image must switch to a non-root USER`);
    else if (!/^[0-9]+$/.test(userName ?? '')) add('user', user.line, `APP=${app}: USER ${userName} must be numeric, so Kubernetes can verify runAsNonRoot`);

    const health = last('HEALTHCHECK');
    if (!health || /^NONE\b/i.test(health.args.trim())) add('healthcheck', health?.line ?? where, `APP=${app}: the image has no HEALTHCHECK`);
    else {
      const cmd = /\bCMD\s+([\s\S]*)$/.exec(health.args);
      if (!cmd || !execForm(cmd[1])) add('healthcheck', health.line, `APP=${app}: HEALTHCHECK CMD must be exec form`);
    }

    const entrypoint = last('ENTRYPOINT');
    if (entrypoint && !execForm(entrypoint.args)) add('cmd', entrypoint.line, `APP=${app}: ENTRYPOINT must be exec form`);
    const cmd = last('CMD');
    const argv = cmd && execForm(cmd.args);
    if (!cmd || !argv) add('cmd', cmd?.line ?? where, `APP=${app}: CMD must be exec form (a JSON array), so signals reach node`);
    else if (argv.some((a) => a.includes('$'))) add('cmd', cmd.line, `APP=${app}: exec-form CMD does not expand variables: ${cmd.args}`);
    else if (!argv.includes(`dist/apps/${app}/main.js`) && !argv.includes(`/app/dist/apps/${app}/main.js`)) {
      add('cmd', cmd.line, `APP=${app}: CMD must start dist/apps/${app}/main.js, not ${cmd.args}`);
    } else {
      const copiesBundle = chain.some((s) => (copied.get(s) ?? []).some((src) => src.replace(/\/$/, '').endsWith(`dist/apps/${app}`)));
      if (!copiesBundle) add('cmd', cmd.line, `APP=${app}: no stage of this image copies dist/apps/${app}`);
    }
  }
  return dedupe(found);
}

function dedupe(violations: Violation[]): Violation[] {
  return violations.filter((v, i) => violations.findIndex((w) => w.rule === v.rule && w.object === v.object && w.message === v.message) === i);
}

function checkContextSource(source: string, options: DockerfileOptions, line: number, add: (rule: string, line: number, message: string) => void): void {
  const relative = source.replace(/^\.?\//, '').replace(/\/$/, '') || '.';
  if (relative.includes('..')) {
    add('copy-source', line, `${source} leaves the build context`);
    return;
  }
  let matches: string[];
  if (/[*?[]/.test(relative)) {
    const dir = path.posix.dirname(relative);
    const pattern = new RegExp(`^${path.posix.basename(relative).replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
    const full = path.join(options.contextDir, dir);
    matches = existsSync(full) ? readdirSync(full).filter((f) => pattern.test(f)).map((f) => path.posix.join(dir, f)) : [];
  } else {
    matches = existsSync(path.join(options.contextDir, relative)) ? [relative] : [];
  }
  if (matches.length === 0) add('copy-source', line, `${source} is not in the repository`);
  else if (matches.every((m) => m !== '.' && options.ignore.excludes(m))) add('copy-source', line, `${source} is excluded by the dockerignore file`);
}

/** `dist/apps/<app>` copied from a build stage must be what the app's nx build target writes. */
function checkBuildOutput(contextDir: string, app: string, line: number, add: (rule: string, line: number, message: string) => void): void {
  const projectFile = path.join(contextDir, 'apps', app, 'project.json');
  if (!existsSync(projectFile)) {
    add('build-output', line, `dist/apps/${app}: there is no app ${app} (apps/${app}/project.json)`);
    return;
  }
  const project = JSON.parse(readFileSync(projectFile, 'utf8')) as { targets?: { build?: { outputs?: string[] } } };
  const outputs = project.targets?.build?.outputs ?? [];
  if (!outputs.includes(`{workspaceRoot}/dist/apps/${app}`)) add('build-output', line, `dist/apps/${app} is not an output of ${app}'s build target (${outputs.join(', ') || 'none'})`);
}
