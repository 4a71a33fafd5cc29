/**
 * BackupSchedule times, with effect's `Cron`: the 5-field expressions and descriptors robfig/cron's `ParseStandard`
 * accepts (the reference's parser): `@yearly`/`@annually`, `@monthly`, `@weekly`, `@daily`/`@midnight`, `@hourly`
 * and `@every <duration>`, in `timeZone` (IANA name, default UTC).
 */
import { Cron, Result } from "effect"
import { parseGoDuration } from "../api/GoDuration.ts"

export type Schedule =
  | { readonly _tag: "Cron"; readonly cron: Cron.Cron }
  /** `@every d`: every `millis` after the previous time. */
  | { readonly _tag: "Every"; readonly millis: number }

const descriptors: Readonly<Record<string, string>> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *"
}

/** The schedule, or a message naming what is wrong with it. */
export const parseSchedule = (text: string, timeZone: string | undefined): Result.Result<Schedule, string> => {
  const trimmed = text.trim()
  if (trimmed.startsWith("@every")) {
    const millis = parseGoDuration(trimmed.slice("@every".length).trim())
    return millis === undefined || millis < 1_000
      ? Result.fail(`schedule "${text}": @every needs a duration of at least 1s, e.g. "@every 1h30m"`)
      : Result.succeed({ _tag: "Every", millis })
  }
  const expression = descriptors[trimmed] ?? trimmed
  if (expression.split(/\s+/u).length !== 5)
    return Result.fail(
      `schedule "${text}": expected 5 fields (minute hour day-of-month month day-of-week) or a descriptor such as @daily`
    )
  try {
    const parsed = Cron.parse(expression, timeZone ?? "UTC")
    if (Result.isSuccess(parsed)) return Result.succeed({ _tag: "Cron", cron: parsed.success })
    return /time ?zone/iu.test(parsed.failure.message)
      ? Result.fail(`timeZone "${timeZone}" is not a known IANA time zone`)
      : Result.fail(`schedule "${text}": ${parsed.failure.message}`)
  } catch {
    return Result.fail(`timeZone "${timeZone}" is not a known IANA time zone`)
  }
}

/** The first scheduled time strictly after `after` (epoch millis). */
export const nextTime = (schedule: Schedule, after: number): number =>
  schedule._tag === "Every" ? after + schedule.millis : Cron.next(schedule.cron, new Date(after)).getTime()

/**
 * The latest scheduled time in `(after, now]`, if any: a missed window yields one time (one catch-up), however many
 * were missed.
 */
export const latestDue = (schedule: Schedule, after: number, now: number): number | undefined => {
  if (schedule._tag === "Every") {
    if (now < after + schedule.millis) return undefined
    return after + Math.floor((now - after) / schedule.millis) * schedule.millis
  }
  const first = nextTime(schedule, after)
  if (first > now) return undefined
  // `prev` of a time just after `now` is the latest occurrence at or before `now`.
  const latest = Cron.prev(schedule.cron, new Date(now + 1)).getTime()
  return Math.max(first, latest)
}
