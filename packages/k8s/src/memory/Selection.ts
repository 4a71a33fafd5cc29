/** List and watch filtering: a namespace, a label selector and a field selector, as the API server reads them. */
import { type KubeError, type KubeObject, LabelSelector } from "@doltdb-op/core/services/Kube"
import { Result } from "effect"
import { invalidError, type Res } from "./ObjectRules.ts"

/** A predicate for watch/list filtering, or Invalid when a selector does not parse. */
export const selection = (
  res: Res,
  namespace: string | undefined,
  labelSelector: string | undefined,
  fieldSelector: string | undefined,
  verb: string
): Result.Result<(o: KubeObject) => boolean, KubeError> => {
  const labels = labelSelector === undefined ? Result.succeed([]) : LabelSelector.parse(labelSelector)
  if (Result.isFailure(labels)) return Result.fail(invalidError(verb, res, namespace, undefined, labels.failure))
  const fields = fieldSelector === undefined ? Result.succeed([]) : LabelSelector.parseFieldSelector(fieldSelector)
  if (Result.isFailure(fields)) return Result.fail(invalidError(verb, res, namespace, undefined, fields.failure))
  const ns = res.namespaced ? namespace : undefined
  const ls = labels.success
  const fs = fields.success
  return Result.succeed(
    (o) =>
      (ns === undefined || o.metadata.namespace === ns) &&
      LabelSelector.matches(ls, o.metadata.labels) &&
      LabelSelector.fieldsMatch(fs, o)
  )
}
