/**
 * The simulated EndpointSlice controller: one slice per Service with a selector (`<service>-sim`, labelled
 * `kubernetes.io/service-name`), endpoints from the selected pods that have an IP, with ready / serving /
 * terminating conditions (`publishNotReadyAddresses` makes not-ready pods ready), hostname for headless
 * subdomains, and the Service's ports (named target ports resolved against the first selected pod).
 *
 * Not modelled: slice size limits (one slice per Service), dual stack, topology hints, Services without selectors.
 */
import {
  EndpointSlices,
  type KubeObject,
  type KubeShape,
  LabelSelector,
  Pods,
  Services
} from "@doltdb-op/core/services/Kube"
import { Effect, Result } from "effect"
import type { ApiServerState } from "../memory/ApiServerState.ts"
import { isPodReady } from "./StatefulSetController.ts"

export const ServiceNameLabel = "kubernetes.io/service-name"
const manager = "endpointslice-controller"

interface ServiceSpec {
  readonly selector?: Record<string, string>
  readonly clusterIP?: string
  readonly publishNotReadyAddresses?: boolean
  readonly ports?: ReadonlyArray<{ name?: string; port: number; targetPort?: number | string; protocol?: string }>
}

interface PodView {
  readonly spec?: {
    readonly hostname?: string
    readonly subdomain?: string
    readonly nodeName?: string
    readonly containers?: ReadonlyArray<{ readonly ports?: ReadonlyArray<{ name?: string; containerPort: number }> }>
  }
  readonly status?: { readonly podIP?: string; readonly conditions?: ReadonlyArray<{ type: string; status: string }> }
}

const sliceName = (service: string) => `${service}-sim`

export const makeEndpointSliceController = (state: ApiServerState, kube: KubeShape) => {
  const reconcile = Effect.fnUntraced(function* (key: string) {
    const [namespace, name] = key.split("/") as [string, string]
    const got = state.get(Services, namespace, name)
    if (Result.isFailure(got)) return // the slice goes with its owner (GC)
    const svc = got.success
    const spec = (svc.spec ?? {}) as ServiceSpec
    if (spec.selector === undefined || svc.metadata.deletionTimestamp !== undefined) return
    const selector = LabelSelector.fromMap(spec.selector)
    const listed = state.list(Pods, namespace)
    const pods = Result.isSuccess(listed)
      ? listed.success.items.filter((p) => LabelSelector.matches(selector, p.metadata.labels))
      : []
    const withIP = pods.filter((p) => (p as PodView).status?.podIP !== undefined)
    const endpoints = withIP.map((p) => {
      const view = p as PodView
      const terminating = p.metadata.deletionTimestamp !== undefined
      const podReady = isPodReady(p)
      const serving = (view.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True")
      return {
        addresses: [view.status!.podIP!],
        conditions: {
          ready: spec.publishNotReadyAddresses === true ? true : podReady && !terminating,
          serving: spec.publishNotReadyAddresses === true ? true : serving,
          terminating
        },
        ...(view.spec?.hostname !== undefined && view.spec.subdomain === name ? { hostname: view.spec.hostname } : {}),
        ...(view.spec?.nodeName === undefined ? {} : { nodeName: view.spec.nodeName }),
        targetRef: { kind: "Pod", namespace, name: p.metadata.name, uid: p.metadata.uid! }
      }
    })
    const firstPod = pods[0] as PodView | undefined
    const ports = (spec.ports ?? []).map((port) => {
      let target = port.targetPort ?? port.port
      if (typeof target === "string") {
        const named = (firstPod?.spec?.containers ?? []).flatMap((c) => c.ports ?? []).find((p) => p.name === target)
        target = named?.containerPort ?? port.port
      }
      return { ...(port.name === undefined ? {} : { name: port.name }), port: target, protocol: port.protocol ?? "TCP" }
    })
    yield* kube.apply(
      EndpointSlices,
      {
        apiVersion: "discovery.k8s.io/v1",
        kind: "EndpointSlice",
        metadata: {
          name: sliceName(name),
          namespace,
          labels: {
            [ServiceNameLabel]: name,
            "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"
          },
          ownerReferences: [
            {
              apiVersion: "v1",
              kind: "Service",
              name,
              uid: svc.metadata.uid!,
              controller: true,
              blockOwnerDeletion: true
            }
          ]
        },
        addressType: "IPv4",
        endpoints,
        ports
      },
      { fieldManager: manager, force: true }
    )
  })

  /** Services concerned by a change: the Service itself, or every Service in a changed pod's namespace. */
  const keysFor = (object: KubeObject): ReadonlyArray<string> => {
    if (object.kind === "Service") return [`${object.metadata.namespace}/${object.metadata.name}`]
    if (object.kind !== "Pod") return []
    const listed = state.list(Services, object.metadata.namespace)
    if (Result.isFailure(listed)) return []
    return listed.success.items.map((s) => `${s.metadata.namespace}/${s.metadata.name}`)
  }

  return { reconcile, keysFor }
}
