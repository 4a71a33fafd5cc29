/**
 * The work queue metrics under controller-runtime's names, help texts, buckets and labels
 * (pkg/metrics/workqueue.go: labels `name` and `controller`, both the queue's name), so existing
 * dashboards and alerts work unchanged.
 */
import { Metric } from "effect"

// prometheus.ExponentialBuckets(10e-9, 10, 12), written out to keep the `le` labels exact.
const latencyBoundaries = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100, 1000]

export const depth = Metric.gauge("workqueue_depth", {
  description: "Current depth of workqueue by workqueue and priority"
})
export const adds = Metric.counter("workqueue_adds_total", {
  description: "Total number of adds handled by workqueue",
  incremental: true
})
export const queueDuration = Metric.histogram("workqueue_queue_duration_seconds", {
  description: "How long in seconds an item stays in workqueue before being requested",
  boundaries: latencyBoundaries
})
export const workDuration = Metric.histogram("workqueue_work_duration_seconds", {
  description: "How long in seconds processing an item from workqueue takes.",
  boundaries: latencyBoundaries
})
export const unfinishedWork = Metric.gauge("workqueue_unfinished_work_seconds", {
  description:
    "How many seconds of work has been done that is in progress and hasn't been observed by work_duration. " +
    "Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate " +
    "at which this increases."
})
export const longestRunningProcessor = Metric.gauge("workqueue_longest_running_processor_seconds", {
  description: "How many seconds has the longest running processor for workqueue been running."
})
export const retries = Metric.counter("workqueue_retries_total", {
  description: "Total number of retries handled by workqueue",
  incremental: true
})

/** The label set controller-runtime gives every series of queue `name`. */
export const labels = (name: string): Record<string, string> => ({ name, controller: name })
