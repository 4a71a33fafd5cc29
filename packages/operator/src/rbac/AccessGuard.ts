/**
 * RBAC in memory: a `Kube` wrapper that checks every call against the operator's declared permissions, as the API
 * server's authorizer would with the generated role, refusing what they do not grant with `Forbidden` (403), and
 * recording what was used. The simulated cluster runs the operator through it, so a test that exercises code
 * needing an undeclared verb fails the way the real cluster would.
 */
import { Events, Forbidden, groupOf, type KubeShape, type Resource } from "@doltdb-op/core/services/Kube"
import { Effect, Stream } from "effect"
import { type Access, accessKey, grantedAccesses, type Permission, type Verb } from "./Permissions.ts"

/** What the operator did (granted) and tried without a grant (refused), by `accessKey`. */
export class AccessRecorder {
  readonly used = new Set<string>()
  readonly refused = new Set<string>()
}

const accessOf = (res: Pick<Resource<unknown>, "apiVersion" | "plural">, verb: Verb, sub?: string): Access => ({
  group: groupOf(res.apiVersion),
  resource: sub === undefined ? res.plural : `${res.plural}/${sub}`,
  verb
})

export const guardKube = (
  kube: KubeShape,
  permissions: ReadonlyArray<Permission>,
  recorder: AccessRecorder
): KubeShape => {
  const granted = new Set(grantedAccesses(permissions).map(accessKey))
  /** `undefined` when every access is granted (and recorded), else the refusal. */
  const check = (accesses: ReadonlyArray<Access>, kind: string, namespace: string | undefined, name?: string) => {
    const missing = accesses.filter((a) => !granted.has(accessKey(a)))
    for (const a of accesses) (granted.has(accessKey(a)) ? recorder.used : recorder.refused).add(accessKey(a))
    if (missing.length === 0) return undefined
    return new Forbidden({
      verb: missing[0]?.verb ?? "",
      kind,
      ...(namespace === undefined ? {} : { namespace }),
      ...(name === undefined ? {} : { name }),
      message: `the operator's RBAC rules do not grant ${missing.map(accessKey).join(", ")} (packages/operator/src/rbac/Permissions.ts; npm run gen:rbac)`
    })
  }
  const guarded = <A, E, R>(
    effect: Effect.Effect<A, E, R>,
    accesses: ReadonlyArray<Access>,
    kind: string,
    namespace: string | undefined,
    name?: string
  ): Effect.Effect<A, E | Forbidden, R> =>
    Effect.suspend((): Effect.Effect<A, E | Forbidden, R> => {
      const refused = check(accesses, kind, namespace, name)
      return refused === undefined ? effect : Effect.fail(refused)
    })
  return {
    get: (res, name, options) =>
      guarded(kube.get(res, name, options), [accessOf(res, "get")], res.kind, options?.namespace, name),
    list: (res, options) => guarded(kube.list(res, options), [accessOf(res, "list")], res.kind, options?.namespace),
    watch: (res, options) =>
      Stream.unwrap(
        Effect.sync(() => {
          const refused = check([accessOf(res, "watch")], res.kind, options?.namespace)
          return refused === undefined ? kube.watch(res, options) : Stream.fail(refused)
        })
      ),
    // An informer never fails: a refused one logs and stays empty, as client-go's reflector retries forever.
    informer: (res, options) =>
      Stream.unwrap(
        Effect.sync(() => {
          const refused = check([accessOf(res, "list"), accessOf(res, "watch")], res.kind, options?.namespace)
          return refused === undefined
            ? kube.informer(res, options)
            : Stream.fromEffect(Effect.logError(refused.message)).pipe(Stream.drain, Stream.concat(Stream.never))
        })
      ),
    create: (res, object, options) =>
      guarded(kube.create(res, object, options), [accessOf(res, "create")], res.kind, options?.namespace),
    replace: (res, object, options) =>
      guarded(kube.replace(res, object, options), [accessOf(res, "update")], res.kind, options?.namespace),
    apply: (res, config, options) =>
      kube
        .get(
          res,
          config.metadata.name,
          config.metadata.namespace === undefined ? {} : { namespace: config.metadata.namespace }
        )
        .pipe(
          Effect.as(false),
          Effect.catch(() => Effect.succeed(true)),
          Effect.flatMap((creates) =>
            guarded(
              kube.apply(res, config, options),
              [accessOf(res, "patch"), ...(creates ? [accessOf(res, "create")] : [])],
              res.kind,
              config.metadata.namespace,
              config.metadata.name
            )
          )
        ),
    mergePatch: (res, name, patch, options) =>
      guarded(kube.mergePatch(res, name, patch, options), [accessOf(res, "patch")], res.kind, options?.namespace, name),
    patchStatus: (res, name, status, options) =>
      guarded(
        kube.patchStatus(res, name, status, options),
        [accessOf(res, "patch", "status")],
        res.kind,
        options?.namespace,
        name
      ),
    delete: (res, name, options) =>
      guarded(kube.delete(res, name, options), [accessOf(res, "delete")], res.kind, options?.namespace, name),
    emitEvent: (event) =>
      guarded(kube.emitEvent(event), [accessOf(Events, "create")], "Event", event.regarding.namespace)
  }
}
