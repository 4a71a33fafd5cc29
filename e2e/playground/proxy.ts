// A local port that always reaches the pods behind a Service, like `kubectl port-forward svc/...` but following
// the Service's EndpointSlices: the harness has no kube-proxy, and a port-forward to a Service sticks to one pod,
// which a failover would leave behind. Each new connection goes to a ready endpoint read at most a second ago.
import { connect, createServer, type Server, type Socket } from "node:net"
import { group, type Kube, type KubeObject } from "../lib/kube.ts"

export interface ServiceProxy {
  readonly port: number
  /** The pod address new connections go to now, if any. */
  readonly target: () => string | undefined
  close(): Promise<void>
}

const readyAddresses = async (k: Kube, ns: string, service: string) => {
  const list = await k.get<{ items: Array<KubeObject> }>(
    `${group("discovery.k8s.io/v1", "endpointslices", ns)}?labelSelector=kubernetes.io%2Fservice-name%3D${service}`
  )
  return list.items.flatMap((s) =>
    (s.endpoints ?? [])
      .filter((e: { conditions?: { ready?: boolean } }) => e.conditions?.ready !== false)
      .flatMap((e: { addresses?: Array<string> }) => e.addresses ?? [])
  )
}

export const serviceProxy = async (k: Kube, ns: string, service: string, port: number): Promise<ServiceProxy> => {
  let addresses: Array<string> = []
  let next = 0
  let stopped = false
  const refresh = async () => {
    while (!stopped) {
      addresses = await readyAddresses(k, ns, service).catch(() => addresses)
      await new Promise((r) => setTimeout(r, 1000))
    }
  }
  addresses = await readyAddresses(k, ns, service).catch(() => [])
  const refreshing = refresh()
  const open = new Set<Socket>()
  const server: Server = createServer((client) => {
    const host = addresses[next++ % Math.max(1, addresses.length)]
    if (!host) {
      client.destroy()
      return
    }
    const upstream = connect({ host, port: 3306 })
    open.add(client).add(upstream)
    client.pipe(upstream).pipe(client)
    const end = () => {
      open.delete(client)
      open.delete(upstream)
      client.destroy()
      upstream.destroy()
    }
    client.on("error", end)
    upstream.on("error", end)
    client.on("close", end)
    upstream.on("close", end)
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(port, "127.0.0.1", () => resolve())
  })
  return {
    port,
    target: () => addresses[0],
    close: async () => {
      stopped = true
      const closed = new Promise<void>((r) => server.close(() => r()))
      for (const s of open) s.destroy()
      await closed
      await refreshing
    }
  }
}
