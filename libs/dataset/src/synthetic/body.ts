import { FRAME_VALUES, LEFT_HAND_ROOT, NECK, NUM_KEYPOINTS, RIGHT_HAND_ROOT } from '@s2g/pose';
import type { SpeakerStyle } from './style';

/**
 * A frontal upper body in image pixels with human proportions (bone lengths relative to shoulder
 * width match the real PATS fixture: upper arm ~0.74, forearm ~0.62, palm ~0.19 shoulder widths).
 * The speaker's right side is on the image's left, as in the dataset.
 */
export interface BodyGeometry {
  neck: { x: number; y: number };
  shoulderWidth: number;
  upperArm: number;
  forearm: number;
  palm: number;
  /** Proximal, middle, distal phalanx of the four fingers. */
  finger: [number, number, number];
  /** CMC, MCP-IP, IP-tip... of the thumb: root->joint1 then three segments. */
  thumb: [number, number, number, number];
}

export const FRAME_WIDTH = 1280;
export const FRAME_HEIGHT = 720;

export function bodyGeometry(style: SpeakerStyle): BodyGeometry {
  const w = style.shoulderWidth;
  return {
    neck: { x: FRAME_WIDTH / 2, y: FRAME_HEIGHT * 0.4 },
    shoulderWidth: w,
    upperArm: 0.74 * w,
    forearm: 0.62 * w,
    palm: 0.19 * w,
    finger: [0.105 * w, 0.065 * w, 0.05 * w],
    thumb: [0.11 * w, 0.12 * w, 0.1 * w, 0.085 * w],
  };
}

/** One arm: wrist target relative to its shoulder (u outward from the body, v down, z towards the camera), hand shape. */
export interface ArmState {
  u: number;
  v: number;
  z: number;
  /** 0 open hand .. 1 relaxed curled fingers. */
  curl: number;
  /** Rotation of the hand off the forearm line (radians, positive turns the palm outward). */
  tilt: number;
}

interface Vec {
  x: number;
  y: number;
}

interface Vec3 {
  x: number;
  y: number;
  z: number;
}

/**
 * Two-bone IK in 3D, then an orthographic projection: a forearm pointing at the camera looks short,
 * as in real frontal video. The elbow takes the spot on its circle closest to hanging down, a bit
 * outward and back. The wrist is pulled into reach.
 */
function solveArm(shoulder: Vec3, target: Vec3, a: number, b: number, side: number): { elbow: Vec3; wrist: Vec3 } {
  const t = { x: target.x - shoulder.x, y: target.y - shoulder.y, z: target.z - shoulder.z };
  const dist = Math.hypot(t.x, t.y, t.z) || 1e-6;
  const d = Math.max(Math.abs(a - b) + 1e-3, Math.min(a + b - 1e-3, dist));
  const n = { x: t.x / dist, y: t.y / dist, z: t.z / dist };
  const cosA = Math.max(-1, Math.min(1, (a * a + d * d - b * b) / (2 * a * d)));
  const pole = { x: side * 0.35, y: 1, z: -0.3 };
  const dot = pole.x * n.x + pole.y * n.y + pole.z * n.z;
  let p = { x: pole.x - dot * n.x, y: pole.y - dot * n.y, z: pole.z - dot * n.z };
  const pl = Math.hypot(p.x, p.y, p.z);
  // A wrist straight along the pole direction leaves the bend direction free: fall back to outward.
  p = pl > 1e-6 ? { x: p.x / pl, y: p.y / pl, z: p.z / pl } : { x: side, y: 0, z: 0 };
  const along = a * cosA;
  const radius = a * Math.sqrt(1 - cosA * cosA);
  const elbow = {
    x: shoulder.x + n.x * along + p.x * radius,
    y: shoulder.y + n.y * along + p.y * radius,
    z: shoulder.z + n.z * along + p.z * radius,
  };
  return { elbow, wrist: { x: shoulder.x + n.x * d, y: shoulder.y + n.y * d, z: shoulder.z + n.z * d } };
}

const FINGER_BASE_ANGLES = [0.22, 0.05, -0.1, -0.26];
const FINGER_BASE_REACH = [1, 1.02, 0.97, 0.9];

function set(out: Float32Array, joint: number, p: Vec): void {
  out[joint] = p.x;
  out[NUM_KEYPOINTS + joint] = p.y;
}

function placeHand(out: Float32Array, g: BodyGeometry, root: number, elbow: Vec3, wrist: Vec3, arm: ArmState, side: number): void {
  // The hand continues the forearm as seen on screen; a small downward pull keeps the direction
  // defined when the forearm points straight at the camera.
  const fx = wrist.x - elbow.x;
  const fy = wrist.y - elbow.y + 0.1 * g.forearm;
  const base = Math.atan2(fy, fx) + side * arm.tilt;
  const dir = (angle: number): Vec => {
    // Angles are measured towards the thumb side, mirrored between the hands.
    const a = base + side * angle;
    return { x: Math.cos(a), y: Math.sin(a) };
  };
  const handRoot = { x: wrist.x + 0.025 * g.shoulderWidth * Math.cos(base), y: wrist.y + 0.025 * g.shoulderWidth * Math.sin(base) };
  set(out, root, handRoot);
  const curl = Math.max(0, Math.min(1, arm.curl));
  const splay = 1 + 0.6 * (1 - curl);
  const chain = (first: number, start: Vec, startAngle: number, lengths: readonly number[]): void => {
    let p = start;
    let angle = startAngle;
    set(out, first, p);
    for (let j = 0; j < lengths.length; j++) {
      angle -= curl * 0.45;
      const step = dir(angle);
      const len = lengths[j] * (1 - 0.45 * curl);
      p = { x: p.x + step.x * len, y: p.y + step.y * len };
      set(out, first + 1 + j, p);
    }
  };
  const thumbBase = dir(0.9);
  chain(root + 1, { x: handRoot.x + thumbBase.x * g.thumb[0], y: handRoot.y + thumbBase.y * g.thumb[0] }, 0.55 * splay, g.thumb.slice(1));
  for (let f = 0; f < 4; f++) {
    const k = dir(FINGER_BASE_ANGLES[f]);
    const reach = g.palm * FINGER_BASE_REACH[f];
    const mcp = { x: handRoot.x + k.x * reach, y: handRoot.y + k.y * reach };
    chain(root + 5 + 4 * f, mcp, 0.5 * FINGER_BASE_ANGLES[f] * splay, g.finger);
  }
}

/** The 98 values (x0..x48, y0..y48) of one frame. */
export function skeletonFrame(g: BodyGeometry, neck: Vec, right: ArmState, left: ArmState): Float32Array {
  const out = new Float32Array(FRAME_VALUES);
  set(out, NECK, neck);
  const arms = [
    { side: -1, arm: right, shoulderJ: 1, hand: RIGHT_HAND_ROOT },
    { side: 1, arm: left, shoulderJ: 4, hand: LEFT_HAND_ROOT },
  ];
  for (const { side, arm, shoulderJ, hand } of arms) {
    const shoulder = { x: neck.x + (side * g.shoulderWidth) / 2, y: neck.y + 0.01 * g.shoulderWidth, z: 0 };
    const target = { x: shoulder.x + side * arm.u, y: shoulder.y + arm.v, z: arm.z };
    const { elbow, wrist } = solveArm(shoulder, target, g.upperArm, g.forearm, side);
    set(out, shoulderJ, shoulder);
    set(out, shoulderJ + 1, elbow);
    set(out, shoulderJ + 2, wrist);
    placeHand(out, g, hand, elbow, wrist, arm, side);
  }
  return out;
}
