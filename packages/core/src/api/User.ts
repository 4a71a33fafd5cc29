/** The User kind: a SQL account in a DoltDB, its password read from a Secret. */
import { Schema } from "effect"
import { makeDecoder, makeEncoder } from "./Codec.ts"
import {
  DoltDBRef,
  ObjectMeta,
  SecretKeySelector,
  SqlAccount,
  SqlResourceStatus,
  SqlTemplateFields,
  withDefault
} from "./Common.ts"
import { ApiVersion } from "./Group.ts"

export const UserSpec = Schema.Struct({
  doltDBRef: DoltDBRef.annotate({ description: "DoltDBRef is a reference to the DoltDB the user lives in." }),
  passwordSecretKeyRef: SecretKeySelector.annotate({
    description:
      "PasswordSecretKeyRef is a reference to the Secret key holding the user's password. A Secret labelled k8s.dolthub.com/watch triggers a re-reconcile when it changes."
  }),
  name: Schema.String.check(Schema.isMaxLength(80)).annotate({
    description: "Name of the SQL user (empty is MySQL's anonymous user)."
  }),
  host: Schema.String.check(Schema.isMaxLength(255))
    .annotate({ description: "Host the user connects from ('%' is any host)." })
    .pipe(withDefault("%")),
  ...SqlTemplateFields
}).annotate({ description: "UserSpec defines the desired state of User." })
export type UserSpec = typeof UserSpec.Type

export const UserStatus = SqlResourceStatus("UserStatus defines the observed state of User.", {
  account: Schema.optionalKey(
    SqlAccount.annotate({ description: "Account is the SQL account this object created or adopted." })
  ),
  previousAccount: Schema.optionalKey(
    SqlAccount.annotate({
      description:
        "PreviousAccount is the account of an earlier spec.name/spec.host while a rename is in progress; dropped under cleanupPolicy Delete."
    })
  ),
  passwordSecret: Schema.optionalKey(
    Schema.Struct({
      name: Schema.String.annotate({ description: "Secret name." }),
      key: Schema.String.annotate({ description: "Key in the Secret." }),
      resourceVersion: Schema.String.annotate({
        description: "The Secret's resourceVersion when the password was set."
      })
    }).annotate({
      description:
        "PasswordSecret is the Secret, key and resourceVersion whose password was last set; a change rotates it."
    })
  )
})
export type UserStatus = typeof UserStatus.Type

export const User = Schema.Struct({
  apiVersion: Schema.Literal(ApiVersion),
  kind: Schema.Literal("User"),
  metadata: ObjectMeta,
  spec: UserSpec,
  status: Schema.optionalKey(UserStatus)
}).annotate({ description: "User is a SQL user managed in a DoltDB." })
export type User = typeof User.Type

export const decodeUser = makeDecoder("User", User)
export const encodeUser = makeEncoder("User", User)
