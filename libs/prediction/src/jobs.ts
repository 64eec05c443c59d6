import { type DeadLetter, ErrorCode, isS2gError } from '@s2g/contracts';

/**
 * Failures that another delivery cannot fix (the input, the model or the record is wrong): the job
 * fails at once. Anything else (storage or database unavailable, an internal error) is thrown so the
 * bus retries it, and the job fails only when its deliveries run out.
 */
const PERMANENT: ReadonlySet<string> = new Set<string>([
  ErrorCode.BAD_USER_INPUT,
  ErrorCode.NOT_FOUND,
  ErrorCode.MESSAGE_INVALID,
  ErrorCode.MEDIA_UNREADABLE,
  ErrorCode.MEDIA_UNSUPPORTED,
  ErrorCode.AUDIO_SILENT,
  ErrorCode.AUDIO_TOO_LONG,
  ErrorCode.AUDIO_TOO_SHORT,
  ErrorCode.KEYPOINTS_INVALID,
  ErrorCode.FILE_MISSING,
  ErrorCode.SPEAKER_UNKNOWN,
  ErrorCode.SHARD_CORRUPT,
  ErrorCode.STORAGE_NOT_FOUND,
  ErrorCode.STORAGE_KEY_INVALID,
  ErrorCode.TRAINING_CONFIG_INVALID,
  ErrorCode.NO_TRAINING_DATA,
  ErrorCode.CHECKPOINT_MISSING,
  ErrorCode.CHECKPOINT_CORRUPT,
  ErrorCode.RESULT_MISSING,
]);

export function isPermanent(e: unknown): boolean {
  return isS2gError(e) && PERMANENT.has(e.code);
}

/** The command a dead letter carries (its data is the message as received), or null if unreadable. */
export function deadLetterPayload(deadLetter: DeadLetter): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(deadLetter.data);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The code a job fails with when the bus gave up on its command. */
export function deadLetterError(deadLetter: DeadLetter): { code: ErrorCode; message: string } {
  const known = (Object.values(ErrorCode) as string[]).includes(deadLetter.reason.code);
  return {
    code: known ? (deadLetter.reason.code as ErrorCode) : ErrorCode.DELIVERY_EXHAUSTED,
    message: `gave up after ${deadLetter.deliveries} deliveries: ${deadLetter.reason.message}`,
  };
}
