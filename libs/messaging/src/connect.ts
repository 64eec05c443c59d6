import type { Registry } from 'prom-client';
import { createInProcessBus, type InProcessBroker } from './in-process';
import { NatsBus } from './nats';
import type { BusLogger, EventBus } from './port';

export interface ConnectBusOptions {
  /** NATS servers and namespace (the `nats` part of the shared config); null selects the in-process bus. */
  nats: { servers: string[]; namespace?: string } | null;
  /** Service name, shown as the NATS connection name. */
  name: string;
  /** For the in-process bus: join this broker instead of starting a new one (several services in one process). */
  broker?: InProcessBroker;
  logger?: BusLogger;
  metrics?: Registry;
}

/** The bus the configuration asks for: NATS JetStream when servers are given, in-process otherwise. */
export async function connectBus(options: ConnectBusOptions): Promise<EventBus> {
  const { logger, metrics } = options;
  if (options.nats) return NatsBus.connect({ servers: options.nats.servers, namespace: options.nats.namespace, name: options.name, logger, metrics });
  return options.broker ? options.broker.connect({ logger, metrics }) : createInProcessBus({ logger, metrics });
}
