/**
 * Liveness and readiness of the operator process.
 *
 * - Live (`/healthz`): the process serves HTTP; nothing else (a stuck controller is visible in metrics, and
 *   restarting the pod would not fix a stuck API server).
 * - Ready (`/readyz`): every registered readiness gate is open. Gates are scoped: a component registers one
 *   while it runs and the gate disappears with it. The operator registers:
 *   - `leader-election`: open once the first attempt to take the Lease has finished, i.e. we know whether this
 *     replica leads or stands by (a standby is ready: it is a healthy hot spare);
 *   - one gate per controller while it runs as leader, opened once its sources have delivered their initial
 *     listing (caches synced); they vanish when leadership is lost, so a standby stays ready.
 */
import { Context, Effect, Layer, type Scope } from "effect"

export interface ReadinessCheck {
  readonly name: string
  readonly ready: boolean
}

export interface HealthShape {
  /**
   * Register a readiness gate (initially closed) for the lifetime of the current scope; returns the effect
   * that opens it.
   */
  readonly gate: (name: string) => Effect.Effect<Effect.Effect<void>, never, Scope.Scope>
  readonly readiness: Effect.Effect<ReadonlyArray<ReadinessCheck>>
  readonly isReady: Effect.Effect<boolean>
}

export const make: Effect.Effect<HealthShape> = Effect.sync(() => {
  // Keyed by a token, not by name, so two gates with the same name do not clobber each other.
  const gates = new Map<symbol, { name: string; ready: boolean }>()
  const readiness = Effect.sync(() =>
    Array.from(gates.values(), ({ name, ready }) => ({ name, ready })).sort((a, b) => a.name.localeCompare(b.name))
  )
  return {
    gate: (name) =>
      Effect.acquireRelease(
        Effect.sync(() => {
          const token = Symbol(name)
          gates.set(token, { name, ready: false })
          return token
        }),
        (token) => Effect.sync(() => void gates.delete(token))
      ).pipe(
        Effect.map((token) =>
          Effect.sync(() => {
            const gate = gates.get(token)
            if (gate) gate.ready = true
          })
        )
      ),
    readiness,
    isReady: Effect.map(readiness, (checks) => checks.every((check) => check.ready))
  }
})

export class Health extends Context.Service<Health, HealthShape>()("@doltdb-op/operator/runtime/Health") {
  static readonly layer: Layer.Layer<Health> = Layer.effect(Health, make)
}
