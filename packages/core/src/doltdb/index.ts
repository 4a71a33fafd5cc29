export * from "./DoltDBObserved.ts"
export * from "./planDoltDB.ts"
