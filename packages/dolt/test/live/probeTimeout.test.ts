/**
 * The liveness read (`roleAndEpoch`) is bounded by `probeTimeout`, not `queryTimeout`: a server whose host froze or
 * was cut off keeps an established pooled connection silent (no RST), so this bound is the operator's failure
 * detection time for a lost node (docs/failover.md, "A lost node"). A fake server (mysql2's server side) completes
 * the handshake and the session set-up, then never answers a query.
 */
import type { AddressInfo } from "node:net"
import { assert, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as mysql from "mysql2"
import { defaultLiveOptions } from "../../src/live/connections.ts"
import * as DoltLive from "../../src/live/DoltLive.ts"

const silentServer = Effect.acquireRelease(
  Effect.callback<{ readonly port: number; readonly close: () => void }>((resume) => {
    // mysql2's server side is untyped beyond its events: the handshake and OK packets are all this needs.
    type ServerConnection = {
      serverHandshake(args: object): void
      writeOk(): void
      on(event: string, listener: (arg: string) => void): void
      readonly stream: { destroy(): void }
    }
    const onConnection = (conn: ServerConnection) => {
      conn.serverHandshake({
        protocolVersion: 10,
        serverVersion: "8.0.0-silent",
        connectionId: 1,
        statusFlags: 2,
        characterSet: 8,
        capabilityFlags: 0xffffff,
        authCallback: (_params: unknown, cb: (e: null, r: null) => void) => cb(null, null)
      })
      conn.on("query", (sql) => {
        // The pool's session set-up is answered; every other statement hangs, as on a frozen host (the socket goes
        // after 5 s, so that closing the pool at the end does not wait for it).
        if (sql.startsWith("SET SESSION")) conn.writeOk()
        else setTimeout(() => conn.stream.destroy(), 5_000)
      })
      conn.on("error", () => undefined)
    }
    const server = mysql.createServer(onConnection as never)
    // The typings know `listen(port)` only; the underlying net.Server takes a host and a callback.
    const net = (server as unknown as { _server: import("node:net").Server })._server
    net.listen(0, "127.0.0.1", () => {
      resume(Effect.succeed({ port: (net.address() as AddressInfo).port, close: () => net.close() }))
    })
  }),
  (s) => Effect.sync(() => s.close())
)

it.live("roleAndEpoch on a connection that never answers fails with the probe timeout, not the query timeout", () =>
  Effect.scoped(
    Effect.gen(function* () {
      const { port } = yield* silentServer
      const target = { host: "127.0.0.1", port, user: "root", password: Redacted.make("x") }
      // The pool is not closed: ending it would wait for the hung statement (the fake server drops it after 5 s).
      const live = DoltLive.make({ ...defaultLiveOptions, probeTimeout: "300 millis", queryTimeout: "60 seconds" })
      const error = yield* Effect.flip(live.service.roleAndEpoch(target))
      assert.strictEqual(error._tag, "DoltTimeout", error.message)
      assert.include(error.message, "roleAndEpoch", error.message)
      // Bounded by the probe timeout (mysql2's own, or the 1 s slack above it), never by the 60 s query timeout.
      assert.notInclude(error.message, "1m", error.message)
    })
  )
)
