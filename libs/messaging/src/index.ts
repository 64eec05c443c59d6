export * from './port';
export { backoffFor, ackTimeoutFor } from './consumer';
export { BusNames, subjectMatches } from './names';
export { InProcessBroker, InProcessBus, createInProcessBus, type InProcessBrokerOptions, type InProcessBusOptions } from './in-process';
export { NatsBus, type NatsBusOptions } from './nats';
export * from './registry';
export * from './connect';
