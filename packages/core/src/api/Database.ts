/** The Database kind: a database created in a DoltDB (with branches and dolt_ignore patterns). */
import { Schema } from "effect"
import { makeDecoder, makeEncoder } from "./Codec.ts"
import { DoltDBRef, ObjectMeta, SqlName, SqlResourceStatus, SqlTemplateFields, withDefault } from "./Common.ts"
import { ApiVersion } from "./Group.ts"

export const DatabaseSpec = Schema.Struct({
  doltDBRef: DoltDBRef.annotate({ description: "DoltDBRef is a reference to the DoltDB the database lives in." }),
  name: SqlName.annotate({ description: "Name of the database in Dolt." }),
  collation: Schema.String.annotate({ description: "Collation of the database." }).pipe(
    withDefault("utf8mb4_0900_bin")
  ),
  charset: Schema.String.annotate({ description: "Charset of the database." }).pipe(withDefault("utf8mb4")),
  systemBranches: Schema.optionalKey(
    Schema.Array(Schema.String).annotate({ description: "SystemBranches are branches to create, copied from main." })
  ),
  doltIgnorePatterns: Schema.optionalKey(
    Schema.Array(Schema.String).annotate({ description: "DoltIgnorePatterns are the rows of the dolt_ignore table." })
  ),
  ...SqlTemplateFields
}).annotate({ description: "DatabaseSpec defines the desired state of Database." })
export type DatabaseSpec = typeof DatabaseSpec.Type

export const DatabaseStatus = SqlResourceStatus("DatabaseStatus defines the observed state of Database.", {
  databaseName: Schema.optionalKey(
    Schema.String.annotate({
      description:
        "DatabaseName is the database this object created or adopted; deletion (cleanupPolicy Delete) drops it."
    })
  ),
  retainedDatabases: Schema.optionalKey(
    Schema.Array(Schema.String).annotate({
      description:
        "RetainedDatabases are databases of earlier spec.name values, left in place by a rename; dropped on deletion under cleanupPolicy Delete."
    })
  )
})
export type DatabaseStatus = typeof DatabaseStatus.Type

export const Database = Schema.Struct({
  apiVersion: Schema.Literal(ApiVersion),
  kind: Schema.Literal("Database"),
  metadata: ObjectMeta,
  spec: DatabaseSpec,
  status: Schema.optionalKey(DatabaseStatus)
}).annotate({ description: "Database is a SQL database managed in a DoltDB." })
export type Database = typeof Database.Type

export const decodeDatabase = makeDecoder("Database", Database)
export const encodeDatabase = makeEncoder("Database", Database)
