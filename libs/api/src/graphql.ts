/**
 * graphql-js for this lib, by its CommonJS entry. graphql 16 ships both `index.js` and `index.mjs`
 * without an exports map: Node (and so Apollo, type-graphql and graphql-ws) loads `index.js`, while
 * Vite-based tools pick `index.mjs` for a bare `graphql`, and a schema from one copy is refused by
 * the other ("Cannot use GraphQLObjectType from another module or realm"). Importing the file by
 * name gives every consumer the same copy.
 */
export * from 'graphql/index.js';
