/**
 * The in-memory API server's ordered change log: what watches resume from, and the listeners live watches hear.
 * Like etcd after compaction, a resourceVersion older than the kept window gets 410 Gone.
 */
import { type KubeError, type KubeObject, kubeError } from "@doltdb-op/core/services/Kube"
import { Result } from "effect"
import type { Res } from "./ObjectRules.ts"

export interface StoreEvent {
  readonly type: "ADDED" | "MODIFIED" | "DELETED"
  readonly typeKey: string
  readonly namespace: string | undefined
  readonly object: KubeObject
  /** The version before this event (MODIFIED), so filtered watches can turn it into ADDED/DELETED. */
  readonly previous: KubeObject | undefined
  readonly resourceVersion: number
}

export type Listener = (event: StoreEvent) => void

export const typeKeyOf = (res: Pick<Res, "apiVersion" | "kind">): string => `${res.apiVersion}/${res.kind}`

export class EventLog {
  private log: Array<StoreEvent> = []
  private compactedThrough = 0
  readonly listeners = new Set<Listener>()
  /** Events kept for watch resumption (the log is trimmed to it once it holds twice as many). */
  private readonly window: number

  constructor(window: number) {
    this.window = window
  }

  /** Records `event` and tells every listener. */
  append(event: StoreEvent): void {
    this.log.push(event)
    if (this.log.length > this.window * 2) {
      const dropped = this.log.length - this.window
      this.compactedThrough = this.log[dropped - 1]!.resourceVersion
      this.log = this.log.slice(dropped)
    }
    for (const l of this.listeners) l(event)
  }

  /** Events of this type after `resourceVersion`, in order; Gone when the log no longer reaches back that far. */
  since(res: Res, resourceVersion: number): Result.Result<ReadonlyArray<StoreEvent>, KubeError> {
    if (resourceVersion < this.compactedThrough) {
      return Result.fail(
        kubeError(
          "Gone",
          { verb: "watch", kind: res.kind },
          `too old resource version: ${resourceVersion} (${this.compactedThrough})`
        )
      )
    }
    const typeKey = typeKeyOf(res)
    return Result.succeed(this.log.filter((e) => e.resourceVersion > resourceVersion && e.typeKey === typeKey))
  }

  get history(): ReadonlyArray<StoreEvent> {
    return this.log
  }

  /** Forgets every event through `revision`. */
  compact(revision: number): void {
    this.compactedThrough = revision
    this.log = []
  }
}
