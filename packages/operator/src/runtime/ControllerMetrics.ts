/**
 * Reconcile metrics under controller-runtime's names, help texts, buckets and labels
 * (pkg/internal/controller/metrics/metrics.go), so existing dashboards and alerts work unchanged.
 */
import { Metric } from "effect"

export type ResultLabel = "success" | "error" | "requeue" | "requeue_after"
export const resultLabels: ReadonlyArray<ResultLabel> = ["success", "error", "requeue", "requeue_after"]

export const reconcileTotal = Metric.counter("controller_runtime_reconcile_total", {
  description: "Total number of reconciliations per controller",
  incremental: true
})
export const reconcileErrors = Metric.counter("controller_runtime_reconcile_errors_total", {
  description: "Total number of reconciliation errors per controller",
  incremental: true
})
/** Defects (thrown exceptions, `Effect.die`) in a reconciler: controller-runtime's recovered panics. */
export const reconcilePanics = Metric.counter("controller_runtime_reconcile_panics_total", {
  description: "Total number of reconciliation panics per controller",
  incremental: true
})
export const reconcileTime = Metric.histogram("controller_runtime_reconcile_time_seconds", {
  description: "Length of time per reconciliation per controller",
  boundaries: [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75,
    2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60
  ]
})
export const maxConcurrentReconciles = Metric.gauge("controller_runtime_max_concurrent_reconciles", {
  description: "Maximum number of concurrent reconciles per controller"
})
export const activeWorkers = Metric.gauge("controller_runtime_active_workers", {
  description: "Number of currently used workers per controller"
})
