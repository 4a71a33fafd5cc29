/** Direct admin access to the server under test, for checks the `Dolt` service must not be trusted with. */
import type { DoltTarget } from "@doltdb-op/core/services/Dolt"
import { Context, Effect, Redacted } from "effect"
import * as mysql from "mysql2/promise"

export type Rows = ReadonlyArray<Record<string, unknown>>

export class AdminSql extends Context.Service<
  AdminSql,
  {
    readonly target: DoltTarget
    /** One parameterised statement as the admin user. */
    readonly query: (sql: string, values?: ReadonlyArray<unknown>) => Effect.Effect<Rows>
    /** `"ok"` when `user` can log in with `password`, else the error text. */
    readonly login: (user: string, password: string) => Effect.Effect<string>
  }
>()("@doltdb-op/dolt/test/AdminSql") {}

export const connectTo = (target: DoltTarget, user: string, password: string) =>
  mysql.createConnection({
    host: target.host,
    port: target.port,
    user,
    password,
    charset: "utf8mb4",
    connectTimeout: 5_000
  })

export const adminSqlFor = (target: DoltTarget) =>
  AdminSql.of({
    target,
    query: (sql, values = []) =>
      Effect.acquireUseRelease(
        Effect.tryPromise(() => connectTo(target, target.user, Redacted.value(target.password))),
        (c) => Effect.tryPromise(() => c.query(sql, [...values])).pipe(Effect.map(([rows]) => rows as Rows)),
        (c) => Effect.sync(() => c.destroy())
      ).pipe(Effect.orDie),
    login: (user, password) =>
      Effect.promise(() =>
        connectTo(target, user, password).then(
          (c) => {
            c.destroy()
            return "ok"
          },
          (e: unknown) => String(e)
        )
      )
  })
