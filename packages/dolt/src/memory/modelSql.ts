/**
 * What the model's SQL-resource calls share: a statement run on one model server (`Run`, given by the Dolt model
 * layer), the errors Dolt answers with, and a database looked up by name.
 */
import { type DoltError, DoltReadOnly, DoltSqlError, type DoltTarget } from "@doltdb-op/core/services/Dolt"
import { Effect } from "effect"
import type { Connection, ModelServer } from "./ModelServer.ts"
import type { DatabaseState } from "./state.ts"

/** A statement run on a fresh connection to a model server. */
export type Op<A> = (server: ModelServer, conn: Connection, now: number) => Effect.Effect<A, DoltError>
export type Run = <A>(target: DoltTarget, op: string, f: Op<A>) => Effect.Effect<A, DoltError>

export const serverReadOnly = (host: string, op: string) =>
  new DoltReadOnly({ host, op, errno: 1105, message: "database server is set to read only mode" })

/** A write to a database of a read-only (standby or demoting) server. */
export const databaseReadOnly = (host: string, op: string, database: string) =>
  new DoltReadOnly({ host, op, errno: 1105, message: `Database ${database} is read-only.` })

export const sqlError = (host: string, op: string, errno: number, message: string) =>
  new DoltSqlError({ host, op, errno, message })

/** The database `name` on the server, or Dolt's "database not found" (1049). */
export const databaseOf = (
  s: ModelServer,
  host: string,
  op: string,
  name: string
): Effect.Effect<DatabaseState, DoltError> => {
  const db = s.data.databases.get(name)
  return db === undefined ? Effect.fail(sqlError(host, op, 1049, `database not found: ${name}`)) : Effect.succeed(db)
}
