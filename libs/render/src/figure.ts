import { CHAINS, FRAME_VALUES, JOINT_GROUPS, LimbGroup, NECK, NUM_KEYPOINTS } from '@s2g/pose';
import { Canvas, Rect } from './canvas';
import { Transform } from './layout';
import { fillCapsule } from './raster';
import { Theme } from './theme';

/** Stroke sizes in canvas pixels. */
export interface FigureStyle {
  armWidth: number;
  handWidth: number;
  armJointRadius: number;
  handJointRadius: number;
  /** Extra width of the outline on each side of a stroke (used only when the theme has an outline colour). */
  outline: number;
}

/** Stroke sizes proportional to the figure area, so a 320x180 thumbnail and a 1080p video look alike. */
export function figureStyleFor(area: Rect): FigureStyle {
  const unit = Math.min(area.x1 - area.x0, area.y1 - area.y0) / 100;
  return {
    armWidth: Math.max(2, unit * 1.5),
    handWidth: Math.max(1.2, unit * 0.55),
    armJointRadius: Math.max(1.5, unit * 1.35),
    handJointRadius: Math.max(0.8, unit * 0.45),
    outline: Math.max(1, unit * 0.35),
  };
}

interface Segment {
  from: number;
  to: number;
  group: LimbGroup;
  hand: boolean;
}

/**
 * Segments of the drawing chains. A segment leaving the neck is the shoulder line and takes the
 * torso colour; every other segment takes the group of the joint it ends at. Arms come first so the
 * fingers, the finer detail, are drawn on top.
 */
const SEGMENTS: readonly Segment[] = (() => {
  const segments: Segment[] = [];
  for (const chain of CHAINS) {
    for (let i = 1; i < chain.joints.length; i++) {
      const from = chain.joints[i - 1];
      const to = chain.joints[i];
      const group = from === NECK ? 'torso' : JOINT_GROUPS[to];
      segments.push({ from, to, group, hand: group === 'left_hand' || group === 'right_hand' });
    }
  }
  return segments.sort((a, b) => Number(a.hand) - Number(b.hand));
})();

const JOINT_ORDER: readonly number[] = Array.from({ length: NUM_KEYPOINTS }, (_, j) => j).sort((a, b) => Number(isHandJoint(a)) - Number(isHandJoint(b)));

function isHandJoint(j: number): boolean {
  return JOINT_GROUPS[j] === 'left_hand' || JOINT_GROUPS[j] === 'right_hand';
}

/** Projects frame `frame` of a flattened sequence into canvas coordinates (x0..x48, y0..y48); reuses `out`. */
export function projectFrame(frames: ArrayLike<number>, frame: number, transform: Transform, out = new Float64Array(FRAME_VALUES)): Float64Array {
  const base = frame * FRAME_VALUES;
  for (let j = 0; j < NUM_KEYPOINTS; j++) {
    out[j] = frames[base + j] * transform.scale + transform.offsetX;
    out[NUM_KEYPOINTS + j] = frames[base + NUM_KEYPOINTS + j] * transform.scale + transform.offsetY;
  }
  return out;
}

/**
 * Draws one frame's stick figure: limbs as anti-aliased round-capped strokes coloured by limb group,
 * a dot on every joint. Joints with a non-finite coordinate (missing detections) are skipped along
 * with their segments.
 */
export function drawPose(canvas: Canvas, points: Float64Array, theme: Theme, style: FigureStyle, clip: Rect = canvas.bounds): void {
  const y = NUM_KEYPOINTS;
  if (theme.outline) {
    for (const s of SEGMENTS) {
      const w = (s.hand ? style.handWidth : style.armWidth) / 2 + style.outline;
      fillCapsule(canvas, points[s.from], points[y + s.from], points[s.to], points[y + s.to], w, theme.outline, clip);
    }
  }
  for (const s of SEGMENTS) {
    const w = (s.hand ? style.handWidth : style.armWidth) / 2;
    fillCapsule(canvas, points[s.from], points[y + s.from], points[s.to], points[y + s.to], w, theme.limbs[s.group], clip);
  }
  for (const j of JOINT_ORDER) {
    const r = isHandJoint(j) ? style.handJointRadius : style.armJointRadius;
    fillCapsule(canvas, points[j], points[y + j], points[j], points[y + j], r, theme.limbs[JOINT_GROUPS[j]], clip);
  }
}
