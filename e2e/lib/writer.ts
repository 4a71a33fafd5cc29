// A client that writes one row at a time through the address `<name>-primary`'s EndpointSlice points to (there is
// no kube-proxy: the slice's ready endpoint is where a client in the cluster would be sent). Shared by the operator
// scenarios and the failover figures. Plain async Node (test infrastructure).
import * as mysql from "mysql2/promise"
import { sleep, waitFor } from "../test/helpers.ts"
import { group, type Kube, type KubeObject } from "./kube.ts"

export interface Ack {
  readonly id: number
  readonly ip: string
  readonly startedAt: number
  readonly at: number
  /** Came back with a warning (3024: ack-writes timed out, or its circuit breaker is open): as safe as async. */
  readonly warned: boolean
}

const tryConnect = (host: string, user: string, password: string) =>
  mysql.createConnection({ host, port: 3306, user, password, connectTimeout: 3000 })

/**
 * A write counts as acknowledged when the INSERT returned. While a write is pending, the EndpointSlice is read
 * again every 250 ms: when it points elsewhere, the pending write is abandoned (its connection closed, the write
 * not acknowledged), as a client behind a Service would reconnect instead of waiting for a dead address.
 */
export class Writer {
  readonly acks: Array<Ack> = []
  readonly errors: Array<string> = []
  private next = 1
  private stopped = false
  private loop: Promise<void> | undefined
  private conns = new Map<string, mysql.Connection>()

  private readonly k: Kube
  private readonly ns: string
  private readonly service: string
  private readonly user: string
  private readonly password: string
  private readonly table: string

  constructor(k: Kube, ns: string, service: string, user: string, password: string, table: string) {
    this.k = k
    this.ns = ns
    this.service = service
    this.user = user
    this.password = password
    this.table = table
  }

  /** The first ready address of the Service's EndpointSlices, or undefined. */
  async primaryAddress(): Promise<string | undefined> {
    const list = await this.k.get<{ items: Array<KubeObject> }>(
      `${group("discovery.k8s.io/v1", "endpointslices", this.ns)}?labelSelector=kubernetes.io%2Fservice-name%3D${this.service}`
    )
    for (const slice of list.items) {
      for (const ep of slice.endpoints ?? []) {
        if (ep.conditions?.ready !== false && ep.addresses?.[0]) return ep.addresses[0] as string
      }
    }
    return undefined
  }

  /** Resolves when the slice points somewhere other than `ip` (or the write settled first). */
  private async moved(ip: string, settled: () => boolean) {
    while (!settled() && !this.stopped) {
      await sleep(250)
      const now = await this.primaryAddress().catch(() => ip)
      if (now !== undefined && now !== ip) return true
    }
    return false
  }

  private async writeOnce(ip: string) {
    const id = this.next++
    const startedAt = Date.now()
    let settled = false
    try {
      let c = this.conns.get(ip)
      if (!c) {
        c = await tryConnect(ip, this.user, this.password)
        this.conns.set(ip, c)
      }
      const conn = c
      const write = conn
        .query({ sql: `INSERT INTO ${this.table} VALUES (?, ?)`, values: [id, ip], timeout: 20_000 })
        .finally(() => {
          settled = true
        })
      // A destroyed connection does not always fail its pending query (mysql2 waits for the query's own timeout),
      // so an abandoned write is given up here, not by waiting for the query to fail.
      const abandoned = this.moved(ip, () => settled).then((moved) => {
        if (!moved) return new Promise<never>(() => undefined)
        conn.destroy()
        throw new Error(`abandoned: ${this.service} no longer points to ${ip}`)
      })
      write.catch(() => undefined)
      const [res] = await Promise.race([write, abandoned])
      const warned = ((res as mysql.ResultSetHeader).warningStatus ?? 0) > 0
      this.acks.push({ id, ip, startedAt, at: Date.now(), warned })
    } catch (e) {
      settled = true
      this.errors.push(`${new Date().toISOString()} ${ip} #${id}: ${(e as Error).message}`)
      const c = this.conns.get(ip)
      this.conns.delete(ip)
      c?.destroy()
      await sleep(100)
    }
  }

  start() {
    this.loop = (async () => {
      while (!this.stopped) {
        let ip: string | undefined
        try {
          ip = await this.primaryAddress()
        } catch (e) {
          this.errors.push(`endpointslice: ${(e as Error).message}`)
        }
        if (!ip) {
          await sleep(100)
          continue
        }
        await this.writeOnce(ip)
        await sleep(50)
      }
    })()
  }

  async stop() {
    this.stopped = true
    await this.loop
    for (const c of this.conns.values()) c.destroy()
    this.conns.clear()
  }

  /** The first write acknowledged that started at or after `t` (by an address matching `ip`, when given). */
  async firstAckAfter(t: number, timeoutMs: number, ip?: (ip: string) => boolean, clean = false) {
    return waitFor(
      `a write acknowledged${clean ? " without a warning" : ""} through the primary's endpoint`,
      timeoutMs,
      async () => this.acks.find((a) => a.startedAt >= t && (!ip || ip(a.ip)) && (!clean || !a.warned))
    )
  }

  /** The last write acknowledged before `t`. */
  lastAckBefore(t: number): Ack | undefined {
    for (let i = this.acks.length - 1; i >= 0; i--) if (this.acks[i]!.at < t) return this.acks[i]
    return undefined
  }

  /** Warning-free acknowledged ids: the ones the operator promises to keep with ack-writes on. */
  promised = () => this.acks.filter((a) => !a.warned).map((a) => a.id)
}
