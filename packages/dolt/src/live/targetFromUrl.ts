/** `mysql://user:password@host:port` -> DoltTarget (tests, CLI flags). The password stays Redacted. */
import { DoltInvalidInput, type DoltTarget } from "@doltdb-op/core/services/Dolt"
import { Effect, Redacted } from "effect"

export const targetFromUrl = (url: string): Effect.Effect<DoltTarget, DoltInvalidInput> => {
  const parsed = URL.canParse(url) ? new URL(url) : undefined
  if (parsed === undefined || parsed.protocol !== "mysql:" || parsed.hostname === "") {
    return Effect.fail(
      new DoltInvalidInput({
        field: "url",
        value: url.replace(/:[^:@/]*@/u, ":<redacted>@"),
        message: "expected mysql://user:password@host:port"
      })
    )
  }
  return Effect.succeed({
    host: parsed.hostname,
    port: parsed.port === "" ? 3306 : Number(parsed.port),
    user: decodeURIComponent(parsed.username),
    password: Redacted.make(decodeURIComponent(parsed.password))
  })
}
