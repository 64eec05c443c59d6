import { Arg, ID, Resolver, Root, Subscription } from 'type-graphql';
import { requireScope } from '../../auth/tokens';
import type { ApiContext } from '../../context';
import { notFound } from '../../errors';
import { TOPIC, type JobUpdateView, type TrainingEventView } from '../../events';
import { JobUpdateType } from '../types/jobs';
import { TrainingEventType } from '../types/training';

interface SubscribeData {
  args: Record<string, string>;
  context: ApiContext;
}

@Resolver()
export class SubscriptionResolver {
  @Subscription(() => TrainingEventType, {
    description:
      'Live updates of a training run: started (backend, device), progress (step, epoch, losses, samples/s, ETA), checkpoints, evaluations, and the final status. Read `trainingRun(id)` for where it is now.',
    subscribe: async ({ args, context }: SubscribeData) => {
      requireScope(context.auth, 'read');
      if (!(await context.services.db.trainingRuns.findById(args['runId']))) throw notFound('training run', args['runId']);
      return context.services.feeds.training.subscribe(TOPIC, args['runId']);
    },
  })
  trainingProgress(@Root() event: TrainingEventView, @Arg('runId', () => ID) _runId: string): TrainingEventView {
    return event;
  }

  @Subscription(() => JobUpdateType, {
    description: 'Live status and progress of any job (ingest job, training run, inference result or render). Read `job(id)` for where it is now.',
    subscribe: async ({ args, context }: SubscribeData) => {
      requireScope(context.auth, 'read');
      if (!(await context.services.reads.job(args['id']))) throw notFound('job', args['id']);
      return context.services.feeds.jobs.subscribe(TOPIC, args['id']);
    },
  })
  jobUpdated(@Root() update: JobUpdateView, @Arg('id', () => ID) _id: string): JobUpdateView {
    return update;
  }
}
