import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@s2g/contracts';
import { tempFolder } from '../../test/temp';
import { CsvParser, csvLine, parseCsv, readCsvTable } from './csv';

describe('CSV', () => {
  const text = '\uFEFFa,b,c\r\n1,"x, y","say ""hi"""\r\n2,"two\nlines",\n\n3,,last\n';

  it('handles quotes, embedded commas, quotes and newlines, CRLF, BOM and blank lines', () => {
    expect(parseCsv(text)).toEqual([
      ['a', 'b', 'c'],
      ['1', 'x, y', 'say "hi"'],
      ['2', 'two\nlines', ''],
      ['3', '', 'last'],
    ]);
  });

  it('gives the same records however the text is chunked', () => {
    const p = new CsvParser();
    const rows: string[][] = [];
    for (const ch of text) rows.push(...p.push(ch));
    rows.push(...p.end());
    expect(rows).toEqual(parseCsv(text));
  });

  it('round-trips fields through csvLine', () => {
    const fields = ['plain', 'a,b', 'q"uote', 'multi\nline', ' padded '];
    expect(parseCsv(csvLine(fields))).toEqual([fields]);
  });

  it('rejects an unterminated quote', () => {
    expect(() => parseCsv('a,"open\n')).toThrow(/unterminated/);
  });

  it('reads a table by lower-cased column name and names missing columns', async () => {
    const dir = await tempFolder('csv');
    const file = join(dir, 't.csv');
    await writeFile(file, 'Speaker, Video_FN\noliver,"a b.mp4"\n');
    const rows = [];
    for await (const r of readCsvTable(file, ['speaker'])) rows.push([r.get('speaker'), r.get('video_fn')]);
    expect(rows).toEqual([['oliver', 'a b.mp4']]);
    await expect(async () => {
      for await (const _ of readCsvTable(file, ['interval_id'])) void _;
    }).rejects.toMatchObject({ code: ErrorCode.DATASET_INVALID, message: expect.stringContaining(`${file}: missing column(s) interval_id`) });
  });
});
