/**
 * The files of a new subgraph (`npm run new:subgraph -- <name>`): a minimal subgraph that already
 * follows every convention of the kit, around one tenant table of "notes" that stand for the
 * subgraph's own data. Each file is what a real one writes, so renaming notes to the domain's
 * objects is the whole job: a schema file, one tenant table through kit.tenant_table(), one
 * query, one mutation with payload errors, permissions, loaders and a test.
 */

export interface ScaffoldNames {
  /** The subgraph: folder, schema file, PostgreSQL schema (`bi`). */
  name: string;
  /** Its listen port. */
  port: number;
  /** PascalCase prefix of its types (`Bi`): type names must not collide across subgraphs. */
  type: string;
  /** camelCase prefix of its root fields (`bi`). */
  field: string;
}

/** Paths (from the repository root) and contents of the files `names` gets. */
export function scaffoldFiles(names: ScaffoldNames): Record<string, string> {
  const { name } = names;
  return {
    [`schema/${name}.graphql`]: schema(names),
    [`subgraphs/${name}/index.ts`]: index(names),
    [`subgraphs/${name}/migrations/001_${name}.sql`]: migration(names),
    [`subgraphs/${name}/store.ts`]: store(names),
    [`subgraphs/${name}/loaders.ts`]: loaders(names),
    [`subgraphs/${name}/mappers.ts`]: mappers(names),
    [`subgraphs/${name}/mutations.ts`]: mutations(names),
    [`subgraphs/${name}/resolvers.ts`]: resolvers(names),
    [`subgraphs/${name}/permissions.ts`]: permissions(names),
    [`test/${name}.test.ts`]: test(names),
  };
}

const schema = ({ name, type: T, field: f }: ScaffoldNames) => `extend schema
  @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])

# ${name}: notes stand for this subgraph's own data (rename them). Ids are UUIDs. Every member of
# the tenant reads; editors and above write. Lists are Relay connections (\`first\` at most 100).
# Root fields, and fields holding another subgraph's objects, are nullable (ARCHITECTURE.md).
type Query {
  "Notes of the token's tenant, newest first."
  ${f}Notes(first: Int, after: String, last: Int, before: String): ${T}NoteConnection
  "One note; null (and a NOT_FOUND error) when it does not exist in the token's tenant."
  ${f}Note(id: ID!): ${T}Note
}

type Mutation {
  "Bad input is reported in \`errors\` (nothing is written), not as a GraphQL error."
  create${T}Note(input: ${T}NoteInput!): ${T}NotePayload
}

"An ISO 8601 date and time."
scalar DateTime

type ${T}Note @key(fields: "id") {
  id: ID!
  title: String!
  createdAt: DateTime!
}

type ${T}NoteConnection {
  edges: [${T}NoteEdge!]!
  pageInfo: PageInfo!
  totalCount: Int!
}

type ${T}NoteEdge {
  node: ${T}Note!
  cursor: String!
}

"Saleor's PageInfo, shared by every subgraph."
type PageInfo @shareable {
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
  endCursor: String
}

input ${T}NoteInput {
  "1 to 200 characters, unique in the tenant."
  title: String!
}

type ${T}NotePayload {
  ${f}Note: ${T}Note
  errors: [${T}Error!]!
}

type ${T}Error {
  "The input field at fault, null for the whole input."
  field: String
  message: String!
  code: ${T}ErrorCode!
}

enum ${T}ErrorCode {
  INVALID
  REQUIRED
  TOO_LONG
  DUPLICATE
  NOT_FOUND
}
`;

const index = ({ name, port }: ScaffoldNames) => `import { defineSubgraph } from '../kit/server.ts';
import { createLoaders } from './loaders.ts';
import { permissions } from './permissions.ts';
import { resolvers } from './resolvers.ts';

/**
 * The ${name} subgraph. Its schema is schema/${name}.graphql and its migrations
 * subgraphs/${name}/migrations/ (found by its name); \`npm run compose\` adds it to supergraph.yaml.
 */
export default defineSubgraph({
  name: '${name}',
  port: ${port},
  resolvers,
  permissions,
  // Its tables reference auth.memberships: auth's migrations run first.
  dependsOn: ['auth'],
  createLoaders,
});
`;

const migration = ({ name }: ScaffoldNames) => `-- Up Migration

-- A tenant table: tenant_id leads the primary key, unique keys and indexes, and foreign keys
-- reference (tenant_id, id), so no row can point into another tenant. created_by must be a member
-- of the row's tenant (auth.memberships; see dependsOn in index.ts).
CREATE TABLE ${name}.notes (
  tenant_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  title text NOT NULL CONSTRAINT notes_title_length CHECK (char_length(title) BETWEEN 1 AND 200),
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT notes_title_key UNIQUE (tenant_id, title),
  CONSTRAINT notes_created_by_fkey FOREIGN KEY (tenant_id, created_by)
    REFERENCES auth.memberships (tenant_id, account_id) ON DELETE SET NULL (created_by)
);
-- The list's order, newest first: a page reads straight off it.
CREATE INDEX notes_by_created ON ${name}.notes (tenant_id, created_at DESC, id DESC);
CREATE INDEX notes_created_by ON ${name}.notes (tenant_id, created_by);

-- Row-level security by tenant, the owner's policy and the app role's grants (subgraphs/kit/migrations).
SELECT kit.tenant_table('${name}.notes');

-- Down Migration

DROP TABLE ${name}.notes;
`;

const store = ({ name }: ScaffoldNames) => `import type { ListRequest } from '../kit/connection.ts';
import type { Tx } from '../kit/db/database.ts';
import { readList } from '../kit/db/list.ts';
import { selectByKeys } from '../kit/db/select-by-keys.ts';
import type { Table } from '../kit/db/table.ts';
import { insertRow } from '../kit/db/write-row.ts';

// All SQL of the ${name} subgraph. Every function runs inside the caller's tenant transaction
// (ctx.tx): row-level security decides which rows exist, and new rows take the transaction's tenant.

export interface NoteRow {
  id: string;
  title: string;
  created_by: string | null;
  created_at: Date;
}

const NOTES: Table = { name: '${name}.notes', columns: 'id, title, created_by, created_at' };

/** The notes of these ids (a DataLoader batch: one statement). */
export const notesByIds = selectByKeys<NoteRow>(NOTES, { key: 'id' });

/** One page of the tenant's notes, newest first (off the notes_by_created index); filters add to \`where\` with Params. */
export const notesPage = (tx: Tx, page: ListRequest) =>
  readList<NoteRow>(tx, { columns: NOTES.columns, from: NOTES.name, where: [], orderBy: 'created_at DESC, id DESC', values: [] }, page);

export const insertNote = (tx: Tx, note: { title: string; created_by: string | null }) => insertRow<NoteRow>(tx, NOTES, note);
`;

const loaders = ({ type: T }: ScaffoldNames) => `import type { Context } from '../kit/context.ts';
import { rowsById } from '../kit/loaders.ts';
import * as store from './store.ts';

/** Per-request DataLoaders: every read by id is one statement per batch. */
export function createLoaders(ctx: Pick<Context, 'tx'>) {
  return {
    note: rowsById(ctx.tx, store.notesByIds, (row) => row.id),
  };
}

export type ${T}Loaders = ReturnType<typeof createLoaders>;
export type ${T}Context = Context<${T}Loaders>;
`;

const mappers = ({ type: T }: ScaffoldNames) => `import type { NoteRow } from './store.ts';

// What each GraphQL type's resolvers receive as parent (see codegen.ts).
export type ${T}NoteModel = NoteRow;
`;

const mutations = ({ type: T }: ScaffoldNames) => `import { databaseErrors } from '../kit/mutations/database-errors.ts';
import { fail, type Outcome } from '../kit/mutations/outcome.ts';
import { mutationRunner } from '../kit/mutations/run-mutation.ts';
import type { ${T}ErrorCode, MutationCreate${T}NoteArgs } from './__generated__/resolvers-types.ts';
import type { ${T}Context } from './loaders.ts';
import * as store from './store.ts';

/** The longest title (the notes_title_length CHECK says the same). */
export const TITLE_MAX = 200;

/** How database errors read as payload errors: by constraint, then by kind. */
const write = mutationRunner(
  databaseErrors<${T}ErrorCode>(
    { unique: 'DUPLICATE', foreignKey: 'NOT_FOUND', check: 'INVALID', notNull: 'REQUIRED', tooLong: 'TOO_LONG' },
    { constraints: { notes_title_key: { field: 'title', code: 'DUPLICATE', message: 'A note with this title exists.' } } },
  ),
);

export async function createNote(ctx: ${T}Context, { input }: MutationCreate${T}NoteArgs): Promise<Outcome<store.NoteRow, ${T}ErrorCode>> {
  const title = input.title.trim();
  if (!title) return fail('title', 'Enter a title.', 'REQUIRED');
  if (title.length > TITLE_MAX) return fail('title', \`At most \${TITLE_MAX} characters.\`, 'TOO_LONG');
  return write(ctx.tx, (tx) => store.insertNote(tx, { title, created_by: ctx.principal.accountId }));
}
`;

const resolvers = ({ type: T, field: f }: ScaffoldNames) => `import { listConnection, toListRequest } from '../kit/connection.ts';
import { pageStatements } from '../kit/db/list.ts';
import { notFound } from '../kit/errors.ts';
import { isUuid } from '../kit/formats.ts';
import { payloadResolver } from '../kit/mutations/payload.ts';
import type { Resolvers } from './__generated__/resolvers-types.ts';
import * as mutations from './mutations.ts';
import * as store from './store.ts';

export const resolvers: Resolvers = {
  Query: {
    ${f}Notes: async (_root, args, ctx, info) => {
      const page = toListRequest(args, info);
      return listConnection(await ctx.tx((tx) => store.notesPage(tx, page), pageStatements(page)), page);
    },
    ${f}Note: async (_root, args, ctx) => {
      const note = isUuid(args.id) ? await ctx.loaders.note.load(args.id.toLowerCase()) : null;
      if (!note) throw notFound('Note');
      return note;
    },
  },
  Mutation: {
    create${T}Note: payloadResolver('${f}Note')(mutations.createNote),
  },
  ${T}Note: {
    __resolveReference: (reference, ctx) => ctx.loaders.note.load(reference.id),
    createdAt: (note) => note.created_at,
  },
};
`;

const permissions = ({ name, type: T, field: f }: ScaffoldNames) => `import { isEditor, isMember, type Permissions } from '../kit/shield.ts';

/**
 * Who may call what in the ${name} subgraph (row-level security then decides which rows exist):
 * every member reads, editors and above write. Anything not listed is denied; the kit derives
 * the rules of connections, edges, PageInfo and mutation payloads from what they wrap.
 */
export const permissions: Permissions = {
  Query: {
    ${f}Notes: isMember,
    ${f}Note: isMember,
  },
  Mutation: {
    create${T}Note: isEditor,
  },
  ${T}Note: isMember,
};
`;

const test = ({ name, type: T, field: f }: ScaffoldNames) => `import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import auth from '../subgraphs/auth/index.ts';
import ${f} from '../subgraphs/${name}/index.ts';
import { bearer, gql } from './support/graphql.ts';
import { startSubgraphs, type RunningSubgraphs } from './support/stack.ts';

// The ${name} subgraph over HTTP, on fresh PostgreSQL (or PGlite) with the demo tenants and logins.

const CREATE = \`mutation($title: String!) { create${T}Note(input: { title: $title }) { ${f}Note { id title createdAt } errors { field code } } }\`;
const LIST = '{ ${f}Notes(first: 10) { totalCount edges { node { id title } } } }';
const ONE = 'query($id: ID!) { ${f}Note(id: $id) { id title } }';

let stack: RunningSubgraphs;
let url: string;

beforeAll(async () => {
  stack = await startSubgraphs([auth, ${f}]);
  url = stack.urls.${name}!;
});
afterAll(() => stack?.close());

const as = async (email: string) => bearer(await stack.token(email));

describe('${name} subgraph', () => {
  it('an editor creates a note; every member of the tenant lists and reads it', async () => {
    const created = await gql(url, CREATE, { title: 'First note' }, await as('editor@acme.example'));
    expect(created.errors).toBeUndefined();
    const note = created.data!.create${T}Note.${f}Note;
    expect(note).toMatchObject({ title: 'First note' });
    expect(created.data!.create${T}Note.errors).toEqual([]);

    const list = await gql(url, LIST, {}, await as('viewer@acme.example'));
    expect(list.data!.${f}Notes.totalCount).toBe(1);
    expect(list.data!.${f}Notes.edges[0].node).toEqual({ id: note.id, title: 'First note' });
    expect((await gql(url, ONE, { id: note.id }, await as('viewer@acme.example'))).data!.${f}Note).toEqual({ id: note.id, title: 'First note' });
  });

  it('a viewer reads but does not write; an anonymous caller does neither', async () => {
    const viewer = await gql(url, CREATE, { title: 'Not mine to write' }, await as('viewer@acme.example'));
    expect(viewer.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    const anonymous = await gql(url, LIST);
    expect(anonymous.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  });

  it('another tenant never sees the note, by list or by id', async () => {
    const created = await gql(url, CREATE, { title: 'Acme only' }, await as('editor@acme.example'));
    const id = created.data!.create${T}Note.${f}Note.id;
    const globex = await as('owner@globex.example');
    const list = await gql(url, LIST, {}, globex);
    expect(list.errors).toBeUndefined();
    expect(list.data!.${f}Notes.totalCount).toBe(0);
    const one = await gql(url, ONE, { id }, globex);
    expect(one.data!.${f}Note).toBeNull();
    expect(one.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
  });

  it('bad input comes back as payload errors, with nothing written', async () => {
    const editor = await as('editor@acme.example');
    const errorsOf = async (title: string) => (await gql(url, CREATE, { title }, editor)).data!.create${T}Note;
    expect(await errorsOf('  ')).toEqual({ ${f}Note: null, errors: [{ field: 'title', code: 'REQUIRED' }] });
    expect(await errorsOf('x'.repeat(201))).toEqual({ ${f}Note: null, errors: [{ field: 'title', code: 'TOO_LONG' }] });
    await errorsOf('Twice');
    expect(await errorsOf('Twice')).toEqual({ ${f}Note: null, errors: [{ field: 'title', code: 'DUPLICATE' }] });
    const list = await gql(url, '{ ${f}Notes(first: 100) { edges { node { title } } } }', {}, editor);
    expect(list.data!.${f}Notes.edges.filter((e: { node: { title: string } }) => e.node.title === 'Twice')).toHaveLength(1);
  });
});
`;
