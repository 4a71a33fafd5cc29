export * from "./GuardView.ts"
export * from "./IsolationGuard.ts"
