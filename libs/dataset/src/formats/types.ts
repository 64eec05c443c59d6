import type { ErrorCode, Split } from '@s2g/contracts';
import { S2gError } from '@s2g/contracts';

/** One pose frame: `time` in seconds from the start of its video, 98 pixel values x0..x48, y0..y48. */
export interface PoseFrame {
  time: number;
  keypoints: Float32Array;
}

/** A clean stretch of a video (the speaker frontal and visible); windows are cut only inside one. */
export interface SourceInterval {
  id: string;
  /** Seconds from the start of the video, inclusive. */
  start: number;
  end: number;
  /** Given by the dataset; absent means "assign deterministically" (see `assignSplit`). */
  split?: Split;
}

export interface SourceVideo {
  name: string;
  /** The video (or, when there is no video, the audio) file the speech comes from. */
  mediaPath?: string;
  /** A separate audio file for the same timeline, when the dataset has one. */
  audioPath?: string;
  intervals: SourceInterval[];
  /** How many frames `frames()` is expected to yield (before bad files are dropped). */
  frameCount: number;
  /**
   * The video's pose frames at 15 fps in time order, read lazily so a speaker with 100k frames is
   * never held in memory at once. A frame whose file is bad is skipped and reported as an issue.
   */
  frames(): AsyncIterable<PoseFrame>;
}

/** A per-file problem that did not stop the rest of the dataset from loading. */
export interface DatasetIssue {
  code: ErrorCode;
  file: string;
  message: string;
}

export interface SpeakerSource {
  speaker: string;
  videos: SourceVideo[];
  /**
   * Problems found so far. Problems found while `frames()` is iterated are appended here as they
   * occur, so read it after iterating.
   */
  issues: DatasetIssue[];
}

/** Collects issues into one list, and forwards each to an optional listener (progress logs). */
export class IssueLog {
  readonly issues: DatasetIssue[] = [];
  constructor(private readonly listener?: (issue: DatasetIssue) => void) {}

  add(issue: DatasetIssue): void {
    this.issues.push(issue);
    this.listener?.(issue);
  }

  /** Records any thrown value against `file`; S2gErrors keep their code. */
  addError(file: string, e: unknown, fallback: ErrorCode): void {
    if (e instanceof S2gError) {
      const message = e.message.includes(file) ? e.message : `${file}: ${e.message}`;
      this.add({ code: e.code, file, message });
    } else {
      this.add({ code: fallback, file, message: `${file}: ${e instanceof Error ? e.message : String(e)}` });
    }
  }
}

export interface ReadOptions {
  /** Called for each issue as it is found (the same issues end up in `SpeakerSource.issues`). */
  onIssue?: (issue: DatasetIssue) => void;
}

/** Reads every frame of a video into memory; for tests and small speakers. */
export async function collectFrames(video: SourceVideo): Promise<PoseFrame[]> {
  const out: PoseFrame[] = [];
  for await (const f of video.frames()) out.push(f);
  return out;
}
