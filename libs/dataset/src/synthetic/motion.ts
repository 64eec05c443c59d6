import { LEFT_HAND_ROOT, NUM_KEYPOINTS } from '@s2g/pose';
import type { ArmState, BodyGeometry } from './body';
import { bodyGeometry, skeletonFrame } from './body';
import type { Rng } from './rng';
import type { SpeechControls } from './speech';
import type { SpeakerStyle } from './style';

/**
 * What the arms follow, computed only from what is audible in the recent past, so a model that
 * hears the audio can predict the pose: how much the speaker has been talking lately (hands up
 * while speaking, back to rest in pauses), the pitch line (higher voice, higher hands), the loudness
 * over the last second (louder, wider), and a beat stroke at each stressed syllable.
 */
export interface GestureDrivers {
  rate: number;
  /** 0 at rest .. 1 in the gesture space. */
  activation: Float32Array;
  /** Recent pitch, in octaves relative to the speaker's mean. */
  pitch: Float32Array;
  /** Recent loudness, 0..1. */
  spread: Float32Array;
  /** Beat stroke displacement, 0..~1, peaking 130 ms after a stressed vowel starts. */
  stroke: Float32Array;
}

const STROKE_TAU = 0.13;

export function gestureDrivers(controls: SpeechControls, style: SpeakerStyle): GestureDrivers {
  const n = controls.voiced.length;
  const dt = 1 / controls.rate;
  const activation = new Float32Array(n);
  const pitch = new Float32Array(n);
  const spread = new Float32Array(n);
  const stroke = new Float32Array(n);
  const leak = (tau: number) => 1 - Math.exp(-dt / tau);
  let talk = 0;
  let act = 0;
  let p = 0;
  let loud = 0;
  for (let i = 0; i < n; i++) {
    const energy = controls.voiced[i] + 0.5 * controls.noise[i];
    talk += leak(0.35) * (energy - talk);
    const target = Math.max(0, Math.min(1, (talk - 0.05) * 3.5));
    act += leak(target > act ? 0.15 : 0.45) * (target - act);
    activation[i] = act;
    if (controls.voiced[i] > 0.05) p += leak(0.15) * (Math.log2(controls.f0[i] / style.pitchHz) - p);
    else p += leak(1) * (0 - p);
    pitch[i] = p;
    loud += leak(1) * (energy - loud);
    spread[i] = Math.min(1, loud * 2);
  }
  for (const s of controls.stresses) {
    const first = Math.max(0, Math.floor(s.time * controls.rate));
    const last = Math.min(n, Math.ceil((s.time + 8 * STROKE_TAU) * controls.rate));
    for (let i = first; i < last; i++) {
      const x = i * dt - s.time;
      if (x > 0) stroke[i] += s.strength * (x / STROKE_TAU) * Math.exp(1 - x / STROKE_TAU);
    }
  }
  return { rate: controls.rate, activation, pitch, spread, stroke };
}

/** The drivers at one time (nearest control step). */
export function driversAt(d: GestureDrivers, time: number): { activation: number; pitch: number; spread: number; stroke: number } {
  const i = Math.max(0, Math.min(d.activation.length - 1, Math.round(time * d.rate)));
  return { activation: d.activation[i], pitch: d.pitch[i], spread: d.spread[i], stroke: d.stroke[i] };
}

/** Where the wrists go: rest pose per style, the gesture space while talking, moved by the drivers. */
function armTarget(style: SpeakerStyle, g: BodyGeometry, d: ReturnType<typeof driversAt>, weight: number): ArmState {
  const w = g.shoulderWidth;
  const rest =
    style.rest === 'low'
      ? { u: 0.08 * w, v: 0.95 * (g.upperArm + g.forearm), z: 0.05 * w }
      : style.rest === 'clasped'
        ? { u: -0.43 * w, v: 0.9 * w, z: 0.35 * w }
        : { u: -0.25 * w, v: 0.72 * w, z: 0.5 * w };
  const amp = style.amplitude;
  const active = {
    u: -0.05 * w + 0.5 * w * (d.spread - 0.3) * amp + 0.08 * w * d.stroke * amp * weight,
    v: 0.55 * w - 0.8 * w * Math.max(-0.3, Math.min(0.6, d.pitch)) * amp + 0.25 * w * d.stroke * amp * weight,
    z: 0.45 * w,
  };
  const a = d.activation * weight;
  return {
    u: rest.u + a * (active.u - rest.u),
    v: rest.v + a * (active.v - rest.v),
    z: rest.z + a * (active.z - rest.z),
    curl: 0.7 - 0.55 * a + 0.15 * Math.min(1, d.stroke),
    tilt: 0.35 * a,
  };
}

/** Slowly wandering offset (Ornstein-Uhlenbeck): the part of the motion the audio does not explain. */
class Drift {
  value = 0;
  constructor(
    private readonly rng: Rng,
    private readonly sigma: number,
    private readonly tau: number,
  ) {}
  step(dt: number): number {
    const k = Math.exp(-dt / this.tau);
    this.value = k * this.value + this.sigma * Math.sqrt(1 - k * k) * this.rng.normal();
    return this.value;
  }
}

/**
 * Pose frames (98 pixel values each) at the given times, one video's worth. The pose is the
 * deterministic function of the drivers above plus small drift and per-frame jitter.
 */
export function gesturePoses(rng: Rng, style: SpeakerStyle, drivers: GestureDrivers, times: readonly number[]): Float32Array[] {
  const g = bodyGeometry(style);
  const w = g.shoulderWidth;
  const weights =
    style.preferredHand === 'both' ? { right: 1, left: 1 } : style.preferredHand === 'right' ? { right: 1, left: 0.35 } : { right: 0.35, left: 1 };
  const drift = {
    neckX: new Drift(rng, 5, 2),
    neckY: new Drift(rng, 2, 2),
    ru: new Drift(rng, 0.012 * w, 1.5),
    rv: new Drift(rng, 0.012 * w, 1.5),
    lu: new Drift(rng, 0.012 * w, 1.5),
    lv: new Drift(rng, 0.012 * w, 1.5),
  };
  const out: Float32Array[] = [];
  let prev = times.length > 0 ? times[0] : 0;
  for (const t of times) {
    const dt = Math.max(1e-3, t - prev);
    prev = t;
    const d = driversAt(drivers, t);
    const right = armTarget(style, g, d, weights.right);
    const left = armTarget(style, g, d, weights.left);
    right.u += drift.ru.step(dt);
    right.v += drift.rv.step(dt);
    left.u += drift.lu.step(dt);
    left.v += drift.lv.step(dt);
    const neck = { x: g.neck.x + drift.neckX.step(dt), y: g.neck.y + drift.neckY.step(dt) };
    const frame = skeletonFrame(g, neck, right, left);
    for (let j = 1; j < NUM_KEYPOINTS; j++) {
      // Keypoint detectors jitter more on fingers than on big joints.
      const sigma = j >= LEFT_HAND_ROOT ? 1 : 0.6;
      frame[j] += sigma * rng.normal();
      frame[NUM_KEYPOINTS + j] += sigma * rng.normal();
    }
    out.push(frame);
  }
  return out;
}
