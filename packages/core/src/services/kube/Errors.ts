/**
 * The Kube service's failures, mapped once from HTTP status / `Status.reason` (live layer) or raised directly
 * (in-memory layer). Every error names the verb and the object it was about.
 */
import { Schema } from "effect"

const fields = {
  /** get, list, watch, create, replace, apply, patch, patchStatus, delete, event */
  verb: Schema.String,
  kind: Schema.String,
  namespace: Schema.optionalKey(Schema.String),
  name: Schema.optionalKey(Schema.String),
  message: Schema.String,
  cause: Schema.optionalKey(Schema.Defect())
}

/** 404: the object (or the resource type) does not exist. */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", fields) {}
/** 409: stale resourceVersion, failed precondition, or a server-side apply conflict between field managers. */
export class Conflict extends Schema.TaggedError<Conflict>()("Conflict", fields) {}
/** 409 AlreadyExists: create of a name that is taken. */
export class AlreadyExists extends Schema.TaggedError<AlreadyExists>()("AlreadyExists", fields) {}
/** 401/403: not authenticated or not allowed (RBAC). */
export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", fields) {}
/** 400/422 (and 405/413/415): the request or the object is invalid; `message` names the field. */
export class Invalid extends Schema.TaggedError<Invalid>()("Invalid", fields) {}
/** 410: the resourceVersion a watch resumes from is too old (compacted): relist. */
export class Gone extends Schema.TaggedError<Gone>()("Gone", fields) {}
/** The request did not finish in time (client timeout, 408, 504, `Status.reason` Timeout). */
export class Timeout extends Schema.TaggedError<Timeout>()("Timeout", fields) {}
/** The server could not be reached or answered 429/5xx. Safe to retry for reads. */
export class Unavailable extends Schema.TaggedError<Unavailable>()("Unavailable", fields) {}

export type KubeError = NotFound | Conflict | AlreadyExists | Forbidden | Invalid | Gone | Timeout | Unavailable

export type KubeErrorTag = KubeError["_tag"]

export interface ErrorContext {
  readonly verb: string
  readonly kind: string
  readonly namespace?: string | undefined
  readonly name?: string | undefined
}

const make = (tag: KubeErrorTag, ctx: ErrorContext, message: string, cause?: unknown): KubeError => {
  const props = {
    verb: ctx.verb,
    kind: ctx.kind,
    ...(ctx.namespace === undefined ? {} : { namespace: ctx.namespace }),
    ...(ctx.name === undefined ? {} : { name: ctx.name }),
    message,
    ...(cause === undefined ? {} : { cause })
  }
  switch (tag) {
    case "NotFound":
      return new NotFound(props)
    case "Conflict":
      return new Conflict(props)
    case "AlreadyExists":
      return new AlreadyExists(props)
    case "Forbidden":
      return new Forbidden(props)
    case "Invalid":
      return new Invalid(props)
    case "Gone":
      return new Gone(props)
    case "Timeout":
      return new Timeout(props)
    case "Unavailable":
      return new Unavailable(props)
  }
}

export const kubeError: (tag: KubeErrorTag, ctx: ErrorContext, message: string, cause?: unknown) => KubeError = make

/** Which tag an HTTP status code (and the `Status.reason` of its body, when known) maps to. */
export const tagForStatus = (code: number, reason?: string): KubeErrorTag => {
  if (reason === "AlreadyExists") return "AlreadyExists"
  if (reason === "Timeout" || reason === "ServerTimeout") return "Timeout"
  if (reason === "Expired" || reason === "Gone") return "Gone"
  switch (code) {
    case 404:
      return "NotFound"
    case 409:
      return "Conflict"
    case 401:
    case 403:
      return "Forbidden"
    case 400:
    case 405:
    case 406:
    case 413:
    case 415:
    case 422:
      return "Invalid"
    case 410:
      return "Gone"
    case 408:
    case 504:
      return "Timeout"
    default:
      return "Unavailable"
  }
}

/** The errors worth retrying for an idempotent request. */
export const isRetryable = (error: KubeError): boolean => error._tag === "Unavailable" || error._tag === "Timeout"
