/**
 * The controller runtime: work queue, controllers, event sources, leader election, readiness, probe and metrics
 * servers, configuration, and the manager/runtime layers that wire them. One module per concept; import them
 * as namespaces (`import { Controller, WorkQueue } from "@doltdb-op/operator/runtime/index"`).
 */
export * as Controller from "./Controller.ts"
export * as ControllerMetrics from "./ControllerMetrics.ts"
export * as EventSource from "./EventSource.ts"
export * as Health from "./Health.ts"
export * as LeaderElection from "./LeaderElection.ts"
export * as LeaseClient from "./LeaseClient.ts"
export * as Manager from "./Manager.ts"
export * as OperatorConfig from "./OperatorConfig.ts"
export * as OperatorRuntime from "./OperatorRuntime.ts"
export * as ProbeServer from "./ProbeServer.ts"
export * as ProcessMetrics from "./ProcessMetrics.ts"
export * as RateLimiter from "./RateLimiter.ts"
export * as WorkQueue from "./WorkQueue.ts"
export * as WorkQueueMetrics from "./WorkQueueMetrics.ts"
