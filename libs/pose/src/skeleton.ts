/**
 * The speech2gesture skeleton: 49 two-dimensional keypoints at 15 fps (ML-SPEC section 2).
 * This file is the only definition of joint order, names, parents and drawing chains.
 */

export const NUM_KEYPOINTS = 49;
/** Flattened frame: x0..x48 then y0..y48. */
export const FRAME_VALUES = NUM_KEYPOINTS * 2;
/** The model is trained and scored on keypoints 1..48 (the neck is the root and always 0). */
export const TRAINED_KEYPOINTS = NUM_KEYPOINTS - 1;
export const TRAINED_VALUES = TRAINED_KEYPOINTS * 2;
/** Nominal pose rate; the original dataset ran at 14.985 (every other frame of 29.97 fps video). */
export const POSE_FPS = 15;
export const NECK = 0;
export const LEFT_HAND_ROOT = 7;
export const RIGHT_HAND_ROOT = 28;

const FINGERS = ['thumb', 'index', 'middle', 'ring', 'little'] as const;

function handNames(side: 'left' | 'right'): string[] {
  const names = [`${side}_hand`];
  for (const finger of FINGERS) for (let j = 1; j <= 4; j++) names.push(`${side}_${finger}_${j}`);
  return names;
}

/** Joint names in model order. */
export const KEYPOINT_NAMES: readonly string[] = [
  'neck',
  'right_shoulder',
  'right_elbow',
  'right_wrist',
  'left_shoulder',
  'left_elbow',
  'left_wrist',
  ...handNames('left'),
  ...handNames('right'),
];

function buildParents(): number[] {
  const parents = new Array<number>(NUM_KEYPOINTS).fill(-1);
  parents[1] = 0;
  parents[2] = 1;
  parents[3] = 2;
  parents[4] = 0;
  parents[5] = 4;
  parents[6] = 5;
  parents[LEFT_HAND_ROOT] = 6;
  parents[RIGHT_HAND_ROOT] = 3;
  for (const root of [LEFT_HAND_ROOT, RIGHT_HAND_ROOT]) {
    for (let f = 0; f < 5; f++) {
      const base = root + 1 + 4 * f;
      parents[base] = root;
      for (let j = 1; j < 4; j++) parents[base + j] = base + j - 1;
    }
  }
  return parents;
}

/** Parent of each joint; -1 for the neck (root). */
export const PARENTS: readonly number[] = buildParents();

export type LimbGroup = 'torso' | 'right_arm' | 'left_arm' | 'right_hand' | 'left_hand';

export interface Chain {
  group: LimbGroup;
  joints: readonly number[];
}

function fingerChains(root: number, group: LimbGroup): Chain[] {
  return FINGERS.map((_, f) => ({ group, joints: [root, root + 1 + 4 * f, root + 2 + 4 * f, root + 3 + 4 * f, root + 4 + 4 * f] }));
}

/** Polylines to draw, as in the reference renderer (arms through the hand roots, then each finger). */
export const CHAINS: readonly Chain[] = [
  { group: 'right_arm', joints: [0, 1, 2, 3, RIGHT_HAND_ROOT] },
  { group: 'left_arm', joints: [0, 4, 5, 6, LEFT_HAND_ROOT] },
  ...fingerChains(RIGHT_HAND_ROOT, 'right_hand'),
  ...fingerChains(LEFT_HAND_ROOT, 'left_hand'),
];

/** Limb group of each joint, for colouring. */
export const JOINT_GROUPS: readonly LimbGroup[] = KEYPOINT_NAMES.map((_, i) => {
  if (i === 0) return 'torso';
  if (i <= 3) return 'right_arm';
  if (i <= 6) return 'left_arm';
  if (i < RIGHT_HAND_ROOT) return 'left_hand';
  return 'right_hand';
});

/** Indices (in the 52-point layout) of nose and eyes, dropped to get the 49 points. */
export const FACE_POINTS_52: readonly number[] = [7, 8, 9];
