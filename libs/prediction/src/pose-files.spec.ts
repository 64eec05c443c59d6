import { FRAME_VALUES, KEYPOINT_NAMES, NUM_KEYPOINTS } from '@s2g/pose';
import { describe, expect, it } from 'vitest';
import { decodePosesBinary, encodePosesBinary, encodePosesJson, POSES_HEADER_BYTES, type PosesJson } from './pose-files';

function sequences(frames: number) {
  const pixels = new Float32Array(frames * FRAME_VALUES).map((_, i) => 100 + i * 0.37);
  const normalized = new Float32Array(frames * FRAME_VALUES).map((_, i) => Math.sin(i) * 1.5);
  return { pixels, normalized, frames, fps: 15 };
}

const meta = {
  resultId: 'r1',
  durationSeconds: 0.2,
  speaker: { id: 's1', name: 'oliver' },
  model: { runId: 'run', checkpointId: 'ck', step: 300, preset: 'tiny' },
  input: { objectKey: 'uploads/u/a.mp3' },
  neck: 'fixed' as const,
  origin: [640, 288] as [number, number],
};

describe('poses.f32', () => {
  it('round-trips both sequences exactly, after a 32-byte header', () => {
    const seq = sequences(3);
    const bytes = encodePosesBinary(seq);
    expect(bytes.length).toBe(POSES_HEADER_BYTES + 2 * 3 * FRAME_VALUES * 4);
    expect(bytes.subarray(0, 8).toString('latin1')).toBe('S2GPOSES');
    expect(bytes.readUInt32LE(12)).toBe(3);
    expect(bytes.readUInt32LE(16)).toBe(49);
    expect(bytes.readFloatLE(20)).toBe(15);
    // The first pixel value sits right after the header, little-endian.
    expect(bytes.readFloatLE(POSES_HEADER_BYTES)).toBeCloseTo(100, 5);
    const back = decodePosesBinary(bytes);
    expect(back.frames).toBe(3);
    expect(back.fps).toBe(15);
    expect(Array.from(back.pixels)).toEqual(Array.from(seq.pixels));
    expect(Array.from(back.normalized)).toEqual(Array.from(seq.normalized));
  });

  it('reads from an unaligned view', () => {
    const bytes = encodePosesBinary(sequences(2));
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    expect(decodePosesBinary(shifted.subarray(1)).frames).toBe(2);
  });

  it('refuses bytes that are not a pose file, with RESULT_MISSING', () => {
    const bytes = encodePosesBinary(sequences(2));
    expect(() => decodePosesBinary(bytes.subarray(0, 10))).toThrow(/too short/);
    expect(() => decodePosesBinary(bytes.subarray(0, bytes.length - 4))).toThrow(/bytes for 2 frames/);
    const wrong = Buffer.from(bytes);
    wrong.write('NOTPOSES', 0, 'latin1');
    expect(() => decodePosesBinary(wrong)).toThrow(expect.objectContaining({ code: 'RESULT_MISSING' }));
  });
});

describe('poses.json', () => {
  it('holds metadata, joint names and (2, 49) frames of pixels and normalised values', () => {
    const seq = sequences(2);
    const doc = JSON.parse(encodePosesJson(seq, meta).toString()) as PosesJson;
    expect(doc).toMatchObject({ format: 's2g-poses', version: 1, resultId: 'r1', fps: 15, frames: 2, speaker: meta.speaker, model: meta.model, input: meta.input });
    expect(doc.coordinates).toEqual({ units: 'pixels', neck: 'fixed', origin: [640, 288] });
    expect(doc.keypoints).toEqual(KEYPOINT_NAMES);
    expect(doc.parents[0]).toBe(-1);
    expect(doc.pixels).toHaveLength(2);
    expect(doc.pixels[1]).toHaveLength(2);
    expect(doc.pixels[1][0]).toHaveLength(NUM_KEYPOINTS);
    // Frame 1, y of joint 3: value index 98 + 49 + 3, rounded to 2 decimals.
    expect(doc.pixels[1][1][3]).toBeCloseTo(100 + (FRAME_VALUES + NUM_KEYPOINTS + 3) * 0.37, 2);
    expect(doc.normalized[0][0][5]).toBeCloseTo(Math.sin(5) * 1.5, 4);
  });

  it('refuses sequences that are not whole frames', () => {
    expect(() => encodePosesJson({ ...sequences(2), frames: 3 }, meta)).toThrow(expect.objectContaining({ code: 'KEYPOINTS_INVALID' }));
  });
});
