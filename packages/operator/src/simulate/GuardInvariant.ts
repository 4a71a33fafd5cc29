/**
 * The isolation guard's invariant (docs/guard.md): after a promotion, no old primary acknowledges a write (with or
 * without warning 3024) more than the guard's threshold after it was cut off from the API server and from every
 * peer.
 *
 * Pure: the client write ledger, when each server was cut off, and the promotions seen, in; violations out. A
 * server's "cut off" ends when it is reconnected (`until`).
 */
import type { DoltModel } from "@doltdb-op/dolt"

export interface CutOff {
  /** `<namespace>/<pod>` */
  readonly server: string
  readonly from: number
  readonly until: number | undefined
}

export interface Promotion {
  readonly server: string
  readonly epoch: number
  readonly at: number
}

export interface LateAcknowledgement {
  readonly id: number
  readonly server: string
  readonly epoch: number | undefined
  readonly ackedAt: number
  readonly cutOffAt: number
  readonly promotion: Promotion
}

export const lateAcknowledgements = (
  ledger: ReadonlyArray<DoltModel.LedgerEntry>,
  cutOffs: ReadonlyArray<CutOff>,
  promotions: ReadonlyArray<Promotion>,
  thresholdMillis: number
): ReadonlyArray<LateAcknowledgement> =>
  ledger.flatMap((entry) => {
    if (entry.outcome !== "acked" || entry.server === undefined) return []
    const cut = cutOffs.find(
      (c) =>
        c.server === entry.server &&
        entry.finishedAt > c.from + thresholdMillis &&
        (c.until === undefined || entry.startedAt < c.until)
    )
    if (cut === undefined) return []
    const promotion = promotions.find(
      (p) => p.server !== entry.server && p.at <= entry.finishedAt && p.epoch > (entry.epoch ?? 0)
    )
    return promotion === undefined
      ? []
      : [
          {
            id: entry.id,
            server: entry.server,
            epoch: entry.epoch,
            ackedAt: entry.finishedAt,
            cutOffAt: cut.from,
            promotion
          }
        ]
  })
