/**
 * @s2g/stack: every s2g service in one process. `startStack(config, options)` starts the platform
 * (embedded Postgres, filesystem store and in-process bus unless URLs are configured), the gateway,
 * and the command handlers of the ingest, trainer, inference and renderer services; in embedded mode
 * it queues again the jobs a previous run left unfinished. `stackConfig` reads every variable those
 * services read.
 */
export { mergeConfigs, type StackConfig, stackConfig } from './config';
export { commandsOf, isServiceName, parseServiceName, SERVICE_COMMANDS, SERVICE_JOBS, SERVICE_NAMES, type ServiceName } from './services';
export { parseIngestSource, type RequeuedJobs, requeueUnfinishedJobs } from './requeue';
export { type Stack, type StackOptions, startStack } from './stack';
