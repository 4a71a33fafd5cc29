/**
 * A scripted HTTP server on 127.0.0.1 standing in for kube-apiserver in the live layer's unit tests: each request
 * is recorded and answered by the test's handler (a JSON reply, a watch stream the test writes to, a hang, or a
 * dropped connection).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { KubeConfig } from "@kubernetes/client-node"
import { Effect } from "effect"

export interface RecordedRequest {
  readonly method: string
  readonly path: string
  readonly query: Readonly<Record<string, string>>
  readonly headers: Readonly<Record<string, string | Array<string> | undefined>>
  readonly body: unknown
}

export type Handler = (request: RecordedRequest, response: ServerResponse) => void

export const json = (response: ServerResponse, status: number, body: unknown): void => {
  response.writeHead(status, { "content-type": "application/json" })
  response.end(JSON.stringify(body))
}

export const status = (response: ServerResponse, code: number, reason: string, message: string): void =>
  json(response, code, { kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message })

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve) => {
    let data = ""
    req.on("data", (chunk) => {
      data += String(chunk)
    })
    req.on("end", () => resolve(data))
  })

/** Starts a fake server for the test's scope; `requests` grows as the client calls it. */
export const fakeApiServer = (handler: Handler) =>
  Effect.gen(function* () {
    const requests: Array<RecordedRequest> = []
    let connections = 0
    const server = createServer((req, res) => {
      void readBody(req).then((text) => {
        const url = new URL(req.url ?? "/", "http://127.0.0.1")
        const recorded: RecordedRequest = {
          method: req.method ?? "",
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          headers: req.headers,
          body: text === "" ? undefined : JSON.parse(text)
        }
        requests.push(recorded)
        handler(recorded, res)
      })
    })
    server.on("connection", () => {
      connections++
    })
    const port = yield* Effect.acquireRelease(
      Effect.callback<number>((resume) => {
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.address() as AddressInfo).port)))
      }),
      () =>
        Effect.callback<void>((resume) => {
          server.closeAllConnections()
          server.close(() => resume(Effect.void))
        })
    )
    return { requests, port, connections: () => connections, kubeConfig: kubeConfigFor(`http://127.0.0.1:${port}`) }
  })

export const kubeConfigFor = (server: string): KubeConfig => {
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [{ name: "fake", server, skipTLSVerify: true }],
    users: [{ name: "tester", token: "secret-token" }],
    contexts: [{ name: "fake", cluster: "fake", user: "tester" }],
    currentContext: "fake"
  })
  return kc
}
