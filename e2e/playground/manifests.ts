// What the playground creates in its namespace: the admin Secret the DoltDB requires (`<name>-credentials`), a
// 3-replica DoltDB, a Database, a User with its password Secret and a Grant of every privilege on that database.
// Passwords are random per playground and printed once to the person who started it.
import { randomBytes } from "node:crypto"

export const API = "k8s.dolthub.com/v1alpha"
export const NAME = "playground"
export const NAMESPACE = "playground"
export const DATABASE = "app"
export const APP_USER = "app"
export const ADMIN_USER = "admin"

const password = () => randomBytes(12).toString("base64url")

export interface Credentials {
  readonly adminPassword: string
  readonly appPassword: string
}

export const newCredentials = (): Credentials => ({ adminPassword: password(), appPassword: password() })

export const objects = (engineVersion: string, c: Credentials) => {
  const ref = { name: NAME }
  return {
    namespace: { apiVersion: "v1", kind: "Namespace", metadata: { name: NAMESPACE } },
    secrets: [
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: `${NAME}-credentials`, namespace: NAMESPACE },
        stringData: { "admin-user": ADMIN_USER, "admin-password": c.adminPassword }
      },
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: `${APP_USER}-password`, namespace: NAMESPACE, labels: { "k8s.dolthub.com/watch": "" } },
        stringData: { password: c.appPassword }
      }
    ],
    doltdb: {
      apiVersion: API,
      kind: "DoltDB",
      metadata: { name: NAME, namespace: NAMESPACE },
      spec: { engineVersion, replicas: 3, storage: { size: "1Gi" }, replication: { enabled: true } }
    },
    database: {
      apiVersion: API,
      kind: "Database",
      metadata: { name: DATABASE, namespace: NAMESPACE },
      spec: { doltDBRef: ref, name: DATABASE }
    },
    user: {
      apiVersion: API,
      kind: "User",
      metadata: { name: APP_USER, namespace: NAMESPACE },
      spec: {
        doltDBRef: ref,
        name: APP_USER,
        host: "%",
        passwordSecretKeyRef: { name: `${APP_USER}-password`, key: "password" }
      }
    },
    grant: {
      apiVersion: API,
      kind: "Grant",
      metadata: { name: `${APP_USER}-all`, namespace: NAMESPACE },
      spec: {
        doltDBRef: ref,
        privileges: ["ALL PRIVILEGES"],
        database: DATABASE,
        table: "*",
        username: APP_USER,
        host: "%"
      }
    }
  }
}
