/**
 * Prometheus metrics of the API: operations by type, root field and outcome, their durations, and
 * the live subscriptions and WebSockets. Labels are bounded: root fields come from the schema
 * (an operation that failed validation counts as `invalid`), never from client-chosen names.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { OperationDefinitionNode } from './graphql';

export interface ApiMetrics {
  /** Records one finished operation. `code` is OK or the first error's code. */
  observe(labels: { type: string; field: string; code: string }, seconds: number): void;
  /** Counts an operation without a duration (a subscription, which lasts as long as the client wants). */
  count(labels: { type: string; field: string; code: string }): void;
}

function metric<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/** The first root field of an operation (what the operation is about), for labels. */
export function operationLabels(operation: OperationDefinitionNode | undefined): { type: string; field: string } {
  if (!operation) return { type: 'unknown', field: 'invalid' };
  const first = operation.selectionSet.selections[0];
  const field = first?.kind === 'Field' ? (first.name.value.startsWith('__') ? '(introspection)' : first.name.value) : 'fragment';
  return { type: operation.operation, field };
}

const LIVE = new WeakMap<Registry, { subscriptions: () => number; websockets: () => number }>();

export function createApiMetrics(registry: Registry, live: { subscriptions: () => number; websockets: () => number }): ApiMetrics {
  const operations = metric(
    registry,
    's2g_graphql_operations_total',
    () => new Counter({ name: 's2g_graphql_operations_total', help: 'GraphQL operations by type, root field and result code', labelNames: ['type', 'field', 'code'] as const, registers: [registry] }),
  );
  const seconds = metric(
    registry,
    's2g_graphql_operation_duration_seconds',
    () =>
      new Histogram({
        name: 's2g_graphql_operation_duration_seconds',
        help: 'GraphQL operation durations over HTTP (queries, mutations) by type and root field',
        labelNames: ['type', 'field'] as const,
        buckets: [0.005, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
        registers: [registry],
      }),
  );
  // Gauges are read at scrape time from the gateway that registered last on this registry.
  LIVE.set(registry, live);
  metric(
    registry,
    's2g_graphql_subscriptions_active',
    () =>
      new Gauge({
        name: 's2g_graphql_subscriptions_active',
        help: 'Subscriptions being served',
        registers: [registry],
        collect() {
          this.set(LIVE.get(registry)?.subscriptions() ?? 0);
        },
      }),
  );
  metric(
    registry,
    's2g_graphql_websockets_open',
    () =>
      new Gauge({
        name: 's2g_graphql_websockets_open',
        help: 'Open GraphQL WebSocket connections',
        registers: [registry],
        collect() {
          this.set(LIVE.get(registry)?.websockets() ?? 0);
        },
      }),
  );
  return {
    observe(labels, duration) {
      operations.inc(labels);
      seconds.observe({ type: labels.type, field: labels.field }, duration);
    },
    count(labels) {
      operations.inc(labels);
    },
  };
}
