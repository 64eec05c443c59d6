import { Counter, Histogram, type Registry } from 'prom-client';

export type CommandOutcome = 'acked' | 'retried' | 'dead_lettered' | 'released';

export interface BusMetrics {
  handled(command: string, group: string, outcome: CommandOutcome, seconds: number): void;
  published(kind: 'command' | 'event', name: string): void;
}

const ignore = (): void => undefined;
const noop: BusMetrics = { handled: ignore, published: ignore };
const byRegistry = new WeakMap<Registry, BusMetrics>();

/** One set of bus metrics per registry (a registry refuses a metric name twice). */
export function busMetrics(registry?: Registry): BusMetrics {
  if (!registry) return noop;
  let metrics = byRegistry.get(registry);
  if (!metrics) {
    const handled = new Counter({
      name: 's2g_bus_commands_total',
      help: 'Command deliveries by outcome: acked, retried (handler threw), dead_lettered, released (worker stopped)',
      labelNames: ['command', 'group', 'outcome'] as const,
      registers: [registry],
    });
    const duration = new Histogram({
      name: 's2g_bus_handler_seconds',
      help: 'Time spent in command handlers',
      labelNames: ['command', 'group'] as const,
      buckets: [0.01, 0.1, 0.5, 1, 5, 30, 120, 600, 3600, 14400],
      registers: [registry],
    });
    const published = new Counter({
      name: 's2g_bus_published_total',
      help: 'Messages published, by kind and name',
      labelNames: ['kind', 'name'] as const,
      registers: [registry],
    });
    metrics = {
      handled(command, group, outcome, seconds) {
        handled.inc({ command, group, outcome });
        duration.observe({ command, group }, seconds);
      },
      published(kind, name) {
        published.inc({ kind, name });
      },
    };
    byRegistry.set(registry, metrics);
  }
  return metrics;
}
