/** The Grant kind: privileges of a User on a database or table. */
import { Schema } from "effect"
import { makeDecoder, makeEncoder } from "./Codec.ts"
import { ConditionsStatus, DoltDBRef, ObjectMeta, SqlTemplateFields, withDefault } from "./Common.ts"
import { ApiVersion } from "./Group.ts"

export const GrantSpec = Schema.Struct({
  doltDBRef: DoltDBRef.annotate({ description: "DoltDBRef is a reference to the DoltDB the grant applies in." }),
  privileges: Schema.Array(Schema.String.check(Schema.isMinLength(1)))
    .check(Schema.isMinLength(1))
    .annotate({ description: "Privileges to grant, e.g. SELECT, INSERT or ALL PRIVILEGES." }),
  database: Schema.String.annotate({ description: "Database the privileges apply to ('*' is every database)." }).pipe(
    withDefault("*")
  ),
  table: Schema.String.annotate({ description: "Table the privileges apply to ('*' is every table)." }).pipe(
    withDefault("*")
  ),
  username: Schema.String.annotate({
    description: "Username of the SQL user the privileges are granted to."
  }),
  host: Schema.String.check(Schema.isMaxLength(255))
    .annotate({ description: "Host of the SQL user ('%' is any host)." })
    .pipe(withDefault("%")),
  grantOption: Schema.Boolean.annotate({
    description: "GrantOption lets the user grant these privileges to others."
  }).pipe(withDefault(false)),
  ...SqlTemplateFields
}).annotate({ description: "GrantSpec defines the desired state of Grant." })
export type GrantSpec = typeof GrantSpec.Type

export const GrantStatus = ConditionsStatus("GrantStatus defines the observed state of Grant.")
export type GrantStatus = typeof GrantStatus.Type

export const Grant = Schema.Struct({
  apiVersion: Schema.Literal(ApiVersion),
  kind: Schema.Literal("Grant"),
  metadata: ObjectMeta,
  spec: GrantSpec,
  status: Schema.optionalKey(GrantStatus)
}).annotate({ description: "Grant is a set of SQL privileges granted to a user in a DoltDB." })
export type Grant = typeof Grant.Type

export const decodeGrant = makeDecoder("Grant", Grant)
export const encodeGrant = makeEncoder("Grant", Grant)
