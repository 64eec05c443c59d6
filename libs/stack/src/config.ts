/**
 * The configuration of a process running several services: every variable any of them reads (the
 * gateway's, the trainer's, the inference service's, the renderer's, and the shared ones once), validated together
 * so a bad value is reported once with all the others.
 */
import { gatewayConfig, type GatewayConfig } from '@s2g/api';
import type { ConfigDefinition, ConfigProblem, EnvVarDoc } from '@s2g/config';
import { type InferenceConfig, inferenceConfig, type RendererConfig, rendererConfig } from '@s2g/prediction';
import { type TrainerConfig, trainerConfig } from '@s2g/training';

export type StackConfig = GatewayConfig & Pick<TrainerConfig, 'trainer'> & Pick<InferenceConfig, 'inference'> & Pick<RendererConfig, 'render'>;

/**
 * Merges configuration definitions that share the shared variables: each variable is listed (and a
 * problem with it reported) once, and the typed results are merged into one object.
 */
export function mergeConfigs<A extends object, B extends object>(a: ConfigDefinition<A>, b: ConfigDefinition<B>): ConfigDefinition<A & B> {
  const vars: EnvVarDoc[] = [...a.vars];
  for (const v of b.vars) if (!vars.some((w) => w.name === v.name)) vars.push(v);
  return {
    vars,
    parse(env) {
      const ra = a.parse(env);
      const rb = b.parse(env);
      if (ra.ok && rb.ok) return { ok: true, value: { ...ra.value, ...rb.value } };
      const problems: ConfigProblem[] = [];
      for (const p of [...(ra.ok ? [] : ra.problems), ...(rb.ok ? [] : rb.problems)]) {
        if (!problems.some((q) => q.variable === p.variable && q.message === p.message)) problems.push(p);
      }
      return { ok: false, problems };
    },
  };
}

export const stackConfig: ConfigDefinition<StackConfig> = mergeConfigs(mergeConfigs(mergeConfigs(gatewayConfig, trainerConfig), inferenceConfig), rendererConfig);
