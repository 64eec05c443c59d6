/**
 * What may be uploaded: speech audio, video, dataset archives and their tables. A file is checked
 * twice: when its URL is granted (declared name, type and size) and when a job uses it (what was
 * actually stored), because a presigned URL cannot make every store enforce the declared size.
 */
import { ErrorCode } from '@s2g/contracts';
import { isUuid } from '@s2g/db';
import { normalizePrefix, type ObjectInfo, type ObjectStore, StorageKeys } from '@s2g/storage';
import { apiError, badInput } from '../errors';

export const AUDIO_EXTENSIONS = ['wav', 'mp3', 'm4a', 'aac', 'flac', 'ogg', 'oga', 'opus'] as const;
export const VIDEO_EXTENSIONS = ['mp4', 'm4v', 'mov', 'webm', 'mkv', 'avi'] as const;
export const DATA_EXTENSIONS = ['zip', 'tar', 'tgz', 'gz', 'csv', 'json', 'npz', 'npy'] as const;

/** Content types by family; `audio/*` and `video/*` cover every subtype. */
const DATA_CONTENT_TYPES = [
  'application/zip',
  'application/x-zip-compressed',
  'application/x-tar',
  'application/gzip',
  'application/x-gzip',
  'application/x-gtar',
  'application/x-compressed-tar',
  'text/csv',
  'application/json',
  'application/octet-stream',
];

const FILENAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export interface UploadRequest {
  filename: string;
  contentType: string;
  size: number;
  uploadId?: string | null;
}

function extensionOf(filename: string): string {
  const dot = filename.lastIndexOf('.');
  return dot < 0 ? '' : filename.slice(dot + 1).toLowerCase();
}

export function isMediaFile(key: string): boolean {
  const ext = extensionOf(key);
  return (AUDIO_EXTENSIONS as readonly string[]).includes(ext) || (VIDEO_EXTENSIONS as readonly string[]).includes(ext);
}

/** Checks a requested upload; returns its normalised content type. */
export function validateUploadRequest(input: UploadRequest, maxBytes: number): string {
  if (!FILENAME.test(input.filename) || input.filename.includes('..')) {
    throw badInput('filename must be 1 to 200 characters of letters, digits, ".", "_" or "-", starting with a letter or digit', { field: 'filename' });
  }
  const ext = extensionOf(input.filename);
  const allowed = [...AUDIO_EXTENSIONS, ...VIDEO_EXTENSIONS, ...DATA_EXTENSIONS] as readonly string[];
  if (!allowed.includes(ext)) throw badInput(`files of type .${ext || '(none)'} cannot be uploaded; allowed: ${allowed.join(', ')}`, { field: 'filename' });
  const contentType = input.contentType.trim().toLowerCase().split(';')[0].trim();
  const typeOk = contentType.startsWith('audio/') || contentType.startsWith('video/') || DATA_CONTENT_TYPES.includes(contentType);
  if (!typeOk || !/^[a-z0-9.+-]+\/[a-z0-9.+-]+$/.test(contentType)) {
    throw badInput(`content type ${input.contentType} is not accepted: audio/*, video/*, ${DATA_CONTENT_TYPES.join(', ')}`, { field: 'contentType' });
  }
  if (!Number.isSafeInteger(input.size) || input.size <= 0) throw badInput('size must be a positive number of bytes', { field: 'size' });
  if (input.size > maxBytes) throw badInput(`size ${input.size} is over the upload limit of ${maxBytes} bytes`, { field: 'size', maxBytes });
  if (input.uploadId !== undefined && input.uploadId !== null && !isUuid(input.uploadId)) throw badInput('uploadId must be an id returned by createUpload', { field: 'uploadId' });
  return contentType;
}

/** The objects of an upload; BAD_USER_INPUT when nothing was uploaded or a file is over the limit. */
export async function uploadedFiles(store: ObjectStore, uploadId: string, maxBytes: number): Promise<ObjectInfo[]> {
  if (!isUuid(uploadId)) throw badInput(`unknown upload ${uploadId}`, { field: 'uploadId' });
  const files: ObjectInfo[] = [];
  for await (const info of store.list(StorageKeys.uploadPrefix(uploadId))) {
    if (info.size > maxBytes) {
      throw apiError(ErrorCode.BAD_USER_INPUT, `${info.key} is ${info.size} bytes, over the upload limit of ${maxBytes}`, { key: info.key, maxBytes });
    }
    files.push(info);
  }
  if (files.length === 0) throw badInput(`upload ${uploadId} has no files yet: PUT them to the upload URL first`, { field: 'uploadId' });
  return files;
}

/** The prefix in folder form; BAD_USER_INPUT when it is malformed or holds no object. */
export async function nonEmptyPrefix(store: ObjectStore, prefix: string): Promise<string> {
  let folder: string;
  try {
    folder = normalizePrefix(prefix);
  } catch {
    throw badInput(`invalid object prefix ${JSON.stringify(prefix)}`, { field: 'objectPrefix' });
  }
  if (folder === '') throw badInput('objectPrefix must name a folder, not the whole bucket', { field: 'objectPrefix' });
  for await (const _ of store.list(folder)) return folder;
  throw badInput(`no objects under ${folder}`, { field: 'objectPrefix' });
}
