import { readFileSync } from 'node:fs';
import { generate } from '@graphql-codegen/cli';
import { operationFromDocument, Supergraph } from '@apollo/federation-internals';
import { prettyFormatQueryPlan, QueryPlanner } from '@apollo/query-planner';
import { createRequire } from 'node:module';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import codegenConfig from '../codegen.ts';
import { composeSupergraph } from '../gateway/compose.ts';
import { readRealSaleorSdl } from './support/saleor-sdl.ts';
import { loginQuery, viewerQuery } from '../gateway/ide.ts';


describe('schema checks', () => {
  it('schema/supergraph.graphql is what `npm run compose` produces now', () => {
    const result = composeSupergraph();
    expect(result.errors.map((e) => e.message)).toEqual([]);
    const committed = readFileSync(new URL('../schema/supergraph.graphql', import.meta.url), 'utf8');
    expect(committed.trim(), 'run `npm run compose` and commit schema/supergraph.graphql').toBe(result.supergraphSdl!.trim());
  });

  // (The typed client operations too: one invalid against the supergraph fails generate(), a stale
  // clients/__generated__/persisted-documents.json the comparison.)
  it('generated resolver types, typed client operations and trusted-document manifest are what `npm run codegen` produces now', async () => {
    const outputs = await generate({ ...codegenConfig, silent: true }, false);
    expect(outputs.length).toBeGreaterThan(0);
    for (const output of outputs) {
      const committed = readFileSync(output.filename, 'utf8');
      expect(committed, `run \`npm run codegen\` and commit ${output.filename}`).toBe(output.content);
    }
  }, 60_000);

  it("the IDE's ready-made examples are valid against the supergraph", () => {
    const sdl = readFileSync(new URL('../schema/supergraph.graphql', import.meta.url), 'utf8');
    const schema = Supergraph.build(sdl).apiSchema().toGraphQLJSSchema();
    // The CommonJS graphql that @apollo/federation-internals built the schema with (vitest
    // would hand us the ESM copy, and graphql refuses to mix the two).
    const cjs = createRequire(import.meta.url)('graphql') as typeof import('graphql');
    for (const query of [loginQuery('secret-password'), viewerQuery]) {
      expect(cjs.validate(schema, cjs.parse(query)).map((e) => e.message)).toEqual([]);
    }
  });

  describe("with Saleor 3.23's real federation SDL in place of the stand-in", () => {
    const realSdl = readRealSaleorSdl();
    const result = composeSupergraph({ replace: { saleor: realSdl } });

    it('our subgraphs compose with it without errors', () => {
      expect(result.errors.map((e) => e.message)).toEqual([]);
      expect(result.supergraphSdl).toBeTruthy();
    });

    it('plans a query that joins our Account with Saleor users, orders and products', () => {
      const supergraph = Supergraph.build(result.supergraphSdl!);
      const planner = new QueryPlanner(supergraph);
      const operation = operationFromDocument(
        supergraph.schema,
        parse(`query {
          viewer { account { email saleorUser { email orders(first: 5) { edges { node {
            number lines { quantity variant { name product { name slug channel } } }
          } } } } } }
        }`),
      );
      const plan = prettyFormatQueryPlan(planner.buildQueryPlan(operation));
      expect(plan).toContain('Fetch(service: "auth")');
      expect(plan).toContain('Fetch(service: "saleor")');
      expect(plan).toMatch(/\.\.\. on User \{\s*__typename\s*email\s*\}/);
    });
  });
});
