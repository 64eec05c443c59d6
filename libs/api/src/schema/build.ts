/**
 * The executable schema, built from the resolver classes. It holds no state: everything a resolver
 * needs comes in its context, so one schema serves every gateway in a process.
 */
import 'reflect-metadata';
import type { TokenScope } from '@s2g/contracts';
import { type GraphQLSchema, lexicographicSortSchema, printSchema } from '../graphql';
import { type AuthCheckerFn, buildSchema, type MiddlewareFn, type PubSub } from 'type-graphql';
import { TopicPubSub } from '../pubsub';
import { requireScope } from '../auth/tokens';
import type { ApiContext } from '../context';
import { JobFieldsResolver, IngestJobResolver } from './resolvers/jobs';
import { InferenceResultResolver, RenderResolver } from './resolvers/results';
import { SampleResolver, SpeakerResolver, VideoResolver } from './resolvers/speakers';
import { SubscriptionResolver } from './resolvers/subscriptions';
import { SystemResolver } from './resolvers/system';
import { CheckpointResolver, EvaluationResolver, TrainingRunResolver } from './resolvers/training';

/** Every root field needs a token: queries (and subscriptions) the read scope, mutations write. */
const scopeGuard: MiddlewareFn<ApiContext> = async ({ context, info }, next) => {
  if (info.path.prev === undefined) requireScope(context.auth, info.operation.operation === 'mutation' ? 'write' : 'read');
  return next();
};

/** `@Authorized('admin')` fields: a missing token is UNAUTHENTICATED, too few scopes FORBIDDEN. */
const authChecker: AuthCheckerFn<ApiContext> = ({ context }, scopes) => {
  for (const scope of scopes) requireScope(context.auth, scope as TokenScope);
  return true;
};

/**
 * type-graphql insists on a pubSub once any subscription exists. Ours subscribe through their own
 * `subscribe` functions (to the bus-fed feeds in the context), so this one only serves
 * `topics`-style subscriptions, should one be added: `publish(topic, id, value)`.
 */
const topicPubSub = new TopicPubSub<unknown>();
const pubSub: PubSub = {
  publish: (topic: string, id?: unknown, value?: unknown) => topicPubSub.publish(topic, String(id), value),
  subscribe: (topic: string, id?: unknown) => topicPubSub.subscribe(topic, String(id)),
};

let built: Promise<GraphQLSchema> | undefined;

export function buildApiSchema(): Promise<GraphQLSchema> {
  built ??= buildSchema({
    resolvers: [
      SpeakerResolver,
      VideoResolver,
      SampleResolver,
      JobFieldsResolver,
      IngestJobResolver,
      TrainingRunResolver,
      CheckpointResolver,
      EvaluationResolver,
      InferenceResultResolver,
      RenderResolver,
      SystemResolver,
      SubscriptionResolver,
    ],
    authChecker,
    pubSub,
    globalMiddlewares: [scopeGuard],
  });
  return built;
}

export const SCHEMA_HEADER = '# Generated from libs/api by `npx tsx libs/api/bin/emit-schema.ts`; do not edit.\n\n';

/** schema.graphql as committed: sorted, so the file changes only when the API does. */
export function printApiSchema(schema: GraphQLSchema): string {
  return `${SCHEMA_HEADER}${printSchema(lexicographicSortSchema(schema))}\n`;
}
