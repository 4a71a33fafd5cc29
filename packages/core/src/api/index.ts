export * from "./Group.ts"
