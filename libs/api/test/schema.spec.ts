/**
 * Files generated from the code and committed: schema.graphql (the API's public face, so changes
 * show in review) and the variable table in docs/API.md. `UPDATE_DOCS=1` rewrites the table.
 */
import { envMarkdownTable } from '@s2g/config';
import { ingestOptionsSchema, renderOptionsSchema, trainingConfigSchema } from '@s2g/contracts';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildApiSchema, GATEWAY_ENV, gatewayConfig, printApiSchema } from '../src';
import { isInputObjectType, isObjectType } from '../src/graphql';

const root = new URL('../../../', import.meta.url);

describe('generated files', () => {
  it('schema.graphql matches the code', async () => {
    const committed = readFileSync(new URL('schema.graphql', root), 'utf8');
    const generated = printApiSchema(await buildApiSchema());
    expect(committed === generated, 'schema.graphql is out of date: run `npx tsx libs/api/bin/emit-schema.ts` and commit the result').toBe(true);
  });

  it('docs/API.md documents every gateway variable as declared', () => {
    const path = new URL('docs/API.md', root);
    const text = readFileSync(path, 'utf8');
    const [begin, end] = ['<!-- env-table:begin -->', '<!-- env-table:end -->'];
    const [head, rest] = text.split(begin);
    const tail = rest?.split(end)[1];
    expect(tail, `docs/API.md needs the markers ${begin} and ${end}`).toBeDefined();
    const own = Object.keys(GATEWAY_ENV);
    const table = envMarkdownTable(gatewayConfig.vars.filter((v) => own.includes(v.name)));
    const expected = `${head}${begin}\n${table}\n${end}${tail}`;
    if (process.env['UPDATE_DOCS'] === '1') writeFileSync(path, expected);
    expect(text === expected || process.env['UPDATE_DOCS'] === '1', 'docs/API.md is out of date: run `UPDATE_DOCS=1 npx vitest run --dir libs/api`').toBe(true);
  });

  // The inputs mirror the contract schemas that validate them: a field added there must be added here.
  it('input and config types have exactly the fields of the contract schemas', async () => {
    const schema = await buildApiSchema();
    const fields = (name: string): string[] => {
      const type = schema.getType(name);
      if (!isInputObjectType(type) && !isObjectType(type)) throw new Error(`${name} is not an object type`);
      return Object.keys(type.getFields()).sort();
    };
    const keys = (shape: object): string[] => Object.keys(shape).sort();
    expect(fields('TrainingConfigInput')).toEqual(keys((trainingConfigSchema.in as unknown as { shape: object }).shape));
    expect(fields('TrainingConfig')).toEqual(keys(trainingConfigSchema.parse({})));
    expect(fields('IngestOptionsInput')).toEqual(keys(ingestOptionsSchema.shape));
    expect(fields('SyntheticOptionsInput')).toEqual(keys(ingestOptionsSchema.shape.synthetic.unwrap().shape));
    // The API says groundTruthSampleId where the command says withGroundTruthSampleId.
    expect(fields('RenderOptionsInput')).toEqual(keys(renderOptionsSchema.shape).map((k) => (k === 'withGroundTruthSampleId' ? 'groundTruthSampleId' : k)).sort());
  });
});
