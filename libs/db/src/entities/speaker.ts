import { Check, Column, Entity } from 'typeorm';
import { Timestamped } from './columns';

/** A person whose gestures are learnt. `name` is the stable handle (e.g. `oliver`). */
@Entity({ name: 'speakers' })
@Check('speakers_pose_mean_check', 'pose_mean IS NULL OR cardinality(pose_mean) = 98')
@Check('speakers_pose_std_check', 'pose_std IS NULL OR cardinality(pose_std) = 98')
export class Speaker extends Timestamped {
  @Column({ type: 'text', unique: true })
  name!: string;

  @Column({ name: 'display_name', type: 'text' })
  displayName!: string;

  /** Per-value mean of the 98 neck-relative pose values over training frames (ML-SPEC 2); null until computed. */
  @Column({ name: 'pose_mean', type: 'double precision', array: true, nullable: true })
  poseMean!: number[] | null;

  /** Per-value std of the same; neck entries are 0. */
  @Column({ name: 'pose_std', type: 'double precision', array: true, nullable: true })
  poseStd!: number[] | null;

  /** Shoulder width relative to the reference speaker, to draw speakers at one size. */
  @Column({ name: 'scale_factor', type: 'double precision', nullable: true })
  scaleFactor!: number | null;

  /** Median shoulder width in pixels over training frames. */
  @Column({ name: 'shoulder_width', type: 'double precision', nullable: true })
  shoulderWidth!: number | null;

  /** Hours of clean interval footage ingested. */
  @Column({ type: 'double precision', default: 0 })
  hours!: number;
}
