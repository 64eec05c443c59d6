/**
 * Stable error codes. The API puts them in `extensions.code`; jobs store them on their `failed`
 * record; the CLI prints them. Add codes here, never inline strings elsewhere.
 */
export const ErrorCode = {
  // API-level
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  RATE_LIMITED: 'RATE_LIMITED',
  QUERY_TOO_COMPLEX: 'QUERY_TOO_COMPLEX',
  INTERNAL: 'INTERNAL',
  UNAVAILABLE: 'UNAVAILABLE',
  // configuration and messages
  CONFIG_INVALID: 'CONFIG_INVALID',
  MESSAGE_INVALID: 'MESSAGE_INVALID',
  // messaging: a command delivered more often than allowed (its workers kept dying or failing)
  DELIVERY_EXHAUSTED: 'DELIVERY_EXHAUSTED',
  // two handlers registered for one command, or a required command without a handler
  HANDLER_CONFLICT: 'HANDLER_CONFLICT',
  // storage
  STORAGE_KEY_INVALID: 'STORAGE_KEY_INVALID',
  STORAGE_NOT_FOUND: 'STORAGE_NOT_FOUND',
  /** A stream's length differed from the size given with it. */
  STORAGE_SIZE_MISMATCH: 'STORAGE_SIZE_MISMATCH',
  /** An upload was larger than allowed. */
  STORAGE_TOO_LARGE: 'STORAGE_TOO_LARGE',
  // media and data
  MEDIA_UNREADABLE: 'MEDIA_UNREADABLE',
  MEDIA_UNSUPPORTED: 'MEDIA_UNSUPPORTED',
  AUDIO_SILENT: 'AUDIO_SILENT',
  AUDIO_TOO_LONG: 'AUDIO_TOO_LONG',
  AUDIO_TOO_SHORT: 'AUDIO_TOO_SHORT',
  KEYPOINTS_INVALID: 'KEYPOINTS_INVALID',
  FILE_MISSING: 'FILE_MISSING',
  DATASET_INVALID: 'DATASET_INVALID',
  SPEAKER_UNKNOWN: 'SPEAKER_UNKNOWN',
  SHARD_CORRUPT: 'SHARD_CORRUPT',
  // training and models
  TRAINING_CONFIG_INVALID: 'TRAINING_CONFIG_INVALID',
  TRAINING_DIVERGED: 'TRAINING_DIVERGED',
  NO_TRAINING_DATA: 'NO_TRAINING_DATA',
  CHECKPOINT_MISSING: 'CHECKPOINT_MISSING',
  CHECKPOINT_CORRUPT: 'CHECKPOINT_CORRUPT',
  RESULT_MISSING: 'RESULT_MISSING',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base of every error that carries a stable code and is safe to show to a user. */
export class S2gError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'S2gError';
    this.code = code;
    this.details = details;
  }

  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

export function isS2gError(e: unknown): e is S2gError {
  return e instanceof S2gError;
}

/** A one-line reason for any thrown value, for failed records and logs. */
export function describeError(e: unknown): { code: ErrorCode; message: string } {
  if (e instanceof S2gError) return { code: e.code, message: e.message };
  if (e instanceof Error) return { code: ErrorCode.INTERNAL, message: e.message };
  return { code: ErrorCode.INTERNAL, message: String(e) };
}
