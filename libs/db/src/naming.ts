import { DefaultNamingStrategy, type Table } from 'typeorm';

/**
 * Constraint and index names as Postgres itself picks them (`speakers_pkey`, `speakers_name_key`,
 * `videos_speaker_id_fkey`, `samples_interval_id_idx`) instead of TypeORM's hashes, so names in
 * errors, in migrations and in psql read the same.
 */
export class PostgresNamingStrategy extends DefaultNamingStrategy {
  private bare(tableOrName: Table | string): string {
    const name = this.getTableName(tableOrName);
    return name.includes('.') ? name.slice(name.lastIndexOf('.') + 1) : name;
  }

  override primaryKeyName(tableOrName: Table | string): string {
    return `${this.bare(tableOrName)}_pkey`;
  }

  override uniqueConstraintName(tableOrName: Table | string, columnNames: string[]): string {
    return `${this.bare(tableOrName)}_${columnNames.join('_')}_key`;
  }

  override foreignKeyName(tableOrName: Table | string, columnNames: string[]): string {
    return `${this.bare(tableOrName)}_${columnNames.join('_')}_fkey`;
  }

  override relationConstraintName(tableOrName: Table | string, columnNames: string[]): string {
    return `${this.bare(tableOrName)}_${columnNames.join('_')}_rel`;
  }

  override indexName(tableOrName: Table | string, columnNames: string[]): string {
    return `${this.bare(tableOrName)}_${columnNames.join('_')}_idx`;
  }
}
