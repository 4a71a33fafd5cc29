/** The Grant kind: privileges of a User on a database or table. */
import { Schema } from "effect"
import { makeDecoder, makeEncoder } from "./Codec.ts"
import { DoltDBRef, ObjectMeta, SqlResourceStatus, SqlTemplateFields, withDefault } from "./Common.ts"
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

export const GrantStatus = SqlResourceStatus("GrantStatus defines the observed state of Grant.", {
  applied: Schema.optionalKey(
    Schema.Struct({
      username: Schema.String.annotate({ description: "User name." }),
      host: Schema.String.annotate({ description: "Host." }),
      database: Schema.String.annotate({ description: "Database (`*` = all)." }),
      table: Schema.String.annotate({ description: "Table (`*` = all)." }),
      privileges: Schema.Array(Schema.String).annotate({ description: "Privileges this Grant granted." }),
      grantOption: Schema.Boolean.annotate({ description: "Whether this Grant granted GRANT OPTION." })
    }).annotate({
      description:
        "Applied is what this Grant granted and answers for; only these privileges are revoked when the spec drops them or the Grant is deleted."
    })
  )
})
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
