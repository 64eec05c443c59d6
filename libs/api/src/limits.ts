/**
 * Depth and cost limits of an operation, checked after validation and before execution (over HTTP
 * and WebSocket alike). Cost: every field costs 1 plus its children; a connection multiplies its
 * children by the page size asked for (`first`/`last`, default 20), any other list by 10, unless
 * the field declares its own estimate (type-graphql's `complexity` option). Introspection fields
 * are free and not counted for depth, so tools can always read the schema.
 */
import { ErrorCode } from '@s2g/contracts';
import { DEFAULT_PAGE_SIZE } from '@s2g/db';
import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  getArgumentValues,
  getNamedType,
  getNullableType,
  getOperationAST,
  getVariableValues,
  type GraphQLCompositeType,
  type GraphQLField,
  GraphQLError,
  type GraphQLSchema,
  isCompositeType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  type SelectionSetNode,
} from './graphql';

/** Expected length of a list field without an estimate of its own. */
export const LIST_ESTIMATE = 10;

export interface OperationLimits {
  maxDepth: number;
  maxCost: number;
}

export interface OperationMeasure {
  depth: number;
  cost: number;
}

/** A field's own estimate, as type-graphql stores it in the field's extensions. */
type FieldEstimate = number | ((options: { args: Record<string, unknown>; childComplexity: number }) => number | void);

interface Walk {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
}

function argumentsOf(field: GraphQLField<unknown, unknown>, node: FieldNode, variables: Record<string, unknown>): Record<string, unknown> {
  try {
    return getArgumentValues(field, node, variables);
  } catch {
    // Invalid arguments fail execution with their own error; count the field with defaults.
    return {};
  }
}

function pageSize(args: Record<string, unknown>): number {
  const size = typeof args['first'] === 'number' ? args['first'] : typeof args['last'] === 'number' ? args['last'] : DEFAULT_PAGE_SIZE;
  return Math.max(0, size);
}

function isConnection(type: GraphQLCompositeType): boolean {
  return isObjectType(type) && type.name.endsWith('Connection');
}

/** `page`: the page size of the connection whose `edges` this field is, if it is. */
function fieldCost(field: GraphQLField<unknown, unknown>, args: Record<string, unknown>, childCost: number, page: number | undefined): number {
  const estimate = field.extensions?.['complexity'] as FieldEstimate | undefined;
  if (typeof estimate === 'number') return estimate + childCost;
  if (typeof estimate === 'function') {
    const value = estimate({ args, childComplexity: childCost });
    if (typeof value === 'number') return value;
  }
  if (page !== undefined) return 1 + page * childCost;
  if (isListType(getNullableType(field.type))) return 1 + LIST_ESTIMATE * childCost;
  return 1 + childCost;
}

function walk(
  w: Walk,
  selectionSet: SelectionSetNode,
  parent: GraphQLCompositeType,
  depth: number,
  fragmentsSeen: ReadonlySet<string>,
  connectionPage?: number,
): OperationMeasure {
  let cost = 0;
  let deepest = depth - 1;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      const name = selection.name.value;
      if (name.startsWith('__')) continue;
      const field = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
      if (!field) continue;
      const type = getNamedType(field.type);
      const args = argumentsOf(field, selection, w.variables);
      const child =
        selection.selectionSet && isCompositeType(type)
          ? walk(w, selection.selectionSet, type, depth + 1, fragmentsSeen, isConnection(type) ? pageSize(args) : undefined)
          : { depth, cost: 0 };
      cost += fieldCost(field, args, child.cost, name === 'edges' ? connectionPage : undefined);
      deepest = Math.max(deepest, child.depth);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const type = selection.typeCondition ? w.schema.getType(selection.typeCondition.name.value) : parent;
      if (!type || !isCompositeType(type)) continue;
      const inner = walk(w, selection.selectionSet, type, depth, fragmentsSeen, connectionPage);
      cost += inner.cost;
      deepest = Math.max(deepest, inner.depth);
    } else {
      const name = selection.name.value;
      const fragment = w.fragments.get(name);
      // A cycle is a validation error reported elsewhere; here it must only not loop.
      if (!fragment || fragmentsSeen.has(name)) continue;
      const type = w.schema.getType(fragment.typeCondition.name.value);
      if (!type || !isCompositeType(type)) continue;
      const inner = walk(w, fragment.selectionSet, type, depth, new Set([...fragmentsSeen, name]), connectionPage);
      cost += inner.cost;
      deepest = Math.max(deepest, inner.depth);
    }
  }
  return { depth: deepest, cost };
}

/** Depth and cost of the operation; null when there is no such operation or its variables are invalid (execution reports both). */
export function measureOperation(schema: GraphQLSchema, document: DocumentNode, operationName?: string | null, rawVariables?: Record<string, unknown> | null): OperationMeasure | null {
  const operation = getOperationAST(document, operationName ?? undefined);
  if (!operation) return null;
  const root = schema.getRootType(operation.operation);
  if (!root) return null;
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], rawVariables ?? {});
  if (coerced.errors) return null;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  return walk({ schema, fragments, variables: coerced.coerced }, operation.selectionSet, root, 1, new Set());
}

/** The error of an operation over a limit, or null when it is within them. */
export function checkOperationLimits(
  schema: GraphQLSchema,
  limits: OperationLimits,
  document: DocumentNode,
  operationName?: string | null,
  variables?: Record<string, unknown> | null,
): GraphQLError | null {
  const measure = measureOperation(schema, document, operationName, variables);
  if (!measure) return null;
  if (measure.depth > limits.maxDepth) {
    return new GraphQLError(`Query is too deep: depth ${measure.depth}, at most ${limits.maxDepth} allowed`, {
      extensions: { code: ErrorCode.QUERY_TOO_COMPLEX, http: { status: 400 } },
    });
  }
  if (measure.cost > limits.maxCost) {
    return new GraphQLError(`Query is too complex: estimated cost ${measure.cost}, at most ${limits.maxCost} allowed (ask for smaller pages or fewer nested lists)`, {
      extensions: { code: ErrorCode.QUERY_TOO_COMPLEX, http: { status: 400 } },
    });
  }
  return null;
}
