import { createReadStream } from 'node:fs';
import { ErrorCode, S2gError } from '@s2g/contracts';

/**
 * RFC 4180 CSV: comma separated, fields optionally in double quotes, `""` inside quotes is a quote,
 * quoted fields may hold commas and newlines; CRLF or LF line ends; a UTF-8 BOM is ignored.
 * Incremental so a frames.csv of millions of rows streams in constant memory.
 */
export class CsvParser {
  private field = '';
  private record: string[] = [];
  private inQuotes = false;
  /** A quote just closed inside a quoted field: the next char decides between `""` and the end. */
  private quotePending = false;
  private started = false;

  push(chunk: string): string[][] {
    const out: string[][] = [];
    let i = 0;
    if (!this.started && chunk.length > 0) {
      this.started = true;
      if (chunk.charCodeAt(0) === 0xfeff) i = 1;
    }
    for (; i < chunk.length; i++) {
      const c = chunk[i];
      if (this.quotePending) {
        this.quotePending = false;
        if (c === '"') {
          this.field += '"';
          continue;
        }
        this.inQuotes = false;
      }
      if (this.inQuotes) {
        if (c === '"') this.quotePending = true;
        else this.field += c;
        continue;
      }
      if (c === '"' && this.field.length === 0) this.inQuotes = true;
      else if (c === ',') this.endField();
      else if (c === '\n') this.endRecord(out);
      else if (c === '\r') {
        // CR is dropped; the LF that follows ends the record.
      } else this.field += c;
    }
    return out;
  }

  end(): string[][] {
    const out: string[][] = [];
    if (this.inQuotes && !this.quotePending) throw new Error('unterminated quoted field at end of file');
    this.quotePending = false;
    this.inQuotes = false;
    if (this.field.length > 0 || this.record.length > 0) this.endRecord(out);
    return out;
  }

  private endField(): void {
    this.record.push(this.field);
    this.field = '';
  }

  private endRecord(out: string[][]): void {
    this.endField();
    const rec = this.record;
    this.record = [];
    // Blank lines carry no data.
    if (!(rec.length === 1 && rec[0] === '')) out.push(rec);
  }
}

export function parseCsv(text: string): string[][] {
  const p = new CsvParser();
  return [...p.push(text), ...p.end()];
}

/** Streams the records of a CSV file (header included). */
export async function* readCsvRecords(path: string): AsyncGenerator<string[]> {
  const parser = new CsvParser();
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream) yield* parser.push(chunk as string);
    yield* parser.end();
  } catch (e) {
    if (e instanceof S2gError) throw e;
    const code = (e as NodeJS.ErrnoException).code === 'ENOENT' ? ErrorCode.FILE_MISSING : ErrorCode.DATASET_INVALID;
    throw new S2gError(code, `${path}: cannot read CSV: ${(e as Error).message}`, { file: path }, { cause: e });
  } finally {
    stream.destroy();
  }
}

export interface CsvRow {
  /** 0-based number of the record after the header. */
  index: number;
  get(column: string): string | undefined;
  values: string[];
}

/**
 * Streams rows with access by (trimmed, case-insensitive) column name. The header's first column
 * may be an unnamed pandas index column; it is kept under the name ''.
 */
export async function* readCsvTable(
  path: string,
  required: readonly string[] = [],
): AsyncGenerator<CsvRow & { header: string[] }> {
  let header: string[] | undefined;
  let columns = new Map<string, number>();
  let index = 0;
  for await (const rec of readCsvRecords(path)) {
    if (!header) {
      header = rec.map((h) => h.trim().toLowerCase());
      columns = new Map(header.map((h, i) => [h, i]));
      const missing = required.filter((r) => !columns.has(r));
      if (missing.length > 0) {
        throw new S2gError(
          ErrorCode.DATASET_INVALID,
          `${path}: missing column(s) ${missing.join(', ')} (header: ${header.join(', ')})`,
          { file: path, missing },
        );
      }
      continue;
    }
    const values = rec;
    const h = header;
    yield {
      header: h,
      index: index++,
      values,
      get: (column: string) => {
        const i = columns.get(column);
        return i === undefined ? undefined : values[i];
      },
    };
  }
  if (!header) throw new S2gError(ErrorCode.DATASET_INVALID, `${path}: empty CSV (no header row)`, { file: path });
}

/** One CSV line (with a trailing newline), quoting fields that need it. */
export function csvLine(values: readonly (string | number)[]): string {
  return (
    values
      .map((v) => {
        const s = String(v);
        return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
      })
      .join(',') + '\n'
  );
}
