/**
 * The mechanism: each environment variable is declared once with its schema and its documentation,
 * so validation, `--help` and docs/CONFIG.md cannot drift apart.
 */
import { ErrorCode, S2gError } from '@s2g/contracts';
import { z } from 'zod';

export type Env = Readonly<Record<string, string | undefined>>;

/** What `--help` and docs/CONFIG.md say about a variable. */
export interface EnvVarDoc {
  name: string;
  description: string;
  /** The value used when the variable is unset, as text. */
  default?: string;
  /** When the variable must be set, e.g. "in distributed mode". */
  requiredWhen?: string;
  /** Never echoed in error messages or logs. */
  secret?: boolean;
  example?: string;
}

export interface EnvVar<S extends z.ZodType = z.ZodType> {
  schema: S;
  doc: Omit<EnvVarDoc, 'name' | 'default'>;
}

export type EnvVars = Record<string, EnvVar>;
export type EnvValues<V extends EnvVars> = { [K in keyof V]: z.output<V[K]['schema']> };

export function envVar<S extends z.ZodType>(schema: S, doc: EnvVar['doc']): EnvVar<S> {
  return { schema, doc };
}

/** Adds a problem with one variable; used by cross-variable rules. */
export type ReportProblem = (variable: string, message: string) => void;
/** A rule across variables. Values that failed their own check are absent, and already reported. */
export type ConfigRule<V extends EnvVars> = (values: Partial<EnvValues<V>>, raw: Env, report: ReportProblem) => void;

export interface ConfigDefinition<T> {
  readonly vars: readonly EnvVarDoc[];
  /** Parses a raw environment into the typed config, or explains every problem. */
  parse(env: Env): { ok: true; value: T } | { ok: false; problems: ConfigProblem[] };
}

export interface ConfigProblem {
  variable: string;
  message: string;
}

function defaultOf(schema: z.ZodType): string | undefined {
  const r = schema.safeParse(undefined);
  return r.success && r.data !== undefined ? String(r.data) : undefined;
}

/** Unset and empty are the same: compose files and k8s manifests often write `VAR=`. */
function normalise(env: Env): Env {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
}

function problemsOf(error: z.ZodError, raw: Env, name?: string): ConfigProblem[] {
  return error.issues.map((issue) => {
    const variable = name ?? String(issue.path[0] ?? '(environment)');
    return { variable, message: raw[variable] === undefined ? 'is required' : issue.message };
  });
}

/**
 * Declares a configuration: the variables it reads, how their values map to a typed (nested) object,
 * and rules across variables (e.g. "required in distributed mode").
 */
export function defineConfig<V extends EnvVars, T>(vars: V, map: (values: EnvValues<V>) => T, rules: readonly ConfigRule<V>[] = []): ConfigDefinition<T> {
  const docs: EnvVarDoc[] = Object.entries(vars).map(([name, v]) => {
    const def = defaultOf(v.schema);
    return { name, ...v.doc, ...(def === undefined ? {} : { default: def }) };
  });
  return {
    vars: docs,
    parse(input) {
      const raw = normalise(input);
      const problems: ConfigProblem[] = [];
      const values: Record<string, unknown> = {};
      // Each variable on its own, so one bad value does not hide the problems of the others.
      for (const [name, v] of Object.entries(vars)) {
        const result = v.schema.safeParse(raw[name]);
        if (result.success) values[name] = result.data;
        else problems.push(...problemsOf(result.error, raw, name));
      }
      const invalid = new Set(problems.map((p) => p.variable));
      const report: ReportProblem = (variable, message) => {
        if (!invalid.has(variable)) problems.push({ variable, message });
      };
      for (const rule of rules) rule(values as Partial<EnvValues<V>>, raw, report);
      return problems.length > 0 ? { ok: false, problems } : { ok: true, value: map(values as EnvValues<V>) };
    },
  };
}

/** A bare zod schema over the environment works too, without documentation. */
function fromSchema<T>(schema: z.ZodType<T>): ConfigDefinition<T> {
  return {
    vars: [],
    parse(input) {
      const raw = normalise(input);
      const result = schema.safeParse(raw);
      return result.success ? { ok: true, value: result.data } : { ok: false, problems: problemsOf(result.error, raw) };
    },
  };
}

function describe(problems: readonly ConfigProblem[], docs: readonly EnvVarDoc[], raw: Env): string {
  const byVar = new Map<string, string[]>();
  for (const p of problems) byVar.set(p.variable, [...(byVar.get(p.variable) ?? []), p.message]);
  const lines = [...byVar].map(([variable, messages]) => {
    const doc = docs.find((d) => d.name === variable);
    const value = raw[variable];
    // Values of undocumented variables are not shown either: they may be secrets.
    const shown = value === undefined || !doc || doc.secret ? '' : ` (got ${JSON.stringify(value)})`;
    return `  ${variable}: ${messages.join('; ')}${shown}`;
  });
  return `Invalid configuration, ${byVar.size} variable${byVar.size === 1 ? '' : 's'} to fix:\n${lines.join('\n')}`;
}

/**
 * Reads the environment once and returns the typed config, or throws S2gError(CONFIG_INVALID) whose
 * message lists every bad or missing variable, one per line (secret values are never echoed).
 */
export function loadConfig<T>(definition: ConfigDefinition<T> | z.ZodType<T>, env: Env = process.env): T {
  if (definition instanceof z.ZodType) definition = fromSchema(definition);
  const result = definition.parse(env);
  if (result.ok) return result.value;
  throw new S2gError(ErrorCode.CONFIG_INVALID, describe(result.problems, definition.vars, normalise(env)), {
    problems: result.problems,
  });
}
