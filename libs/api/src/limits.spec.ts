import { describe, expect, it } from 'vitest';
import { getIntrospectionQuery, parse } from './graphql';
import { checkOperationLimits, LIST_ESTIMATE, measureOperation, type OperationMeasure } from './limits';
import { buildApiSchema } from './schema/build';

const schema = await buildApiSchema();
function measure(query: string, variables?: Record<string, unknown>): OperationMeasure {
  const measured = measureOperation(schema, parse(query), undefined, variables);
  if (!measured) throw new Error(`no operation in ${query}`);
  return measured;
}

describe('operation limits', () => {
  it('counts depth in fields, through fragments, and leaves introspection out', () => {
    expect(measure('{ viewer { tokenName } }').depth).toBe(2);
    expect(measure('{ speakers { edges { node { ...S } } } } fragment S on Speaker { videos { speaker { name } } }').depth).toBe(6);
    expect(measure('{ job(id: "x") { ... on TrainingRun { speaker { name } } } }').depth).toBe(3);
    expect(measure(getIntrospectionQuery())).toEqual({ depth: 0, cost: 0 });
  });

  it('multiplies a connection\'s edges by the page size asked for (20 by default) and other lists by their estimate', () => {
    // speakers + edges(n x (node + name))
    expect(measure('{ speakers(first: 3) { edges { node { name } } } }').cost).toBe(1 + (1 + 3 * (1 + 1)));
    expect(measure('{ speakers { edges { node { name } } } }').cost).toBe(1 + (1 + 20 * 2));
    expect(measure('query($n: Int) { speakers(last: $n) { totalCount } }', { n: 7 }).cost).toBe(2);
    expect(measure('query($n: Int) { speakers(first: $n) { edges { node { id } } } }', { n: 7 }).cost).toBe(1 + 1 + 7 * 2);
    expect(measure('{ speaker(id: "x") { videos { name } } }').cost).toBe(1 + 1 + LIST_ESTIMATE * 1);
  });

  it('uses a field\'s own estimate where it declares one', () => {
    // metricHistory: one unit per 100 points asked for.
    const cost = (limit: number) => measure(`{ trainingRun(id: "x") { metricHistory(limit: ${limit}) { step epoch } } }`).cost;
    expect(cost(100)).toBe(1 + 1 + 2 * 1);
    expect(cost(10_000)).toBe(1 + 1 + 2 * 100);
  });

  it('does not loop on fragment cycles (validation reports them)', () => {
    expect(measure('{ speakers { ...A } } fragment A on SpeakerConnection { totalCount ...B } fragment B on SpeakerConnection { ...A }').cost).toBe(2);
  });

  it('reports the first limit exceeded as QUERY_TOO_COMPLEX', () => {
    const doc = parse('{ speakers(first: 100) { edges { node { trainingRuns(first: 100) { edges { node { id } } } } } } }');
    expect(checkOperationLimits(schema, { maxDepth: 20, maxCost: 1_000_000 }, doc)).toBeNull();
    const cost = checkOperationLimits(schema, { maxDepth: 20, maxCost: 1000 }, doc);
    expect(cost?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX' });
    expect(cost?.message).toMatch(/estimated cost 20\d{3}/);
    expect(checkOperationLimits(schema, { maxDepth: 5, maxCost: 1_000_000 }, doc)?.message).toMatch(/depth 7, at most 5/);
  });
});
