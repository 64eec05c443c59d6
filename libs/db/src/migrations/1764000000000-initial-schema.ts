import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The first schema. Constraint names follow Postgres' own defaults (`<table>_<columns>_key`,
 * `_fkey`, `_check`, `_idx`), which is also what SnakeNamingStrategy derives for the entities, so
 * a schema diff against the entities stays empty (see the drift test).
 * Enumerations are text + CHECK (not Postgres enums) so that adding a value is a one-line migration.
 */
export class InitialSchema1764000000000 implements MigrationInterface {
  name = 'InitialSchema1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE speakers (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        name text NOT NULL,
        display_name text NOT NULL,
        pose_mean double precision[],
        pose_std double precision[],
        scale_factor double precision,
        shoulder_width double precision,
        hours double precision NOT NULL DEFAULT 0,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT speakers_pkey PRIMARY KEY (id),
        CONSTRAINT speakers_name_key UNIQUE (name),
        CONSTRAINT speakers_pose_mean_check CHECK (pose_mean IS NULL OR cardinality(pose_mean) = 98),
        CONSTRAINT speakers_pose_std_check CHECK (pose_std IS NULL OR cardinality(pose_std) = 98)
      )`);

    await q.query(`
      CREATE TABLE videos (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        speaker_id uuid NOT NULL,
        name text NOT NULL,
        source_key text,
        audio_key text,
        duration_seconds double precision,
        fps double precision,
        width integer,
        height integer,
        frame_count integer,
        link text,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT videos_pkey PRIMARY KEY (id),
        CONSTRAINT videos_speaker_id_name_key UNIQUE (speaker_id, name),
        CONSTRAINT videos_speaker_id_fkey FOREIGN KEY (speaker_id) REFERENCES speakers (id) ON DELETE CASCADE
      )`);

    await q.query(`
      CREATE TABLE intervals (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        video_id uuid NOT NULL,
        external_id text NOT NULL,
        start_seconds double precision NOT NULL,
        end_seconds double precision NOT NULL,
        split text NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT intervals_pkey PRIMARY KEY (id),
        CONSTRAINT intervals_video_id_external_id_key UNIQUE (video_id, external_id),
        CONSTRAINT intervals_video_id_fkey FOREIGN KEY (video_id) REFERENCES videos (id) ON DELETE CASCADE,
        CONSTRAINT intervals_split_check CHECK (split IN ('train', 'dev', 'test')),
        CONSTRAINT intervals_time_check CHECK (end_seconds > start_seconds AND start_seconds >= 0)
      )`);

    await q.query(`
      CREATE TABLE shards (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        speaker_id uuid NOT NULL,
        split text NOT NULL,
        key text NOT NULL,
        sample_count integer NOT NULL,
        byte_size bigint NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT shards_pkey PRIMARY KEY (id),
        CONSTRAINT shards_key_key UNIQUE (key),
        CONSTRAINT shards_speaker_id_fkey FOREIGN KEY (speaker_id) REFERENCES speakers (id) ON DELETE CASCADE,
        CONSTRAINT shards_split_check CHECK (split IN ('train', 'dev', 'test'))
      )`);
    await q.query(`CREATE INDEX shards_speaker_id_split_idx ON shards (speaker_id, split)`);

    await q.query(`
      CREATE TABLE samples (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        speaker_id uuid NOT NULL,
        interval_id uuid NOT NULL,
        split text NOT NULL,
        start_seconds double precision NOT NULL,
        end_seconds double precision NOT NULL,
        start_frame integer NOT NULL,
        shard_key text NOT NULL,
        shard_index integer NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT samples_pkey PRIMARY KEY (id),
        CONSTRAINT samples_speaker_interval_frame_key UNIQUE (speaker_id, interval_id, start_frame),
        CONSTRAINT samples_speaker_id_fkey FOREIGN KEY (speaker_id) REFERENCES speakers (id) ON DELETE CASCADE,
        CONSTRAINT samples_interval_id_fkey FOREIGN KEY (interval_id) REFERENCES intervals (id) ON DELETE CASCADE,
        CONSTRAINT samples_split_check CHECK (split IN ('train', 'dev', 'test')),
        CONSTRAINT samples_position_check CHECK (start_frame >= 0 AND shard_index >= 0 AND end_seconds > start_seconds)
      )`);
    // Listing and counting a speaker's samples by split, in page order.
    await q.query(`CREATE INDEX samples_speaker_id_split_created_at_id_idx ON samples (speaker_id, split, created_at, id)`);
    await q.query(`CREATE INDEX samples_interval_id_idx ON samples (interval_id)`);

    await q.query(`
      CREATE TABLE ingest_jobs (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        speaker_id uuid,
        speaker_name text NOT NULL,
        layout text NOT NULL,
        source text NOT NULL,
        options jsonb NOT NULL DEFAULT '{}',
        progress jsonb NOT NULL DEFAULT '{}',
        summary jsonb,
        status text NOT NULL DEFAULT 'queued',
        attempts integer NOT NULL DEFAULT 0,
        error_code text,
        error_message text,
        started_at timestamptz(3),
        finished_at timestamptz(3),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT ingest_jobs_pkey PRIMARY KEY (id),
        CONSTRAINT ingest_jobs_speaker_id_fkey FOREIGN KEY (speaker_id) REFERENCES speakers (id) ON DELETE CASCADE,
        CONSTRAINT ingest_jobs_layout_check CHECK (layout IN ('s2g', 'openpose', 'npz', 'synthetic')),
        CONSTRAINT ingest_jobs_status_check CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled'))
      )`);
    await q.query(`CREATE INDEX ingest_jobs_speaker_id_idx ON ingest_jobs (speaker_id)`);
    await q.query(`CREATE INDEX ingest_jobs_created_at_id_idx ON ingest_jobs (created_at, id)`);

    await q.query(`
      CREATE TABLE training_runs (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        speaker_id uuid NOT NULL,
        preset text NOT NULL,
        config jsonb NOT NULL,
        step integer NOT NULL DEFAULT 0,
        epoch integer NOT NULL DEFAULT 0,
        progress jsonb NOT NULL DEFAULT '{}',
        backend text,
        device text,
        status text NOT NULL DEFAULT 'queued',
        attempts integer NOT NULL DEFAULT 0,
        error_code text,
        error_message text,
        started_at timestamptz(3),
        finished_at timestamptz(3),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT training_runs_pkey PRIMARY KEY (id),
        CONSTRAINT training_runs_speaker_id_fkey FOREIGN KEY (speaker_id) REFERENCES speakers (id) ON DELETE CASCADE,
        CONSTRAINT training_runs_preset_check CHECK (preset IN ('paper', 'small', 'tiny')),
        CONSTRAINT training_runs_status_check CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled'))
      )`);
    await q.query(`CREATE INDEX training_runs_speaker_id_created_at_id_idx ON training_runs (speaker_id, created_at, id)`);

    await q.query(`
      CREATE TABLE run_metrics (
        id bigint GENERATED BY DEFAULT AS IDENTITY,
        run_id uuid NOT NULL,
        step integer NOT NULL,
        epoch integer NOT NULL,
        phase text NOT NULL,
        "values" jsonb NOT NULL,
        elapsed_ms bigint,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT run_metrics_pkey PRIMARY KEY (id),
        CONSTRAINT run_metrics_run_step_phase_key UNIQUE (run_id, step, phase),
        CONSTRAINT run_metrics_run_id_fkey FOREIGN KEY (run_id) REFERENCES training_runs (id) ON DELETE CASCADE,
        CONSTRAINT run_metrics_phase_check CHECK (phase IN ('train', 'validation'))
      )`);

    await q.query(`
      CREATE TABLE checkpoints (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        run_id uuid NOT NULL,
        step integer NOT NULL,
        epoch integer,
        kind text NOT NULL,
        storage_prefix text NOT NULL,
        validation_loss double precision,
        byte_size bigint,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT checkpoints_pkey PRIMARY KEY (id),
        CONSTRAINT checkpoints_run_step_kind_key UNIQUE (run_id, step, kind),
        CONSTRAINT checkpoints_run_id_fkey FOREIGN KEY (run_id) REFERENCES training_runs (id) ON DELETE CASCADE,
        CONSTRAINT checkpoints_kind_check CHECK (kind IN ('best', 'periodic', 'final'))
      )`);

    await q.query(`
      CREATE TABLE evaluations (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        run_id uuid NOT NULL,
        checkpoint_id uuid,
        step integer,
        split text NOT NULL,
        method text NOT NULL,
        l1 double precision NOT NULL,
        pck01 double precision NOT NULL,
        pck02 double precision NOT NULL,
        sample_count integer,
        metrics jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT evaluations_pkey PRIMARY KEY (id),
        CONSTRAINT evaluations_run_id_fkey FOREIGN KEY (run_id) REFERENCES training_runs (id) ON DELETE CASCADE,
        CONSTRAINT evaluations_checkpoint_id_fkey FOREIGN KEY (checkpoint_id) REFERENCES checkpoints (id) ON DELETE SET NULL,
        CONSTRAINT evaluations_split_check CHECK (split IN ('train', 'dev', 'test')),
        CONSTRAINT evaluations_method_check CHECK (method IN ('model', 'median', 'random', 'nearest'))
      )`);
    await q.query(`CREATE INDEX evaluations_run_id_idx ON evaluations (run_id)`);
    await q.query(`CREATE INDEX evaluations_checkpoint_id_idx ON evaluations (checkpoint_id)`);

    await q.query(`
      CREATE TABLE inference_results (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        speaker_id uuid NOT NULL,
        run_id uuid,
        checkpoint_id uuid,
        input jsonb NOT NULL,
        audio_key text,
        frame_count integer,
        duration_seconds double precision,
        poses_json_key text,
        poses_bin_key text,
        latency_ms integer,
        backend text,
        status text NOT NULL DEFAULT 'queued',
        attempts integer NOT NULL DEFAULT 0,
        error_code text,
        error_message text,
        started_at timestamptz(3),
        finished_at timestamptz(3),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT inference_results_pkey PRIMARY KEY (id),
        CONSTRAINT inference_results_speaker_id_fkey FOREIGN KEY (speaker_id) REFERENCES speakers (id) ON DELETE CASCADE,
        CONSTRAINT inference_results_run_id_fkey FOREIGN KEY (run_id) REFERENCES training_runs (id) ON DELETE SET NULL,
        CONSTRAINT inference_results_checkpoint_id_fkey FOREIGN KEY (checkpoint_id) REFERENCES checkpoints (id) ON DELETE SET NULL,
        CONSTRAINT inference_results_status_check CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled'))
      )`);
    await q.query(`CREATE INDEX inference_results_speaker_id_idx ON inference_results (speaker_id)`);
    await q.query(`CREATE INDEX inference_results_run_id_idx ON inference_results (run_id)`);
    await q.query(`CREATE INDEX inference_results_checkpoint_id_idx ON inference_results (checkpoint_id)`);
    await q.query(`CREATE INDEX inference_results_created_at_id_idx ON inference_results (created_at, id)`);

    await q.query(`
      CREATE TABLE renders (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        result_id uuid NOT NULL,
        width integer NOT NULL,
        height integer NOT NULL,
        fps double precision NOT NULL,
        options jsonb NOT NULL DEFAULT '{}',
        progress jsonb NOT NULL DEFAULT '{}',
        video_key text,
        poster_key text,
        status text NOT NULL DEFAULT 'queued',
        attempts integer NOT NULL DEFAULT 0,
        error_code text,
        error_message text,
        started_at timestamptz(3),
        finished_at timestamptz(3),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT renders_pkey PRIMARY KEY (id),
        CONSTRAINT renders_result_id_fkey FOREIGN KEY (result_id) REFERENCES inference_results (id) ON DELETE CASCADE,
        CONSTRAINT renders_size_check CHECK (width > 0 AND height > 0 AND fps > 0),
        CONSTRAINT renders_status_check CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled'))
      )`);
    await q.query(`CREATE INDEX renders_result_id_idx ON renders (result_id)`);

    await q.query(`
      CREATE TABLE api_tokens (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        name text NOT NULL,
        hash text NOT NULL,
        scopes text[] NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        last_used_at timestamptz(3),
        expires_at timestamptz(3),
        revoked_at timestamptz(3),
        CONSTRAINT api_tokens_pkey PRIMARY KEY (id),
        CONSTRAINT api_tokens_hash_key UNIQUE (hash),
        CONSTRAINT api_tokens_scopes_check CHECK (scopes <@ ARRAY['read', 'write', 'admin']::text[])
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    // Reverse order of creation, so every foreign key's target still exists when its table goes.
    for (const table of [
      'api_tokens',
      'renders',
      'inference_results',
      'evaluations',
      'checkpoints',
      'run_metrics',
      'training_runs',
      'ingest_jobs',
      'samples',
      'shards',
      'intervals',
      'videos',
      'speakers',
    ]) {
      await q.query(`DROP TABLE ${table}`);
    }
  }
}
